"""Time and peak memory of a mail merge's dry run: a 1.5 MB handout to 2,000 recipients.

Run by hand from the repository root, in the environment handout is installed in:

    python benchmarks/mail.py [--recipients 2000] [--megabytes 1.5]

It makes a project in a temporary folder: an article whose image (random
pixels, which no compression shrinks) makes a handout of about the size asked
for, a CSV of that many recipients and a message; then it runs
`python -m generator mail` (a dry run, into output/outbox/) and prints the wall
time and the peak resident memory of that process. The handout is built by the
run too, as a user's first `handout mail` would. To measure other code, put it
first on PYTHONPATH. Nothing here is a test: figures vary by machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent


def make_project(folder: Path, recipients: int, megabytes: float) -> None:
    (folder / "content").mkdir()
    # Three bytes a pixel, uncompressible: the PDF is about as large as the pixels.
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(folder / "content" / "noise.png")
    (folder / "content" / "handout.md").write_text(
        "---\ntitle: Noise\ndate: 2024-05-01\n---\nA picture of noise, to make the handout large.\n\n"
        "![noise](noise.png)\n", encoding="utf-8")
    (folder / "message.md").write_text(
        '---\nsubject: "Your handout, {{ name }}"\n---\nDear {{ name }},\n\nHere is the **handout**.\n',
        encoding="utf-8")
    rows = "".join(f"Person {n},person{n}@example.org\n" for n in range(recipients))
    (folder / "people.csv").write_text("name,email\n" + rows, encoding="utf-8")
    # Room for every message: the budget is not what is measured.
    (folder / "handout.toml").write_text('[mail]\nfrom = "Clinic <news@example.org>"\nmax_size_mb = 50\n',
                                         encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--megabytes", type=float, default=1.5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="handout-mail-bench-") as folder:
        project = Path(folder)
        make_project(project, arguments.recipients, arguments.megabytes)
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [os.environ.get("PYTHONPATH"), str(REPO)]))}
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "generator", "mail", "people.csv", "--article",
                                 "content/handout.md", "--message", "message.md"],
                                cwd=project, env=environment, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        # ru_maxrss of the children: the largest resident set the run reached, in KiB on Linux.
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if result.returncode:
            sys.exit(f"handout mail failed:\n{result.stderr}")
        handout = next((project / "output").glob("*.pdf"))
        print(result.stdout.splitlines()[0])
        print(f"handout {handout.stat().st_size / 1024 / 1024:.2f} MB, {arguments.recipients} recipients:"
              f" {seconds:.1f} s, peak memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
