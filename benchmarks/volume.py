"""Time and peak memory of a build of many short articles: the batch must finish, whatever its size.

Run by hand from the repository root, in the environment handout is installed in
(with the bench extra: pip install '.[bench]'):

    python benchmarks/volume.py [--articles 2000] [--jobs N]

It makes a project of that many short articles (a title, two paragraphs and a
list each) in a temporary folder, runs `python -m generator build` on it, and
prints the wall time, the handouts built, and the peak memory of all the
build's processes together (the build, its fork server and its workers),
sampled every 0.2 s. Then it runs the build again and prints the no-op
rebuild's time. Nothing here is a test: figures vary by machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent


def make_project(folder: Path, articles: int) -> None:
    (folder / "content").mkdir()
    for n in range(articles):
        (folder / "content" / f"note-{n:05}.md").write_text(
            f"---\ntitle: Clinic note {n}\n---\nThe clinic is open from 8 to 6 on weekdays. Bring your card "
            f"and a list of your medicines to appointment {n}.\n\n- Wash your hands\n- Wear a mask if you cough\n\n"
            "Call us if you cannot come, so another patient can have the time.\n", encoding="utf-8")


def measured(command: list[str], cwd: Path, environment: dict) -> tuple[subprocess.CompletedProcess, float, float]:
    """The finished command, its wall time and the peak resident memory of its process tree in MB."""
    started = time.perf_counter()
    process = psutil.Popen(command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                tree = [process, *process.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()) / 1024 / 1024)
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    done.set()
    sampler.join()
    return subprocess.CompletedProcess(command, process.returncode, out, err), time.perf_counter() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--jobs", type=int)
    arguments = parser.parse_args()
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(REPO)]))}
    jobs = ["--jobs", str(arguments.jobs)] if arguments.jobs else []
    with tempfile.TemporaryDirectory(prefix="handout-volume-") as folder:
        project = Path(folder)
        make_project(project, arguments.articles)
        command = [sys.executable, "-m", "generator", "build", "--quiet", *jobs]
        result, seconds, peak = measured(command, project, environment)
        if result.returncode:
            sys.exit(f"handout build failed:\n{result.stderr[-2000:]}")
        built = len(list((project / "output").glob("*.pdf")))
        print(result.stdout.strip().splitlines()[-1])
        print(f"{arguments.articles} articles: {built} PDFs in {seconds:.1f} s"
              f" ({seconds / max(built, 1) * 1000:.0f} ms each), peak memory of all processes {peak:.0f} MB")
        _, again, _ = measured(command, project, environment)
        print(f"no-op rebuild: {again:.2f} s")


if __name__ == "__main__":
    main()
