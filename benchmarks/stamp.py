"""Personalised handouts: stamped (typeset once) against a full build for each recipient.

Run by hand from the repository root, in the environment handout is installed in:

    python benchmarks/stamp.py [--recipients 1000] [--sample 20] [--large 10000]

It makes a project in a temporary folder with the sample article and a
`personal: "Prepared for {{ recipient.name }}, {{ recipient.group }}"` line,
then runs dry runs of `python -m generator mail` (into output/outbox/):
  1. the article with the line: each recipient's line stamped onto one typesetting;
  2. the same line written in the article's text as well, for --sample recipients:
     a full build for each;
  3. stamped again for --large recipients, for the peak memory.
It prints the time per recipient, the peak resident memory of each run and the
outbox's size, and the ratios against the targets (stamped at least 20x faster
per recipient; 10,000 recipients at most 1.5x the peak memory of 1,000).
Nothing here is a test: figures vary by machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "content" / "000_22cf51892c953b2a.txt"
PERSONAL = 'personal: "Prepared for {{ recipient.name }}, {{ recipient.group }}"'
NAMES = ("Ana Ruiz", "Bo Lee", "张伟", "مريم حداد", "Ιωάννα Παππά", "Søren Østergaard", "Priya Sharma", "Nguyễn Văn An")


def make_project(folder: Path, recipients: int) -> None:
    (folder / "content").mkdir(parents=True)
    body = SAMPLE.read_text(encoding="utf-8")
    (folder / "content" / "stamped.txt").write_text(f"---\n{PERSONAL}\n---\n{body}", encoding="utf-8")
    # The same line, and the recipient's name in the text too: the full-build path.
    (folder / "content" / "full.txt").write_text(
        f"---\n{PERSONAL}\n---\nFor {{{{ recipient.name }}}}.\n\n{body}", encoding="utf-8")
    (folder / "message.md").write_text(
        '---\nsubject: "Your handout, {{ name }}"\n---\nDear {{ name }},\n\nHere is the **handout**.\n',
        encoding="utf-8")
    rows = "".join(f"{NAMES[n % len(NAMES)]} {n},person{n}@example.org,Group {n % 7}\n" for n in range(recipients))
    (folder / "people.csv").write_text("name,email,group\n" + rows, encoding="utf-8")
    (folder / "handout.toml").write_text('[mail]\nfrom = "Clinic <news@example.org>"\n', encoding="utf-8")


def dry_run(project: Path, article: str, recipients: int) -> tuple[float, float, float]:
    """(seconds, peak MB, outbox MB) of one dry run in a fresh process."""
    shutil.rmtree(project, ignore_errors=True)
    make_project(project, recipients)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"),
                                                                                str(REPO)]))}
    # A child of its own, so ru_maxrss of the children is this run's alone.
    command = [sys.executable, "-c", "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True);"
               " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
               sys.executable, "-m", "generator", "mail", "people.csv", "--article", f"content/{article}",
               "--message", "message.md"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode:
        sys.exit(f"handout mail failed:\n{result.stderr}")
    peak = int(result.stdout.split()[-1]) / 1024
    outbox = sum(p.stat().st_size for p in (project / "output" / "outbox").glob("*.eml")) / 1024 / 1024
    return seconds, peak, outbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=20, help="recipients built in full, for comparison")
    parser.add_argument("--large", type=int, default=10000, help="recipients of the memory run (0: none)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="handout-stamp-bench-") as folder:
        project = Path(folder) / "project"
        dry_run(project, "stamped.txt", 2)  # the fonts' cache, made once, outside the figures
        stamped = dry_run(project, "stamped.txt", arguments.recipients)
        full = dry_run(project, "full.txt", arguments.sample)
        per_stamped, per_full = stamped[0] / arguments.recipients, full[0] / arguments.sample
        print(f"stamped: {arguments.recipients} recipients in {stamped[0]:.1f} s ({per_stamped * 1000:.1f} ms each),"
              f" peak {stamped[1]:.0f} MB, outbox {stamped[2]:.1f} MB")
        print(f"full builds: {arguments.sample} recipients in {full[0]:.1f} s ({per_full * 1000:.0f} ms each),"
              f" peak {full[1]:.0f} MB, outbox {full[2]:.1f} MB")
        print(f"stamped is {per_full / per_stamped:.1f}x faster per recipient (target: at least 20x)")
        if arguments.large:
            large = dry_run(project, "stamped.txt", arguments.large)
            print(f"stamped: {arguments.large} recipients in {large[0]:.1f} s, peak {large[1]:.0f} MB, outbox"
                  f" {large[2]:.1f} MB: {large[1] / stamped[1]:.2f}x the peak of {arguments.recipients}"
                  " (target: at most 1.5x)")


if __name__ == "__main__":
    main()
