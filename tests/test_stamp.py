"""`handout mail` stamping each recipient's `personal:` line onto one typesetting of the article."""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import time

import pytest
from conftest import REPO, page_texts, run, write
from pypdf import PdfReader

PEOPLE = ("name,email,group,password\nAna Ruiz,ana@example.org,Tuesday group,\n"
          "张伟,zhang@example.org,周二,\nمريم,maryam@example.org,الثلاثاء,s3cr3t-ü\n")
PERSONAL = 'personal: "Prepared for {{ recipient.name }}, {{ recipient.group }}"'


@pytest.fixture
def stamping(project):
    shutil.copy(REPO / "content" / "hand-hygiene.md", project / "content")
    shutil.copytree(REPO / "content" / "images", project / "content" / "images")
    article = (project / "content" / "hand-hygiene.md").read_text(encoding="utf-8")
    write(project / "content" / "personal.md", article.replace("---\n", f"---\n{PERSONAL}\n", 1))
    write(project / "message.md", '---\nsubject: "Your handout, {{ name }}"\n---\nDear {{ name }},\n')
    (project / "people.csv").write_text(PEOPLE, encoding="utf-8")
    return project


def outbox_pdfs(folder) -> list[bytes]:
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in sorted(folder.glob("*.eml"))]
    return [next(m.iter_attachments()).get_content() for m in messages]


def full_build(project, name: str, line: str):
    """The article filled in for one recipient and built in full, as the other path does."""
    text = (project / "content" / "personal.md").read_text(encoding="utf-8")
    write(project / "full" / f"{name}.md", text.replace(PERSONAL, f'personal: "{line}"'))
    shutil.copytree(project / "content" / "images", project / "full" / "images", dirs_exist_ok=True)
    result = run("build", "full", "-o", "full-output")
    assert result.exit_code == 0, result.output
    return project / "full-output" / f"{name}.pdf"


def test_stamped_handouts_read_as_full_builds(stamping):
    result = run("mail", "people.csv", "--article", "content/personal.md", "--message", "message.md")
    assert result.exit_code == 0, result.output
    assert "typeset once, each recipient's personal line stamped onto it (3 recipients)" in result.stderr
    pdfs = outbox_pdfs(stamping / "output" / "outbox")
    lines = ["Prepared for Ana Ruiz, Tuesday group", "Prepared for 张伟, 周二"]
    for number, (pdf, line) in enumerate(zip(pdfs, lines, strict=False)):
        stamped = stamping / f"stamped-{number}.pdf"
        stamped.write_bytes(pdf)
        full = full_build(stamping, f"r{number}", line)
        assert page_texts(stamped) == page_texts(full)
        assert page_texts(stamped)[0].startswith(line)
        mine, theirs = PdfReader(stamped), PdfReader(full)
        assert mine.metadata.title == theirs.metadata.title == "Clean hands save lives"
        assert [o["/Title"] for o in mine.outline if isinstance(o, dict)] == \
               [o["/Title"] for o in theirs.outline if isinstance(o, dict)]
        assert places(stamped, line) == places(full, line)
    # The shared handout prints no line, and the stamped one passes handout check.
    assert "Prepared for" not in page_texts(stamping / "output" / "personal.pdf")[0]
    (stamping / "output" / "personal.pdf").write_bytes(pdfs[1])
    checked = run("check", "content/personal.md")
    assert checked.exit_code == 0, checked.output


@pytest.mark.parametrize("theme", ["large-print", "tufte", "two-column"])
def test_each_built_in_theme_stamps_the_line_where_a_full_build_prints_it(stamping, theme):
    text = (stamping / "content" / "personal.md").read_text(encoding="utf-8")
    write(stamping / "content" / "personal.md", text.replace("---\n", f"---\ntheme: {theme}\n", 1))
    (stamping / "people.csv").write_text("name,email,group\nAna Ruiz,ana@example.org,Tuesday group\n",
                                         encoding="utf-8")
    result = run("mail", "people.csv", "--article", "content/personal.md", "--message", "message.md")
    assert result.exit_code == 0, result.output
    (pdf,) = outbox_pdfs(stamping / "output" / "outbox")
    stamped = stamping / "stamped.pdf"
    stamped.write_bytes(pdf)
    line = "Prepared for Ana Ruiz, Tuesday group"
    full = full_build(stamping, "r", line)
    assert page_texts(stamped) == page_texts(full)
    assert places(stamped, line) == places(full, line) and places(full, line)


def places(pdf, line: str) -> list[tuple[str, int, int]]:
    """Where the first page prints the words of `line`, rounded to points, as poppler reads it
    (through the forms a page draws, with their matrices)."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                          text=True, timeout=60, check=True).stdout
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', html)
    return [(word, round(float(x)), round(float(y))) for x, y, word in words if word in line.split()]


def test_a_password_column_encrypts_that_recipients_handout(stamping):
    result = run("mail", "people.csv", "--article", "content/personal.md", "--message", "message.md")
    assert result.exit_code == 0, result.output
    pdfs = outbox_pdfs(stamping / "output" / "outbox")
    assert [PdfReader(io.BytesIO(pdf)).is_encrypted for pdf in pdfs] == [False, False, True]
    locked = PdfReader(io.BytesIO(pdfs[2]))
    assert not locked.decrypt("wrong")
    with pytest.raises(Exception, match="(?i)decrypt|password"):
        locked.pages[0].extract_text()
    opened = PdfReader(io.BytesIO(pdfs[2]), password="s3cr3t-ü")
    assert (opened.trailer["/Encrypt"]["/V"], opened.trailer["/Encrypt"]["/R"]) == (5, 6)  # AES-256
    first_line = opened.pages[0].extract_text().splitlines()[0]
    assert first_line.startswith("Prepared for") and "مريم" in first_line


def test_an_article_that_uses_recipient_fields_in_its_text_is_built_for_each(stamping):
    write(stamping / "content" / "plan.md", f"---\ntitle: Plan\n{PERSONAL}\n---\nDear {{{{ recipient.name }}}}.\n")
    result = run("mail", "people.csv", "--article", "content/plan.md", "--message", "message.md")
    assert result.exit_code == 0, result.output
    assert "recipient fields in its text: a full build for each of the 3 recipients" in result.stderr
    first = stamping / "first.pdf"
    first.write_bytes(outbox_pdfs(stamping / "output" / "outbox")[0])
    assert page_texts(first)[0].startswith("Prepared for Ana Ruiz, Tuesday group")
    assert "Dear Ana Ruiz." in page_texts(first)[0]


def test_a_plain_build_leaves_the_personal_area_empty(stamping):
    assert run("build", "content/personal.md").exit_code == 0
    assert "recipient" not in page_texts(stamping / "output" / "personal.pdf")[0]


def test_stamped_handouts_are_sent_once_and_logged_with_the_bytes_sent(stamping, monkeypatch):
    from aiosmtpd.controller import Controller
    from test_mail import Recorder, free_port  # the suite's SMTP server

    recorder, port = Recorder(), free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for name, value in {"HANDOUT_SMTP_HOST": "127.0.0.1", "HANDOUT_SMTP_PORT": str(port),
                            "HANDOUT_SMTP_SECURITY": "none", "HANDOUT_MAIL_FROM": "news@clinic.example"}.items():
            monkeypatch.setenv(name, value)
        write(stamping / "handout.toml", "[mail]\nrate_per_minute = 6000\nbackoff_seconds = 0.01\n")
        mail = ("mail", "people.csv", "--article", "content/personal.md", "--message", "message.md", "--send")
        recorder.fail_after = 1  # the server gives up after the first: a run stopped halfway
        assert "1 sent" in run(*mail).stdout
        recorder.fail_after = None
        again = run(*mail)
        assert "2 sent, 1 already sent before, 0 failed" in again.stdout, again.output
        assert "0 sent, 3 already sent before, 0 failed" in run(*mail).stdout  # nothing changed, nothing resent
        assert sorted(rcpt[0] for rcpt, _ in recorder.messages) == [
            "ana@example.org", "maryam@example.org", "zhang@example.org"]
    finally:
        controller.stop()
    log = [json.loads(line) for line in (stamping / "output" / "mail-log.jsonl").read_text().splitlines()]
    sent = [next(email.message_from_bytes(content, policy=email.policy.default).iter_attachments()).get_content()
            for _, content in recorder.messages]
    assert [e["attachment_sha256"] for e in log if e["status"] == "sent"] == \
           [hashlib.sha256(pdf).hexdigest() for pdf in sent]


def test_a_stamped_handout_is_the_shared_pdf_and_an_update_that_every_reader_opens(stamping):
    # Each recipient's PDF is the shared bytes, unchanged, with their first page appended as an
    # incremental update: not the whole document cloned and written again for each recipient.
    result = run("mail", "people.csv", "--article", "content/personal.md", "--message", "message.md")
    assert result.exit_code == 0, result.output
    shared = (stamping / "output" / "personal.pdf").read_bytes()
    pdfs = outbox_pdfs(stamping / "output" / "outbox")
    for number, pdf in enumerate(pdfs[:2]):
        assert pdf.startswith(shared) and len(pdf) > len(shared)
        stamped = stamping / f"stamped-{number}.pdf"
        stamped.write_bytes(pdf)
        checked = subprocess.run(["qpdf", "--check", str(stamped)], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        text = subprocess.run(["pdftotext", "-layout", str(stamped), "-"], capture_output=True, text=True,
                              timeout=60).stdout
        assert text.lstrip().startswith(["Prepared for Ana Ruiz, Tuesday group", "Prepared for 张伟, 周二"][number])
        reader = PdfReader(stamped)
        assert len(reader.pages) == len(PdfReader(io.BytesIO(shared)).pages)
        # The stamp's fonts come with it: every font the first page names is embedded.
        fonts = reader.pages[0]["/Resources"]["/Font"]
        assert all("/FontFile2" in font["/DescendantFonts"][0]["/FontDescriptor"] for font in fonts.values())
    # Two recipients' copies are told apart by the second part of their /ID, the same document by the first.
    first, second = (PdfReader(io.BytesIO(pdf)).trailer["/ID"] for pdf in pdfs[:2])
    assert first[0] == second[0] and first[1] != second[1]


def test_personal_lines_that_typeset_past_the_time_limit_are_stopped_naming_the_recipients_file(stamping):
    # The recipients' lines are text from outside: typeset under the same limit as a handout.
    # A theme whose stamps typeset for ever stands in for a line that would.
    write(stamping / "themes" / "slow" / "theme.toml", 'parent = "handout"\n')
    write(stamping / "themes" / "slow" / "stamps.html", '{% for line in lines %}<table>{% for row in range(600) %}'
          '<tr>{% for cell in range(8) %}<td>{{ line }}</td>{% endfor %}</tr>{% endfor %}</table>{% endfor %}\n')
    write(stamping / "content" / "short.md", f"---\ntitle: Short\ntheme: slow\n{PERSONAL}\n---\nA short text.\n")
    write(stamping / "handout.toml", "[limits]\nrender_seconds = 2\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "generator", "mail", "people.csv", "--article", "content/short.md",
                           "--message", "message.md"], capture_output=True, text=True, timeout=90)
    assert time.monotonic() - started < 60
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "people.csv: error: rows 2-4: their personal lines (content/short.md): typesetting took longer than"
        " 2 s and was stopped ([limits] render_seconds in handout.toml); nothing was sent")
    assert "Traceback" not in done.stderr
    assert not (stamping / "output" / "outbox").exists()


def test_a_theme_whose_stamps_do_not_draw_each_line_apart_is_named(stamping):
    # Lines on a page each (as stamps.html had them once) or all in one drawing: none can be cut out alone.
    write(stamping / "themes" / "flat" / "theme.toml", 'parent = "handout"\n')
    write(stamping / "themes" / "flat" / "stamps.html", '{% for line in lines %}<p style="break-after: page">'
          '{{ line }}</p>{% endfor %}\n')
    write(stamping / "content" / "short.md", f"---\ntitle: Short\ntheme: flat\n{PERSONAL}\n---\nA short text.\n")
    result = run("mail", "people.csv", "--article", "content/short.md", "--message", "message.md")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "themes/flat/stamps.html: error: 0 lines drawn apart for 3 personal lines; the theme's stamps.html must"
        " print each line in an element of its own whose opacity is below 1, and nothing else; nothing was sent")


def test_a_long_list_has_its_messages_made_by_workers_in_the_order_of_the_rows(stamping, monkeypatch):
    # More recipients than one worker's share: the messages are made in several processes
    # and written in the order of the rows, each with its own recipient's handout and the date
    # the build's environment gives (a worker may come from a fork server started before).
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    names = [f"Person {n}" for n in range(25)]
    (stamping / "people.csv").write_text(
        "name,email,group\n" + "".join(f"{name},p{n}@example.org,Group {n}\n" for n, name in enumerate(names)),
        encoding="utf-8")
    result = run("mail", "people.csv", "--article", "content/personal.md", "--message", "message.md", "--jobs", "2")
    assert result.exit_code == 0, result.output
    outbox = sorted((stamping / "output" / "outbox").glob("*.eml"))
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox]
    assert [m["To"].addresses[0].addr_spec for m in messages] == [f"p{n}@example.org" for n in range(25)]
    assert {m["Date"] for m in messages} == {"Tue, 14 Nov 2023 22:13:20 -0000"}
    for n in (0, 11, 24):
        stamped = stamping / f"stamped-{n}.pdf"
        stamped.write_bytes(next(messages[n].iter_attachments()).get_content())
        assert page_texts(stamped)[0].startswith(f"Prepared for Person {n}, Group {n}\n")
