"""`handout mail` against a real SMTP server (aiosmtpd) on 127.0.0.1, started here."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import socket
import ssl

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

    ok = isinstance(auth_data, LoginPassword) and (text(auth_data.login), text(auth_data.password)) == ("clinic", PASSWORD)
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
    assert attachment.get_filename() == "hand-hygiene.pdf"
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
    smtp.fail_after = None
    second = mail("--send")
    assert "2 sent, 2 already sent before, 0 failed" in second.stdout
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
    ("name,mail\nAna,ana@example.org\n", "people.csv:1: error: no 'email' column (the columns are: name, mail)"),
    ("name,email\nAna,not-an-address\nBo,bo@example\n", "people.csv:2: email 'not-an-address' is not a valid address"),
    ("name,email\nAna,ana@example.org\nAgain,ANA@example.org\n", "people.csv:3: ANA@example.org is already on row 2"),
    ('name,email\n"Ana\nBcc: everyone@example.org",ana@example.org\n', "people.csv:2: the name column has a line break"),
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
