"""Worker processes: a batch never hangs, a dead worker loses one job, and
nothing runs on after the build that started it is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from generator import pool


def double(n: int) -> int:
    if n == 13:
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    return 2 * n


def nothing(setup) -> None:
    pass


def lost(job, why: str) -> str:
    return f"lost: {why}"


def test_workers_are_replaced_without_losing_the_pool():
    # 2 workers x 3 jobs each, 20 jobs: six generations of workers.
    results = dict(pool.run({n: n for n in range(20)}, double, nothing, None, 2, 3, lost))
    assert sorted(results) == list(range(20))
    assert results[13].startswith("lost: the process typesetting it was stopped by SIGKILL")
    assert all(results[n] == 2 * n for n in range(20) if n != 13)


def test_a_batch_of_more_than_fifty_finishes(project):
    # 2 workers x 25 handouts each used to stop the batch after 50 (ProcessPoolExecutor with
    # max_tasks_per_child): the build waited forever. A hang fails the test, not CI.
    for n in range(53):
        (project / "content" / f"a{n:02}.md").write_text(f"Line {n}.\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "generator", "build", "--jobs", "2"], capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "53 of 53 handouts built" in done.stdout
    assert len(list((project / "output").glob("*.pdf"))) == 53


def session_processes(session: int) -> list[int]:
    """The processes of a session (a build and everything it started), read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def test_workers_die_with_a_killed_build(project):
    for n in range(30):
        (project / "content" / f"a{n:02}.md").write_text(f"Line {n}.\n\n" + "Some words. " * 2000, encoding="utf-8")
    build = subprocess.Popen([sys.executable, "-m", "generator", "build", "--jobs", "2"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list((project / "output").glob("*.pdf")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(session_processes(build.pid)) >= 3  # the build, the fork server, workers
        build.kill()
        build.wait()
        deadline = time.monotonic() + 10
        while session_processes(build.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert session_processes(build.pid) == []
    finally:
        for pid in session_processes(build.pid):
            os.kill(pid, signal.SIGKILL)
