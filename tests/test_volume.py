"""Volume: hundreds of handouts in one build and a personalised merge of over a hundred
recipients finish, every one made, in bounded memory. (The 2,000-article build and the
runs of 1,000 and 10,000 recipients are measured by hand: benchmarks/volume.py, benchmarks/mail.py.)"""

from __future__ import annotations

import email
import email.policy
import os
import resource
import subprocess
import sys

from conftest import write
from pypdf import PdfReader

# Two workers and the build typeset short handouts in far less; the old pool's
# leak of composed messages or of workers would pass it.
PEAK_MB = 1024


def peak_child_memory_mb() -> float:
    """The largest resident set any finished child process of the tests reached (KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def handout(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "HANDOUT_MAIL_FROM": "Clinic <news@clinic.example>"})


def test_five_hundred_short_articles_in_one_build(project):
    for n in range(500):
        write(project / "content" / f"note-{n:03}.md", f"# Note {n}\n\nThe clinic is open on weekday {n}.\n")
    built = handout("build", "--jobs", "2", "--quiet")
    assert built.returncode == 0, built.stderr[-2000:]
    assert "500 of 500 handouts built into output/ (0 failed" in built.stdout
    pdfs = sorted((project / "output").glob("*.pdf"))
    assert len(pdfs) == 500
    assert "weekday 499." in PdfReader(pdfs[-1]).pages[0].extract_text()
    assert peak_child_memory_mb() < PEAK_MB
    again = handout("build", "--quiet")
    assert "500 of 500 handouts built into output/ (500 unchanged, 0 failed" in again.stdout


def test_a_personal_merge_of_120_recipients(project):
    write(project / "content" / "letter.md", "---\ntitle: Your appointment\n---\n"
          "Dear {{ recipient.name }}, your appointment is on {{ recipient.day }}.\n")
    write(project / "message.md", '---\nsubject: "For {{ name }}"\n---\nDear {{ name }}, your letter is attached.\n')
    rows = "".join(f"Person {n},person{n}@example.org,day {n}\n" for n in range(120))
    (project / "people.csv").write_text("name,email,day\n" + rows, encoding="utf-8")
    merged = handout("mail", "people.csv", "--article", "content/letter.md", "--message", "message.md", "--jobs", "2")
    assert merged.returncode == 0, merged.stderr[-2000:]
    outbox = sorted((project / "output" / "outbox").glob("*.eml"))
    assert len(outbox) == 120
    last = email.message_from_bytes(outbox[-1].read_bytes(), policy=email.policy.default)
    attachment = next(last.iter_attachments()).get_content()
    (project / "last.pdf").write_bytes(attachment)
    recipient = int(last["To"].split("person")[1].split("@")[0])
    assert f"your appointment is on day {recipient}." in PdfReader(project / "last.pdf").pages[0].extract_text()
    assert peak_child_memory_mb() < PEAK_MB
    # No recipient's copy is left behind in the project.
    assert sorted(p.name for p in (project / "content").iterdir()) == ["letter.md"]
