"""Mail merge at scale: personalised handouts stamped onto one typesetting, against full builds.

Run by hand from the repository root, in the environment handout is installed in:

    python benchmarks/mail.py [--recipients 1000] [--sample 20] [--large 10000]
    python benchmarks/mail.py --handout-mb 1.5 [--recipients 2000]

It makes a project in a temporary folder with the sample article and a
`personal: "Prepared for {{ recipient.name }}, {{ recipient.group }}"` line,
recipients whose names are in eight scripts, and a message; then it runs dry
runs of `python -m generator mail` (into output/outbox/), each in a fresh
process, as a user's would run, building the handout too:
  1. --recipients recipients: each recipient's line stamped onto one typesetting;
  2. the same line written in the article's text as well, for --sample of them and
     for three times as many: a full build for each (as many workers as cores, as
     the stamped run has). A run's start (workers, fonts, the article) is paid once,
     so a sample's time a recipient overstates a full build's: the two samples give
     the time each further recipient adds, and from it the time --recipients full
     builds would take, which the stamped run's time is compared with;
  3. stamped again for --large recipients, for the peak memory.
It prints the time per recipient, the peak resident memory of the largest
process of each run and the outbox's size, and the ratios against the issue's
targets: stamped at least 20x faster per recipient than a full build; 10,000
recipients at most 1.5x the peak memory of 1,000.

With --handout-mb it measures instead one handout of about that size (an image
of random pixels, which no compression shrinks) sent to all --recipients: the
email package encoding that many large attachments, and memory flat in their
number. To measure other code, put it first on PYTHONPATH. Nothing here is a
test: figures vary by machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "content" / "000_22cf51892c953b2a.txt"
PERSONAL = 'personal: "Prepared for {{ recipient.name }}, {{ recipient.group }}"'
NAMES = ("Ana Ruiz", "Bo Lee", "张伟", "مريم حداد", "Ιωάννα Παππά", "Søren Østergaard", "Priya Sharma", "Nguyễn Văn An")
MESSAGE = '---\nsubject: "Your handout, {{ name }}"\n---\nDear {{ name }},\n\nHere is the **handout**.\n'


@dataclass(frozen=True)
class Run:
    recipients: int
    seconds: float
    peak_mb: float  # of the largest process of the run
    outbox_mb: float
    how: str  # what handout mail said it did

    @property
    def per_recipient_ms(self) -> float:
        return self.seconds / self.recipients * 1000

    def line(self, name: str) -> str:
        return (f"{name}: {self.recipients} recipients in {self.seconds:.1f} s ({self.per_recipient_ms:.1f} ms each),"
                f" peak {self.peak_mb:.0f} MB, outbox {self.outbox_mb:.1f} MB")


def personal_project(folder: Path, recipients: int) -> None:
    (folder / "content").mkdir(parents=True)
    body = SAMPLE.read_text(encoding="utf-8")
    (folder / "content" / "stamped.txt").write_text(f"---\n{PERSONAL}\n---\n{body}", encoding="utf-8")
    # The same line, and the recipient's name in the text too: the full-build path.
    (folder / "content" / "full.txt").write_text(
        f"---\n{PERSONAL}\n---\nFor {{{{ recipient.name }}}}.\n\n{body}", encoding="utf-8")
    (folder / "message.md").write_text(MESSAGE, encoding="utf-8")
    rows = "".join(f"{NAMES[n % len(NAMES)]} {n},person{n}@example.org,Group {n % 7}\n" for n in range(recipients))
    (folder / "people.csv").write_text("name,email,group\n" + rows, encoding="utf-8")
    (folder / "handout.toml").write_text('[mail]\nfrom = "Clinic <news@example.org>"\n', encoding="utf-8")


def large_handout_project(folder: Path, recipients: int, megabytes: float) -> None:
    from PIL import Image

    (folder / "content").mkdir(parents=True)
    # Three bytes a pixel, uncompressible: the PDF is about as large as the pixels.
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(folder / "content" / "noise.png")
    (folder / "content" / "handout.md").write_text(
        "---\ntitle: Noise\ndate: 2024-05-01\n---\nA picture of noise, to make the handout large.\n\n"
        "![noise](noise.png)\n", encoding="utf-8")
    (folder / "message.md").write_text(MESSAGE, encoding="utf-8")
    rows = "".join(f"Person {n},person{n}@example.org\n" for n in range(recipients))
    (folder / "people.csv").write_text("name,email\n" + rows, encoding="utf-8")
    # Room for every message: the budget is not what is measured.
    (folder / "handout.toml").write_text('[mail]\nfrom = "Clinic <news@example.org>"\nmax_size_mb = 50\n',
                                         encoding="utf-8")


def dry_run(project: Path, article: str, recipients: int) -> Run:
    """One dry run in a fresh process, and what it took."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"),
                                                                                str(REPO)]))}
    # A child of its own, so ru_maxrss of the children is this run's alone (in KiB on Linux).
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
    how = next((line for line in result.stderr.splitlines() if article in line and "recipients" in line), "")
    return Run(recipients, seconds, peak, outbox, how)


def personal(folder: Path, article: str, recipients: int) -> Run:
    project = folder / "project"
    shutil.rmtree(project, ignore_errors=True)
    personal_project(project, recipients)
    return dry_run(project, article, recipients)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=None, help="default 1000 (2000 with --handout-mb)")
    parser.add_argument("--sample", type=int, default=20, help="recipients built in full, for comparison")
    parser.add_argument("--large", type=int, default=10000, help="recipients of the memory run (0: none)")
    parser.add_argument("--handout-mb", type=float, default=0.0,
                        help="measure one handout of this size to all recipients instead")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="handout-mail-bench-") as folder:
        if arguments.handout_mb:
            recipients = arguments.recipients or 2000
            project = Path(folder) / "project"
            large_handout_project(project, recipients, arguments.handout_mb)
            run = dry_run(project, "handout.md", recipients)
            handout = next((project / "output").glob("*.pdf")).stat().st_size / 1024 / 1024
            print(run.line(f"one {handout:.2f} MB handout"))
            return
        recipients = arguments.recipients or 1000
        personal(Path(folder), "stamped.txt", 2)  # the fonts' cache, made once, outside the figures
        stamped = personal(Path(folder), "stamped.txt", recipients)
        full = personal(Path(folder), "full.txt", arguments.sample)
        more = personal(Path(folder), "full.txt", 3 * arguments.sample)
        each = (more.seconds - full.seconds) / (more.recipients - full.recipients)
        all_in_full = full.seconds + each * (recipients - full.recipients)
        print(stamped.how)
        print(stamped.line("stamped"))
        print(full.line("full builds"))
        print(more.line("full builds"))
        print(f"each further full build adds {each * 1000:.1f} ms: {recipients} in full would take"
              f" {all_in_full:.1f} s")
        print(f"stamped is {all_in_full / stamped.seconds:.1f}x faster for {recipients} recipients"
              " (target: at least 20x)")
        if arguments.large:
            large = personal(Path(folder), "stamped.txt", arguments.large)
            print(large.line("stamped"))
            print(f"{arguments.large} recipients took {large.peak_mb / stamped.peak_mb:.2f}x the peak memory of"
                  f" {recipients} (target: at most 1.5x)")


if __name__ == "__main__":
    main()
