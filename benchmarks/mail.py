"""Mail merge at scale: personalised handouts stamped onto one typesetting, against full builds.

Run by hand from the repository root, in the environment handout is installed in:

    python benchmarks/mail.py [--recipients 1000] [--sample 40] [--repeat 3] [--large 10000]
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
  3. the same two without the messages: each recipient's handout made as the dry run
     makes it, and nothing else (what the handouts alone cost, stamped or in full);
  4. stamped again for --large recipients, for the peak memory.
Each run of 1-3 is made --repeat times, in turn, and its median time taken (the
time a further full build adds is a difference of two runs: one run's noise is
a large part of it).
It prints the time per recipient, the peak resident memory of the largest
process of each run and the outbox's size, and the ratios against the issue's
targets: stamped at least 20x faster per recipient than a full build; 10,000
recipients at most 1.5x the peak memory of 1,000.

With --handout-mb it measures instead one handout of about that size (an image
of random pixels, which no compression shrinks) sent to all --recipients: the
email package encoding that many large attachments, and memory flat in their
number. To measure other code, put it first on PYTHONPATH. Nothing here is a
test: figures vary by machine. Run it on a quiet file system: for minutes after
thousands of files are deleted (as this benchmark's own projects are when it
ends), ext4 creates each new file several times as slowly, which slows a stamped
run of 1,000 by a fifth.
"""

from __future__ import annotations

import argparse
import os
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


# Each recipient's handout made as a dry run makes it, through the same API, and no message:
# what the handouts alone cost, stamped or built in full.
HANDOUTS_ONLY = """
import sys
from pathlib import Path
from generator.build import BuildOptions
from generator.config import load_config
from generator.mail import prepared
config = load_config(Path("."))
options = BuildOptions(project_dir=Path("."), output_dir=Path("output"), config=config)
with prepared(Path("people.csv"), Path(sys.argv[1]), Path("message.md"), config, options) as merge:
    for recipient in merge.recipients.rows:
        merge.handouts.handout(recipient)
"""


def dry_run(project: Path, article: str, recipients: int, handouts_only: bool = False) -> Run:
    """One dry run in a fresh process, and what it took; or, `handouts_only`, the same run's
    handouts made and no message."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"),
                                                                                str(REPO)]))}
    run = ([sys.executable, "-c", HANDOUTS_ONLY, f"content/{article}"] if handouts_only else
           [sys.executable, "-m", "generator", "mail", "people.csv", "--article", f"content/{article}",
            "--message", "message.md"])
    # A child of its own, so ru_maxrss of the children is this run's alone (in KiB on Linux).
    command = [sys.executable, "-c", "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True);"
               " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)", *run]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode:
        sys.exit(f"handout mail failed:\n{result.stderr}")
    peak = int(result.stdout.split()[-1]) / 1024
    outbox = sum(p.stat().st_size for p in (project / "output" / "outbox").glob("*.eml")) / 1024 / 1024
    how = next((line for line in result.stderr.splitlines() if article in line and "recipients" in line), "")
    return Run(recipients, seconds, peak, outbox, how)


def personal(folder: Path, article: str, recipients: int, handouts_only: bool = False) -> Run:
    """A run in a project of its own: a folder new to the file system, as a user's first run's is
    (creating files where thousands were just deleted costs ext4 more)."""
    project = Path(tempfile.mkdtemp(prefix="project-", dir=folder))
    personal_project(project, recipients)
    return dry_run(project, article, recipients, handouts_only)


def median(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]


def compared(folder: Path, recipients: int, sample: int, repeat: int,
             handouts_only: bool = False) -> tuple[Run, float]:
    """The stamped run of `recipients`, and the time `recipients` full builds would take: the
    time each further one adds (from `sample` and three times as many), after the first `sample`.
    Each of the three is run `repeat` times, in turn, and its median taken: one run's time varies
    by a tenth, and the time a further full build adds, a difference of two, by more."""
    runs: dict[str, list[Run]] = {"stamped": [], "full": [], "more": []}
    for _ in range(repeat):
        runs["stamped"].append(personal(folder, "stamped.txt", recipients, handouts_only))
        runs["full"].append(personal(folder, "full.txt", sample, handouts_only))
        runs["more"].append(personal(folder, "full.txt", 3 * sample, handouts_only))
    stamped, full, more = (median(runs[name]) for name in ("stamped", "full", "more"))
    each = (more.seconds - full.seconds) / (more.recipients - full.recipients)
    print(full.line("full builds"))
    print(more.line("full builds"))
    print(f"each further full build adds {each * 1000:.1f} ms: {recipients} in full would take"
          f" {full.seconds + each * (recipients - full.recipients):.1f} s")
    return stamped, full.seconds + each * (recipients - full.recipients)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=None, help="default 1000 (2000 with --handout-mb)")
    parser.add_argument("--sample", type=int, default=40, help="recipients built in full, for comparison")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each comparison, their median taken")
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
        stamped, all_in_full = compared(Path(folder), recipients, arguments.sample, arguments.repeat)
        print(stamped.how)
        print(stamped.line("stamped"))
        print(f"stamped is {all_in_full / stamped.seconds:.1f}x faster for {recipients} recipients"
              " (target: at least 20x)")
        print("The handouts alone, made as the dry run makes them, and no message:")
        alone, alone_in_full = compared(Path(folder), recipients, arguments.sample, arguments.repeat,
                                       handouts_only=True)
        print(alone.line("stamped"))
        print(f"the handouts alone: stamped is {alone_in_full / alone.seconds:.1f}x faster for {recipients}"
              " recipients")
        if arguments.large:
            large = personal(Path(folder), "stamped.txt", arguments.large)
            print(large.line("stamped"))
            print(f"{arguments.large} recipients took {large.peak_mb / stamped.peak_mb:.2f}x the peak memory of"
                  f" {recipients} (target: at most 1.5x)")


if __name__ == "__main__":
    main()
