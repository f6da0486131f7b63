"""Worker processes: a batch never hangs, a dead worker loses one job, and
nothing runs on after the build that started it is killed."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator import pool
from generator.errors import ThemeError


def double(state, n: int) -> int:
    if n == 13:
        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
    return 2 * n


def nothing(setup) -> None:
    pass


def lost(job, why: str) -> str:
    return f"lost: {why}"


def test_workers_are_replaced_without_losing_the_pool():
    # 2 workers x 3 jobs each, 20 jobs: six generations of workers.
    results = dict(pool.run({n: n for n in range(20)}, double, nothing, None, 2, 3, lost, overran=lost))
    assert sorted(results) == list(range(20))
    assert results[13].startswith("lost: the process typesetting it was stopped by SIGKILL")
    assert all(results[n] == 2 * n for n in range(20) if n != 13)


def dies(setup) -> None:
    os._exit(3)


def refuses(setup) -> None:
    raise ThemeError("no theme 'nope'")


def tenfold(setup: int) -> int:
    return 10 * setup


def plus_state(state: int, n: int) -> int:
    return state + n


def test_each_job_is_given_what_its_worker_set_up():
    results = dict(pool.run({n: n for n in range(4)}, plus_state, tenfold, 7, 2, 3, lost, overran=lost))
    assert results == {0: 70, 1: 71, 2: 72, 3: 73}


def test_workers_that_cannot_set_up_fail_the_jobs_or_the_build_without_hanging():
    results = dict(pool.run({n: n for n in range(5)}, double, dies, None, 2, 3, lost, overran=lost))
    assert sorted(results) == list(range(5))
    assert all(result.startswith("lost: the process typesetting it stopped (exit code 3)")
               for result in results.values())
    with pytest.raises(ThemeError, match="no theme 'nope'"):
        dict(pool.run({n: n for n in range(5)}, double, refuses, None, 2, 3, lost, overran=lost))


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


def killed_when(ready, *args: str, env: dict | None = None) -> list[int]:
    """Start `handout build ARGS` in a session of its own, kill it once ready(build) (or after
    two minutes), and return what of its session still runs 10 s later."""
    build = subprocess.Popen([sys.executable, "-m", "generator", "build", *args], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not ready(build) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(session_processes(build.pid)) >= 3  # the build and the processes it started
        build.kill()
        build.wait()
        deadline = time.monotonic() + 10
        while session_processes(build.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        return session_processes(build.pid)
    finally:
        for pid in session_processes(build.pid):
            os.kill(pid, signal.SIGKILL)


def test_a_first_build_killed_while_it_makes_the_fonts_leaves_nothing_running(project, tmp_path):
    (project / "content" / "a.md").write_text("Text.\n", encoding="utf-8")
    fresh = {**os.environ, "HANDOUT_CACHE_DIR": str(tmp_path / "cache")}  # fonts to make
    assert killed_when(lambda build: len(session_processes(build.pid)) >= 3, env=fresh) == []


def test_workers_die_with_a_killed_build(project):
    for n in range(30):
        (project / "content" / f"a{n:02}.md").write_text(f"Line {n}.\n\n" + "Some words. " * 2000, encoding="utf-8")
    # Killed once the fork server and its workers typeset.
    assert killed_when(lambda build: list((project / "output").glob("*.pdf")), "--jobs", "2") == []


def fork_server_workers(session: int) -> list[int]:
    """The workers of a session: the processes whose parent is a fork server of it."""
    def stat(pid: int) -> list[str]:
        with contextlib.suppress(OSError):
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return ["Z", "0"]

    def is_fork_server(pid: int) -> bool:
        with contextlib.suppress(OSError):
            return b"multiprocessing.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
        return False

    return [pid for pid in session_processes(session) if is_fork_server(int(stat(pid)[1]))]


FORKS_WHILE_IT_BUILDS = """\
import multiprocessing, threading, time
from pathlib import Path
from generator import build, BuildOptions

threading.Thread(target=build, args=([Path("content")], BuildOptions(output_dir=Path("output"), jobs=2)),
                 daemon=True).start()
while not list(Path("output").glob("*.pdf")):
    time.sleep(0.05)
# Its own work, in a process forked as multiprocessing does by default on Linux.
multiprocessing.get_context("fork").Process(target=time.sleep, args=(120,)).start()
Path("forked").touch()
time.sleep(120)
"""


def test_workers_die_with_a_killed_program_that_forked_while_it_built(project):
    # The forked child holds copies of the build's ends of the workers' pipes: the workers
    # never saw them close, and idled on for good once the program was killed.
    for n in range(30):
        (project / "content" / f"a{n:02}.md").write_text(f"Line {n}.\n\n" + "Some words. " * 2000, encoding="utf-8")
    (project / "script.py").write_text(FORKS_WHILE_IT_BUILDS, encoding="utf-8")
    program = subprocess.Popen([sys.executable, "script.py"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (project / "forked").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(fork_server_workers(program.pid)) == 2  # the build is still typesetting
        program.kill()
        program.wait()
        deadline = time.monotonic() + 10
        while fork_server_workers(program.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fork_server_workers(program.pid) == []
    finally:
        for pid in session_processes(program.pid):
            with contextlib.suppress(ProcessLookupError):  # a fork server may end as the child does
                os.kill(pid, signal.SIGKILL)


class SlowImageHandler(http.server.BaseHTTPRequestHandler):
    """An image sent a byte a second: every read of it is quick, the whole is endless."""

    def do_GET(self):  # noqa: N802 - the http.server protocol
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        with contextlib.suppress(OSError):
            for _ in range(120):
                self.wfile.write(b"\0")
                self.wfile.flush()
                time.sleep(1)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def build_in_subprocess(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", "build", *args], capture_output=True, text=True,
                          timeout=120)


def test_a_slow_image_cannot_keep_a_handout_past_its_time_limit(project, slow_server):
    # WeasyPrint's image loader swallows any exception, a timer's included: the build
    # used to wait for the image for a minute past a 3 s limit and call the handout built.
    (project / "content" / "slow.md").write_text(f"Text.\n\n![chart]({slow_server}/chart.png)\n", encoding="utf-8")
    (project / "content" / "quick.md").write_text("Quick.\n", encoding="utf-8")
    (project / "handout.toml").write_text("[limits]\nrender_seconds = 3\n", encoding="utf-8")
    started = time.monotonic()
    done = build_in_subprocess("--allow-remote", "--trust-network", "127.0.0.1/32")
    assert time.monotonic() - started < 60
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("content/slow.md: error: typesetting took longer than 3 s and was stopped "
            "([limits] render_seconds in handout.toml)") in done.stderr
    assert "content/quick.md -> output/quick.pdf" in done.stdout
    assert not (project / "output" / "slow.pdf").exists()
    assert not list((project / "output").glob(".*.tmp"))


def test_a_handout_past_its_time_limit_is_stopped_and_the_next_one_builds_whole(project):
    (project / "content" / "long.md").write_text("Many words in a long article. " * 40000 + "\n", encoding="utf-8")
    (project / "content" / "short.md").write_text("A short article in Noto Serif.\n", encoding="utf-8")
    (project / "handout.toml").write_text("[limits]\nrender_seconds = 2\n", encoding="utf-8")
    done = build_in_subprocess("--jobs", "1")
    assert done.returncode == 1
    assert "content/long.md: error: typesetting took longer than 2 s and was stopped" in done.stderr
    # The stopped worker's successor typesets with the theme's own fonts, not a fallback.
    fonts = {font["/BaseFont"] for page in PdfReader(project / "output" / "short.pdf").pages
             for font in page["/Resources"]["/Font"].values()}
    assert any("Noto-Serif" in str(name) for name in fonts), fonts


def test_ctrl_c_stops_a_build_with_a_summary_and_the_rerun_builds_the_rest(project):
    for n in range(40):
        (project / "content" / f"a{n:02}.md").write_text(f"Line {n}.\n\n" + "Some words. " * 3000, encoding="utf-8")
    build = subprocess.Popen([sys.executable, "-m", "generator", "build", "--jobs", "2"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list((project / "output").glob("*.pdf")) and time.monotonic() < deadline:
            time.sleep(0.05)
        build.send_signal(signal.SIGINT)
        out, err = build.communicate(timeout=60)
    finally:
        build.kill()
    assert build.returncode == 130, err
    assert "Stopped (Ctrl-C): " in err and "Run the same command again to build the rest." in err
    assert "Traceback" not in err
    made = len(list((project / "output").glob("*.pdf")))
    assert 0 < made < 40
    assert not list((project / "output").glob(".*.tmp"))
    rerun = build_in_subprocess()
    assert rerun.returncode == 0
    # A handout written as Ctrl-C came, before the manifest heard of it, is made again.
    unchanged = int(re.search(r"40 of 40 handouts built into output/ \((\d+) unchanged, 0 failed", rerun.stdout)[1])
    assert made - 1 <= unchanged <= made


def test_a_script_that_calls_build_without_a_main_guard_works(project):
    # As the README's Python API example is written: no `if __name__ == "__main__":`.
    (project / "content" / "a.md").write_text("First.\n", encoding="utf-8")
    (project / "content" / "b.md").write_text("Second.\n", encoding="utf-8")
    (project / "script.py").write_text(
        "from pathlib import Path\nfrom generator import build, BuildOptions\n\n"
        "results = build([Path('content')], BuildOptions(output_dir=Path('output'), jobs=2))\n"
        "print(sorted((r.source.name, r.status) for r in results))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "script.py"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[('a.md', 'built'), ('b.md', 'built')]" in done.stdout


def test_only_the_fork_server_ends_without_teardown():
    # The fork server ends with os._exit (server_exit.py); a process that merely imports the
    # module, as a test importing every module does, keeps its exit status.
    result = subprocess.run([sys.executable, "-c", "import generator.server_exit, sys; sys.exit(3)"])
    assert result.returncode == 3
