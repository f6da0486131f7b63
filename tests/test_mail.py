"""`handout mail` against a real SMTP server (aiosmtpd) on 127.0.0.1, started here."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import io
import json
import os
import random
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import threading
import time

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import REPO, page_texts, run, write

PASSWORD = "s3cret-Passw0rd"


class Recorder:
    """Keeps every message it accepts; can refuse temporarily after `fail_after` messages."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.fail_after: int | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's protocol
        if self.fail_after is not None and len(self.messages) >= self.fail_after:
            return "421 4.3.0 Try again later"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    def text(value):
        return value.decode() if isinstance(value, bytes) else value

    ok = (isinstance(auth_data, LoginPassword)
          and (text(auth_data.login), text(auth_data.password)) == ("clinic", PASSWORD))
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def certificate_authority(tmp_path, monkeypatch):
    """A CA made for this test; the client trusts it through SSL_CERT_FILE."""
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(bundle)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    return authority


@pytest.fixture
def smtp(request, monkeypatch, tmp_path):
    """Start an SMTP server as the test asks: security none, starttls (with login) or tls."""
    security = getattr(request, "param", "none")
    recorder = Recorder()
    kwargs = {}
    if security != "none":
        authority = request.getfixturevalue("certificate_authority")
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1").configure_cert(server_context)
        if security == "starttls":
            kwargs = {"tls_context": server_context, "require_starttls": True, "authenticator": authenticate}
        else:
            kwargs = {"ssl_context": server_context}
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    monkeypatch.setenv("HANDOUT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HANDOUT_SMTP_PORT", str(port))
    monkeypatch.setenv("HANDOUT_SMTP_SECURITY", security)
    monkeypatch.setenv("HANDOUT_MAIL_FROM", "Northside Clinic <news@clinic.example>")
    if security == "starttls":
        monkeypatch.setenv("HANDOUT_SMTP_USER", "clinic")
        monkeypatch.setenv("HANDOUT_SMTP_PASSWORD", PASSWORD)
    yield recorder
    controller.stop()


@pytest.fixture
def merge(project):
    """A project with an article, a message template and a spreadsheet's CSV (BOM, semicolons)."""
    shutil.copy(REPO / "content" / "hand-hygiene.md", project / "content")
    shutil.copytree(REPO / "content" / "images", project / "content" / "images")
    write(project / "message.md", """
        ---
        subject: "Your handout, {{ name }}"
        ---
        Dear {{ name }},

        Here is the **handout** for group {{ group }}.
    """)
    (project / "people.csv").write_bytes(
        "\ufeffname;email;group;cc\nAna;ana@example.org;A;\nBo;bo@example.org;B;boss@example.org\n"
        "Cy;cy@example.org;A;\nDee;dee@example.org;B;\n".encode("utf-8"))
    write(project / "handout.toml", "[mail]\nrate_per_minute = 6000\nbackoff_seconds = 0.01\n")
    return project


def mail(*args: str):
    return run("mail", "people.csv", "--article", "content/hand-hygiene.md", "--message", "message.md", *args)


def received(recorder: Recorder) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(content, policy=email.policy.default) for _, content in recorder.messages]


def test_dry_run_writes_the_outbox_and_sends_nothing(merge, smtp):
    result = mail()
    assert result.exit_code == 0, result.output
    assert "Dry run: 4 messages" in result.stdout and "nothing was sent" in result.stdout
    assert "Subject: Your handout, Ana" in result.stdout
    assert smtp.messages == []
    outbox = sorted((merge / "output" / "outbox").glob("*.eml"))
    assert [p.name for p in outbox][0] == "0001-ana_at_example.org.eml"
    first = email.message_from_bytes(outbox[0].read_bytes(), policy=email.policy.default)
    assert first["To"] == "Ana <ana@example.org>"


@pytest.mark.parametrize("smtp", ["none", "starttls", "tls"], indirect=True)
def test_send_delivers_each_message_with_the_handout_attached(merge, smtp):
    result = mail("--send")
    assert result.exit_code == 0, result.output
    assert "4 sent, 0 already sent before, 0 failed" in result.stdout
    messages = received(smtp)
    assert [m["To"] for m in messages] == ["Ana <ana@example.org>", "Bo <bo@example.org>", "Cy <cy@example.org>",
                                           "Dee <dee@example.org>"]
    assert messages[1]["Subject"] == "Your handout, Bo"
    assert smtp.messages[1][0] == ["bo@example.org", "boss@example.org"]  # the cc column
    plain, html = messages[0].get_body(("plain",)), messages[0].get_body(("html",))
    assert "Dear Ana," in plain.get_content() and "<strong>handout</strong> for group A" in html.get_content()
    (attachment,) = messages[0].iter_attachments()
    assert attachment.get_filename() == "hand-hygiene-ana.pdf"
    assert attachment.get_content() == (merge / "output" / "hand-hygiene.pdf").read_bytes()
    assert PASSWORD not in result.output


@pytest.mark.parametrize("smtp", ["starttls"], indirect=True)
def test_wrong_password_is_a_clear_error_and_nothing_is_sent(merge, smtp, monkeypatch):
    monkeypatch.setenv("HANDOUT_SMTP_PASSWORD", "wrong")
    result = mail("--send")
    assert result.exit_code == 1
    assert "the SMTP server refused the login (535)" in result.stderr
    assert smtp.messages == [] and "wrong" not in result.output


def test_a_rerun_after_a_failure_sends_only_the_rest(merge, smtp):
    smtp.fail_after = 2
    first = mail("--send")
    assert first.exit_code == 1, first.stderr
    assert "2 sent, 0 already sent before, 2 failed" in first.stdout
    assert "failed: cy@example.org (421 4.3.0 Try again later)" in first.stderr
    # The failed rows, as the spreadsheet had them (BOM dropped, its ';' kept), for the next run.
    assert "The rows whose message failed are in output/failed.csv" in first.stderr
    assert (merge / "output" / "failed.csv").read_text(encoding="utf-8").splitlines() == [
        "name;email;group;cc", "Cy;cy@example.org;A;", "Dee;dee@example.org;B;"]
    smtp.fail_after = None
    second = mail("--send")
    assert "2 sent, 2 already sent before, 0 failed" in second.stdout
    assert not (merge / "output" / "failed.csv").exists()
    third = mail("--send")
    assert "0 sent, 4 already sent before, 0 failed" in third.stdout
    addresses = [m["To"].addresses[0].addr_spec for m in received(smtp)]
    assert sorted(addresses) == ["ana@example.org", "bo@example.org", "cy@example.org", "dee@example.org"]
    log = [json.loads(line) for line in (merge / "output" / "mail-log.jsonl").read_text().splitlines()]
    assert [entry["status"] for entry in log].count("sent") == 4


def test_limit_sends_at_most_n(merge, smtp):
    result = mail("--send", "--limit", "1")
    assert "1 sent, 0 already sent before, 0 failed, 3 left for later" in result.stdout
    assert len(smtp.messages) == 1


@pytest.mark.parametrize("csv_text, message", [
    ("Name,Address\nAna,ana@example.org\n", "people.csv:1: error: no 'email' column (the columns are: Name, Address)"),
    ("name,email\nAna,not-an-address\nBo,bo@example\n", "people.csv:2: email 'not-an-address' is not a valid address"),
    ("name,email\nAna,ana@example.org\nAgain,ANA@example.org\n", "people.csv:3: ANA@example.org is already on row 2"),
    ('name,email\n"Ana\nBcc: everyone@example.org",ana@example.org\n',
     "people.csv:2: the name column has a line break"),
    ("name,email\nAna,ana@example.org\nBo," + "b" * 200_000 + "@example.org\n",
     "people.csv:3: a value is longer than 131072 characters"),
    ('name,email\nAna,"ana@example.org\nBo,bo@example.org\n' + "x" * 140_000 + "\n",
     "people.csv:2: a value is longer than 131072 characters (is a quote '\"' left open on this row?)"),
    ("name,email\nRuiz, Ana,ana@example.org\n", "people.csv:2: 3 fields where the header has 2: quote a value"),
    ("name,email\nAna,ana@example.org,\n", "or remove the ',' at the end of the row"),
    ("name,email\nAna\vRuiz,ana@example.org\n", "people.csv:2: the name column has the control character U+000B"),
    ("name,email\n", "people.csv: error: no recipients"),
    # An address whose name before the @ is not ASCII needs SMTPUTF8: refused by row, not a traceback.
    ("name,email\nAna,anä@example.org\n",
     "people.csv:2: email 'anä@example.org' is not a valid address (Internationalized characters before the @-sign"),
])
def test_bad_recipients_stop_everything_before_sending(merge, smtp, csv_text, message):
    (merge / "people.csv").write_text(csv_text)
    result = mail("--send")
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert smtp.messages == [] and not (merge / "output" / "outbox").exists()


def test_template_error_and_size_budget_stop_everything(merge, smtp):
    write(merge / "message.md", "---\nsubject: Hi {{ nickname }}\n---\nText.\n")
    result = mail("--send")
    assert result.exit_code == 1 and "'nickname' is undefined" in result.stderr
    assert not list(merge.glob("output/*.pdf"))  # said before the handout is typeset
    write(merge / "message.md", "---\nsubject: Hi\n---\nText.\n")
    result = mail("--send", "--max-size", "0.001")
    assert result.exit_code == 1 and "over the 0.0 MB budget" in result.stderr
    assert smtp.messages == []


def test_personal_handouts_for_each_recipient(merge, smtp):
    write(merge / "content" / "personal.md", "---\ntitle: Your plan\n---\nPrepared for {{ recipient.name }}.\n")
    result = run("mail", "people.csv", "--article", "content/personal.md", "--message", "message.md", "--send")
    assert result.exit_code == 0, result.output
    for message in received(smtp):
        (attachment,) = message.iter_attachments()
        name = message["To"].addresses[0].display_name
        pdf = merge / "attached.pdf"
        pdf.write_bytes(attachment.get_content())
        assert f"Prepared for {name}." in page_texts(pdf)[0]
    assert not list((merge / "content").glob(".*"))  # the per-recipient copies are gone


class Refusing(Recorder):
    """Refuses one recipient for good (550), accepts the others."""

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address == "cy@example.org":
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_permanent_refusal_is_logged_and_the_run_goes_on(merge, smtp, monkeypatch):
    (merge / "people.csv").write_text(
        "name\temail\tgroup\tbcc\nAna\tana@example.org\tA\tarchive@example.org\nCy\tcy@example.org\tA\t\n"
        "Dee\tdee@example.org\tB\t\n")
    smtp.__class__ = Refusing
    result = mail("--send")
    assert result.exit_code == 1, result.stderr
    assert "2 sent, 0 already sent before, 1 failed" in result.stdout
    assert "failed: cy@example.org (550 5.1.1 No such user)" in result.stderr
    assert smtp.messages[0][0] == ["ana@example.org", "archive@example.org"]  # bcc: in the envelope only
    assert "archive" not in smtp.messages[0][1].decode()
    log = [json.loads(line) for line in (merge / "output" / "mail-log.jsonl").read_text().splitlines()]
    assert [(e["email"], e["status"]) for e in log] == [
        ("ana@example.org", "sent"), ("cy@example.org", "failed"), ("dee@example.org", "sent")]


def test_a_recipient_sent_to_is_not_sent_again_when_the_message_changes(merge, smtp):
    first = mail("--send", "--limit", "3")
    assert "3 sent, 0 already sent before, 0 failed, 1 left for later (--limit)" in first.stdout
    # Neither a new handout.toml nor a new message sends the first three theirs again.
    write(merge / "handout.toml", "[mail]\nrate_per_minute = 6000\nbackoff_seconds = 0.01\n\n")
    write(merge / "message.md", "---\nsubject: Your handout, {{ name }}\n---\nDear {{ name }}, here it is.\n")
    second = mail("--send")
    assert second.exit_code == 0, second.output
    assert ("1 sent, 3 already sent before (the message changed since for 3 of them: --resend sends it again),"
            " 0 failed") in second.stdout
    assert sorted(m["To"].addresses[0].addr_spec for m in received(smtp)) == [
        "ana@example.org", "bo@example.org", "cy@example.org", "dee@example.org"]
    third = mail("--send", "--resend")
    assert "3 sent, 1 already sent before, 0 failed" in third.stdout
    assert [m["To"].addresses[0].addr_spec for m in received(smtp)][4:] == [
        "ana@example.org", "bo@example.org", "cy@example.org"]
    assert "0 sent, 4 already sent before, 0 failed" in mail("--send", "--resend").stdout


def test_messages_are_made_one_at_a_time(merge, smtp, monkeypatch):
    """Each message is written or sent, then dropped, before the next is made."""
    import gc
    import weakref

    from generator.mail import merge as stream

    alive = []

    def compose_and_count(letter, sender):
        gc.collect()
        alive.append(sum(ref() is not None for ref in made))
        message = original(letter, sender)
        made.append(weakref.ref(message))
        return message

    original, made = stream.compose, []
    monkeypatch.setattr(stream, "compose", compose_and_count)
    assert mail().exit_code == 0
    assert alive == [0, 0, 0, 0]
    alive.clear()
    assert mail("--send").exit_code == 0
    assert alive == [0, 0, 0, 0]


def test_an_address_with_a_slash_is_written_and_sent(merge, smtp):
    (merge / "people.csv").write_text("name,email,group\nAna,ana/sales@example.org,A\nBo,../bo@example.org,B\n")
    result = mail()
    assert result.exit_code == 1 and "people.csv:3: email '../bo@example.org' is not a valid address" in result.stderr
    (merge / "people.csv").write_text("name,email,group\nAna,ana/sales@example.org,A\n")
    result = mail()
    assert result.exit_code == 0, result.output
    assert [p.name for p in (merge / "output" / "outbox").iterdir()] == ["0001-ana_sales_at_example.org.eml"]
    assert mail("--send").exit_code == 0
    assert smtp.messages[0][0] == ["ana/sales@example.org"]


@pytest.mark.parametrize("smtp", ["starttls"], indirect=True)
def test_a_password_with_any_letter_logs_in(merge, smtp, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "PASSWORD", "pässwörd-ß")
    monkeypatch.setenv("HANDOUT_SMTP_PASSWORD", "pässwörd-ß")
    result = mail("--send")
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 4
    monkeypatch.setenv("HANDOUT_SMTP_PASSWORD", "wröng")
    (merge / "output" / "mail-log.jsonl").unlink()
    result = mail("--send")
    assert result.exit_code == 1 and "the SMTP server refused the login (535)" in result.stderr
    assert "wröng" not in result.output and "Traceback" not in result.output and len(smtp.messages) == 4


class Slow(Recorder):
    """Answers the end of a message to `slow_for` only after `delay` seconds."""

    slow_for = "cy@example.org"
    delay = 0.0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.slow_for in envelope.rcpt_tos:
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


def test_a_server_slow_to_take_a_message_is_waited_for(merge, smtp):
    # Scaled down 200 times: 1.5 s for most replies, 3 s for the one to a whole message.
    write(merge / "handout.toml", "[mail]\nrate_per_minute = 6000\nbackoff_seconds = 0.01\ntimeout_scale = 0.005\n")
    smtp.__class__, smtp.delay = Slow, 2.0
    result = mail("--send")
    assert result.exit_code == 0, result.output
    assert "4 sent, 0 already sent before, 0 failed" in result.stdout
    assert "unknown key" not in result.stderr


def test_a_message_the_server_does_not_confirm_is_not_sent_twice(merge, smtp):
    write(merge / "handout.toml", "[mail]\nrate_per_minute = 6000\nbackoff_seconds = 0.01\ntimeout_scale = 0.002\n")
    smtp.__class__, smtp.delay = Slow, 2.0  # over the 1.2 s the whole message's reply is waited for here
    result = mail("--send")
    assert result.exit_code == 0, result.output
    assert "3 sent, 0 already sent before, 0 failed" in result.stdout
    assert "1 not confirmed by the server, so perhaps delivered: cy@example.org" in result.stderr
    assert [m["To"].addresses[0].addr_spec for m in received(smtp)][-1] == "dee@example.org"  # the run went on
    smtp.delay = 0
    again = mail("--send")
    assert "0 sent, 4 already sent before, 0 failed" in again.stdout
    assert "cy@example.org" in again.stderr


def test_a_cc_who_gets_their_own_message_is_left_out_of_the_other(merge, smtp):
    (merge / "people.csv").write_text("name,email,group,cc\nAna,ana@example.org,A,Bo@example.org\n"
                                      "Bo,bo@example.org,B,\n")
    result = mail("--send")
    assert result.exit_code == 0, result.output
    assert ("people.csv:2: warning: cc Bo@example.org left out: row 3 sends them a message of their own [M401]"
            in result.stderr)
    assert [envelope for envelope, _ in smtp.messages] == [["ana@example.org"], ["bo@example.org"]]
    assert "Cc" not in received(smtp)[0]


def test_a_personal_article_with_a_slug(merge, smtp):
    write(merge / "content" / "personal.md",
          "---\ntitle: Your plan\nslug: 'plan'\n---\nPrepared for {{ recipient.name }}.\n\n"
          "![visits](images/weekly-visits.png)\n")
    result = run("mail", "people.csv", "--article", "content/personal.md", "--message", "message.md", "--send")
    assert result.exit_code == 0, result.output
    for message in received(smtp):
        (attachment,) = message.iter_attachments()
        assert attachment.get_filename() == f"plan-{message['To'].addresses[0].display_name.lower()}.pdf"
        (merge / "attached.pdf").write_bytes(attachment.get_content())
        assert f"Prepared for {message['To'].addresses[0].display_name}." in page_texts(merge / "attached.pdf")[0]
    assert sorted(p.name for p in (merge / "content").iterdir()) == ["hand-hygiene.md", "images", "personal.md"]
    assert not (merge / "output" / "personal").exists()


def test_a_killed_run_leaves_no_recipients_copies_in_content(merge, tmp_path_factory):
    write(merge / "content" / "personal.md", "---\ntitle: Your plan\n---\nPrepared for {{ recipient.name }}.\n")
    (merge / "people.csv").write_text("name,email,group\n" + "".join(f"P{n},p{n}@example.org,A\n" for n in range(40)))
    private = tmp_path_factory.mktemp("tmp")
    command = [sys.executable, "-m", "generator", "mail", "people.csv", "--article", "content/personal.md",
               "--message", "message.md", "-j", "1"]
    process = subprocess.Popen(command, cwd=merge, env={**os.environ, "TMPDIR": str(private),
                                                        "HANDOUT_MAIL_FROM": "news@clinic.example"})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            folders = list(private.glob("handout-mail-*"))
            copies = list(merge.glob("content/.*")) + [p for f in folders for p in f.glob("articles/**/*-for-*")]
            if len(copies) >= 40:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the run ended before it was killed"
        assert [oct(f.stat().st_mode & 0o777) for f in folders] == ["0o700"]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
    assert sorted(p.name for p in (merge / "content").iterdir()) == ["hand-hygiene.md", "images", "personal.md"]


@pytest.mark.parametrize("where, template, problems", [
    ("message.md", "{% if name == 'Ana' %}{{ 'x' * 3000000000 }}{% elif name == 'Bo' %}"
     "{% for i in range(100000) %}{% endfor %}{% endif %}",
     ["row 2: template error: a str of 1 times 3000000000 would hold",
      "row 3: template error: range() of 100000 numbers is over the limit"]),
    ("message.md", "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
     ["row 2: filling in the template took longer than 0.5 s"]),
    ("content/short.md", "{{ recipient.name * 3000000000 }}", ["row 2: template error: a str of 3 times"]),
    ("content/short.md", "{% for i in range(10000) %}{% for j in range(10000) %}{{ recipient.name }}"
     "{% endfor %}{% endfor %}", ["row 2: filling in the template took longer than 0.5 s"]),
])
def test_a_template_cannot_run_for_ever_or_fill_the_memory(merge, where, template, problems):
    """In a subprocess, bounded: before the fix these ran for ever or filled the memory."""
    write(merge / "handout.toml", "[mail]\ntemplate_seconds = 0.5\n")
    write(merge / "content" / "short.md", "---\ntitle: Short\n---\nA short handout.\n")
    write(merge / where, (merge / where).read_text() + f"\n{template}\n")
    result = subprocess.run([sys.executable, "-m", "generator", "mail", "people.csv", "--article",
                             "content/short.md", "--message", "message.md"], cwd=merge, timeout=60,
                            capture_output=True, text=True, env={**os.environ, "HANDOUT_MAIL_FROM": "n@clinic.example"})
    assert result.returncode == 1
    for problem in problems:  # one line each, naming the template
        assert any(line.strip().startswith(f"{where}:") and problem in line
                   for line in result.stderr.splitlines()), result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_stops_between_two_messages_and_a_rerun_sends_the_rest(merge, smtp):
    arrived = threading.Event()
    smtp.messages = NotifyingList(arrived)
    write(merge / "handout.toml", "[mail]\nrate_per_minute = 120\nbackoff_seconds = 0.01\n")
    command = [sys.executable, "-m", "generator", "mail", "people.csv", "--article", "content/hand-hygiene.md",
               "--message", "message.md", "--send"]
    process = subprocess.Popen(command, cwd=merge, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert arrived.wait(timeout=60), "no message arrived"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1
    assert "1 sent, 0 already sent before, 0 failed, 3 left for later;" in stdout
    assert "stopped by a signal (Ctrl-C)" in stderr and "Run the same command again" in stderr
    assert "Traceback" not in stderr
    again = mail("--send")
    assert "3 sent, 1 already sent before, 0 failed" in again.stdout
    assert sorted(m["To"].addresses[0].addr_spec for m in received(smtp)) == [
        "ana@example.org", "bo@example.org", "cy@example.org", "dee@example.org"]


class NotifyingList(list):
    def __init__(self, event: threading.Event):
        super().__init__()
        self.event = event

    def append(self, item):
        super().append(item)
        self.event.set()


def test_a_broken_message_front_matter_is_one_line_with_its_line(merge):
    # Read by the articles' own front-matter reader: the same line numbers, never a traceback.
    write(merge / "message.md", "---\nsubject: Hi\ngroup: [A, B\n---\nText.\n")
    result = mail()
    assert result.exit_code == 1
    assert "message.md:3: error: broken YAML front matter" in result.stderr
    write(merge / "message.md", "---\nsubject: Hi\nwhen: 2025-02-30\n---\nText.\n")
    impossible = mail()
    assert impossible.exit_code == 1 and "message.md:3: error:" in impossible.stderr
    assert "Traceback" not in impossible.output


@pytest.fixture
def unconfigured(monkeypatch):
    """No SMTP server and no sender in the environment (the merge fixture's handout.toml has neither)."""
    for name in ("HANDOUT_SMTP_HOST", "HANDOUT_SMTP_PORT", "HANDOUT_MAIL_FROM"):
        monkeypatch.delenv(name, raising=False)


def test_a_dry_run_needs_no_sender(merge, unconfigured):
    result = mail()
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning: no sender set") == 1
    assert "From: handout dry run <dry-run@invalid>" in result.stdout
    first = sorted((merge / "output" / "outbox").glob("*.eml"))[0]
    assert email.message_from_bytes(first.read_bytes(), policy=email.policy.default)["From"] == \
        "handout dry run <dry-run@invalid>"


def test_send_without_a_server_or_sender_fails_at_once(merge, unconfigured, monkeypatch):
    # A subprocess, bounded: before the fix it tried localhost:587 and could wait there.
    command = [sys.executable, "-m", "generator", "mail", "people.csv", "--article", "content/hand-hygiene.md",
               "--message", "message.md", "--send"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOUT_SMTP", "HANDOUT_MAIL"))}
    result = subprocess.run(command, cwd=merge, env=env, timeout=60, capture_output=True, text=True)
    assert result.returncode == 1
    assert ("error: no SMTP server: set HANDOUT_SMTP_HOST or smtp_host in [mail] of handout.toml; no sender:"
            " set HANDOUT_MAIL_FROM or 'from' in [mail] of handout.toml; nothing was sent") in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (merge / "output" / "hand-hygiene.pdf").exists()  # failed before building anything
    monkeypatch.setenv("HANDOUT_MAIL_FROM", "news@clinic.example")
    result = mail("--send")
    assert result.exit_code == 1 and "error: no SMTP server: set HANDOUT_SMTP_HOST" in result.stderr
    assert "no sender" not in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("header", ["E-mail", "Email Address", "EMAIL", "e_mail", "Mail"])
def test_email_columns_as_spreadsheets_name_them(merge, smtp, header):
    (merge / "people.csv").write_text(f"Full Name;{header};Group;C C\nAna;ana@example.org;A;boss@example.org\n")
    result = mail("--send")
    assert result.exit_code == 0, result.output
    if header != "EMAIL":
        assert f"people.csv:1: note: the '{header}' column is read as 'email'" in result.stderr
    assert "the 'Full Name' column is read as 'name'" in result.stderr
    assert smtp.messages[0][0] == ["ana@example.org", "boss@example.org"]
    assert received(smtp)[0]["To"] == "Ana <ana@example.org>"


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16"])  # utf-16: with its BOM, as Excel saves it
def test_a_csv_saved_by_excel_in_windows_1252_or_utf_16_is_read(merge, smtp, encoding):
    data = "name;email;group\r\nZoë;zoe@example.org;A\r\n".encode(encoding)
    (merge / "people.csv").write_bytes(data)
    result = mail("--send")
    assert result.exit_code == 0, result.output
    assert received(smtp)[0]["To"] == "Zoë <zoe@example.org>"
    assert ("note: not UTF-8, so read as Windows-1252" in result.stderr) == (encoding == "cp1252")


@pytest.mark.parametrize("data, problem", [
    (b"name;email\nZo\x81;zoe@example.org\n", "people.csv:2: error: neither UTF-8, UTF-16 nor Windows-1252"
                                              " (byte 0x81 cannot be read);"
                                              " in the spreadsheet, use Save As: CSV UTF-8"),
    ("name;email\nZoë;zoe@example.org\n".encode("utf-16-le"), "people.csv: error: not a text file in a known"
                                                              " encoding (it has NUL bytes: UTF-16 without a BOM?)"),
])
def test_a_csv_in_an_unknown_encoding_is_refused_in_one_line(merge, smtp, data, problem):
    (merge / "people.csv").write_bytes(data)
    result = mail("--send")
    assert result.exit_code == 1
    assert problem in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert smtp.messages == []


def test_attachments_are_named_after_the_handout_and_the_recipient(merge, smtp):
    (merge / "people.csv").write_text("name,email,group\nAna Ruiz,ana@example.org,A\n,bo.lee@example.org,B\n"
                                      "../Zoë: the 2nd,zoe@example.org,A\n")
    write(merge / "content" / "personal.md", "---\ntitle: Your plan\n---\nPrepared for {{ recipient.email }}.\n")
    assert mail("--send").exit_code == 0
    assert run("mail", "people.csv", "--article", "content/personal.md", "--message", "message.md",
               "--send", "--resend").exit_code == 0
    names = [next(m.iter_attachments()).get_filename() for m in received(smtp)]
    assert names == ["hand-hygiene-ana-ruiz.pdf", "hand-hygiene-bo-lee.pdf", "hand-hygiene-zoë-the-2nd.pdf",
                     "personal-ana-ruiz.pdf", "personal-bo-lee.pdf", "personal-zoë-the-2nd.pdf"]


def test_every_message_has_a_date_and_a_message_id(merge, smtp, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert mail().exit_code == 0 and mail("--send", "--limit", "1").exit_code == 0
    outbox = sorted((merge / "output" / "outbox").glob("*.eml"))
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox]
    for message in messages + received(smtp):
        assert message["Date"] == "Tue, 14 Nov 2023 22:13:20 -0000"
        assert message["Message-ID"].endswith("@clinic.example>")
    assert len({m["Message-ID"] for m in messages}) == 4


def test_lines_like_the_boundaries_keep_the_message_whole(merge, smtp):
    # The boundaries are given, not searched for: a body that writes lines like them (a
    # signature's "-- " too) must still be one text part, and the handout one attachment.
    lines = ["--==mixed-0123456789ab==", "--==alternative-0123==--", "-- ", "Ana"]
    write(merge / "message.md", "---\nsubject: Hi\n---\n" + "\n\n".join(lines) + "\n")
    assert mail("--send", "--limit", "1").exit_code == 0
    ((_, raw),) = smtp.messages
    # Six lines are boundaries (two parts open and close, the others start): no line of the body.
    assert sum(line.startswith((b"--==mixed-", b"--==alternative-")) for line in raw.splitlines()) == 6
    (message,) = received(smtp)
    assert [part.get_content_type() for part in message.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"]
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n").strip().split("\n\n") == lines
    assert next(message.iter_attachments()).get_content().startswith(b"%PDF-")


def test_the_send_log_proves_which_handout_each_person_received(merge, smtp):
    assert mail("--send").exit_code == 0
    log = [json.loads(line) for line in (merge / "output" / "mail-log.jsonl").read_text().splitlines()]
    received_pdfs = [next(m.iter_attachments()).get_content() for m in received(smtp)]
    assert [entry["attachment_sha256"] for entry in log] == [hashlib.sha256(pdf).hexdigest() for pdf in received_pdfs]


def test_test_to_sends_the_first_message_to_one_address_and_marks_nothing_sent(merge, smtp):
    result = mail("--test-to", "me@clinic.example")
    assert result.exit_code == 0, result.output
    assert "test message (ana@example.org's) to me@clinic.example: sent; nothing was sent to the list" in result.stdout
    (message,) = received(smtp)
    assert smtp.messages[0][0] == ["me@clinic.example"]
    assert message["Subject"] == "Your handout, Ana"
    assert not (merge / "output" / "mail-log.jsonl").exists()
    assert "4 sent, 0 already sent before, 0 failed" in mail("--send").stdout


def test_a_domain_in_another_script_is_written_as_its_ascii_form(merge):
    (merge / "people.csv").write_text("name,email,group\nAna,ana@exämple.org,Tuesday\n", encoding="utf-8")
    result = mail()
    assert result.exit_code == 0, result.output
    (message,) = (merge / "output" / "outbox").glob("*.eml")
    assert "To: Ana <ana@xn--exmple-cua.org>" in message.read_text()


def test_the_attachment_is_the_part_the_email_package_makes_of_the_pdf():
    # pdf_part encodes from base64 text, not from the bytes MIMEApplication escapes twice first:
    # the same part, byte for byte, for any PDF (a line's worth, an empty one, one ending a line).
    from email.mime.application import MIMEApplication

    from generator.mail.compose import pdf_part

    for data in (os.urandom(36_000), os.urandom(57 * 10), b"%PDF-1.7\n", b"", os.urandom(100) + b"\n"):
        expected = MIMEApplication(data, "pdf")
        expected.add_header("Content-Disposition", "attachment", filename="hand-hygiene-ana ruiz.pdf")
        assert pdf_part(data, "hand-hygiene-ana ruiz.pdf").as_bytes() == expected.as_bytes()


def test_a_message_is_written_as_the_email_package_writes_it():
    # message_bytes writes the attachment whole and short headers unfolded: the same bytes as
    # the email package's own writer, for names and subjects short, long, quoted and in other scripts.
    from email.generator import BytesGenerator

    from generator.mail.compose import Handout, Letter, MessageWriter, compose, message_bytes
    from generator.mail.recipients import Recipient

    handout = Handout.of_bytes(os.urandom(20_000), "hand-hygiene.pdf")
    names = ["Ana", "", 'Ana "the nurse" Ruiz', "张伟 " * 12, "A" * 90, "Nguyễn Văn An", "O'Brien, Pat"]
    subjects = ["Your handout", "Your handout, " + "x" * 80, "Ihr Merkblatt für heute", "a\tb  c "]
    for name in names:
        for subject in subjects:
            recipient = Recipient(2, "person@example.org", {"name": name}, cc=("cc@example.org",))
            message = compose(Letter(recipient, subject, f"Dear {name},\n\n**Read** it.\n", handout),
                              "Clinic Ünited <news@example.org>")
            assert message_bytes(message) == message.as_bytes()
            for linesep in ("\r\n", "\n"):
                ours, theirs = io.BytesIO(), io.BytesIO()
                MessageWriter(ours, mangle_from_=False).flatten(message, linesep=linesep)
                BytesGenerator(theirs, mangle_from_=False).flatten(message, linesep=linesep)
                assert ours.getvalue() == theirs.getvalue()


def test_headers_that_fit_their_line_are_written_as_compat32_folds_them():
    from email.header import Header
    from email.policy import compat32

    from generator.mail.compose import SHORT_HEADERS_AS_THEY_ARE

    generator = random.Random(7)
    alphabet = string.ascii_letters + string.digits + " \t;=\"',.<>@()-_/:\\"
    values: list[object] = ["", " ", "a  b", " leading", "trailing ", "x" * 76, "x" * 77, "two words " * 9,
                            "é", Header("Ünïcode", "utf-8"), "line\nbreak"]
    values += ["".join(generator.choice(alphabet) for _ in range(generator.randint(0, 90))) for _ in range(5000)]
    for value in values:
        for name in ("Subject", "X-Handout-Id", "To"):
            assert SHORT_HEADERS_AS_THEY_ARE.fold_binary(name, value) == compat32.fold_binary(name, value), value


def test_large_handouts_are_made_into_messages_a_few_at_a_time(merge, monkeypatch):
    # The messages a worker makes ahead of their writing are a job's: fewer of them when each is
    # large, so memory stays a few MB whatever the handout; and the outbox keeps the rows' order.
    from generator.mail import merge as merging

    assert merging.letters_per_job(150_000) == merging.LETTERS_PER_JOB
    assert merging.letters_per_job(1_500_000) == 2
    assert merging.letters_per_job(50 * 1024 * 1024) == 1
    monkeypatch.setattr(merging, "JOB_BYTES", 1)  # a job a recipient: four jobs for two workers
    assert mail("--jobs", "2").exit_code == 0
    outbox = sorted((merge / "output" / "outbox").glob("*.eml"))
    to = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["To"] for p in outbox]
    assert to == ["Ana <ana@example.org>", "Bo <bo@example.org>", "Cy <cy@example.org>", "Dee <dee@example.org>"]
