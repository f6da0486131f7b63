"""Stage 6: handouts sent by email to a list of recipients, safely and only once.

Read the recipients (a CSV as spreadsheets save it) and the message (Markdown
with a subject in its front matter, both Jinja2 templates over each
recipient's columns); check everything before anything is sent; compose one
email.message.EmailMessage per recipient, with HTML and plain-text bodies and
the handout attached; then either write them to output/outbox/ (the default,
a dry run) or send them over SMTP. A send log (JSON lines) records each
message sent, keyed by recipient and content, so a run stopped halfway sends
only the rest when run again.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

import jinja2
import jinja2.sandbox
from email_validator import EmailNotValidError, validate_email

from .errors import HandoutError, location
from .load import FRONT_MATTER, read_text

MEGABYTE = 1024 * 1024
SECURITY = ("starttls", "tls", "none")
# A temporary failure (4xx, a dropped connection) is tried again this many times,
# waiting BACKOFF seconds, then twice that, and so on.
RETRIES = 3


class MailError(HandoutError):
    """Input that must be fixed before any message is sent; lists every problem found."""


@dataclass(frozen=True)
class Recipient:
    row: int  # the line of the CSV, for messages
    email: str
    fields: dict[str, str]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int | None = None
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed
    sender: str | None = None
    rate: float = 60.0  # messages a minute
    backoff: float = 5.0  # seconds before the first retry of a temporary failure

    @property
    def effective_port(self) -> int:
        return self.port or {"tls": 465, "starttls": 587, "none": 25}[self.security]


def smtp_settings(section: dict, environ=os.environ) -> SmtpSettings:
    """[mail] of handout.toml, with HANDOUT_SMTP_* and HANDOUT_MAIL_FROM winning.

    The password comes only from HANDOUT_SMTP_PASSWORD: never from a file or a command line.
    """
    values = {
        "host": environ.get("HANDOUT_SMTP_HOST") or section.get("smtp_host") or "localhost",
        "port": environ.get("HANDOUT_SMTP_PORT") or section.get("smtp_port"),
        "security": (environ.get("HANDOUT_SMTP_SECURITY") or section.get("smtp_security") or "starttls").lower(),
        "user": environ.get("HANDOUT_SMTP_USER") or section.get("smtp_user"),
        "password": environ.get("HANDOUT_SMTP_PASSWORD"),
        "sender": environ.get("HANDOUT_MAIL_FROM") or section.get("from"),
        "rate": float(section.get("rate_per_minute", 60)),
        "backoff": float(section.get("backoff_seconds", 5)),
    }
    if values["security"] not in SECURITY:
        raise MailError(f"SMTP security '{values['security']}' is not one of: {', '.join(SECURITY)}")
    try:
        values["port"] = int(values["port"]) if values["port"] else None
    except ValueError:
        raise MailError(f"SMTP port '{values['port']}' is not a number") from None
    return SmtpSettings(**values)


def read_recipients(path: Path) -> list[Recipient]:
    """The recipients of a CSV saved by a spreadsheet (BOM, ',' ';' or tab); every problem at once."""
    text = read_text(path)
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = [name.strip().lower() for name in reader.fieldnames or []]
    if "email" not in columns:
        raise MailError(f"no 'email' column (the columns are: {', '.join(columns) or 'none'})", path, 1)
    problems, recipients, seen = [], [], {}
    for row_number, row in enumerate(reader, start=2):
        fields = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items()}
        where = f"{location(path, row_number)}"
        addresses = {}
        for column in ("email", "cc", "bcc"):
            addresses[column] = []
            for address in filter(None, (a.strip() for a in fields.get(column, "").replace(";", ",").split(","))):
                try:
                    addresses[column].append(validate_email(address, check_deliverability=False).normalized)
                except EmailNotValidError as exc:
                    problems.append(f"{where}: {column} '{address}' is not a valid address ({exc})")
        for name, value in fields.items():
            if "\n" in value or "\r" in value:
                problems.append(f"{where}: the {name} column has a line break (it could forge mail headers)")
        if len(addresses["email"]) != 1:
            if not any(f"{where}: email" in p for p in problems):
                problems.append(f"{where}: needs exactly one email address")
            continue
        email = addresses["email"][0]
        if email.lower() in seen:
            problems.append(f"{where}: {email} is already on row {seen[email.lower()]}")
            continue
        seen[email.lower()] = row_number
        recipients.append(Recipient(row_number, email, fields, tuple(addresses["cc"]), tuple(addresses["bcc"])))
    if problems:
        raise MailError(f"{len(problems)} problem(s) in the recipients; nothing was sent:\n  " + "\n  ".join(problems), path)
    return recipients


@dataclass(frozen=True)
class MessageTemplate:
    path: Path
    subject: jinja2.Template
    body: jinja2.Template
    body_first_line: int


ENVIRONMENT = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


def read_message(path: Path) -> MessageTemplate:
    """A message template: Markdown with `subject:` in its front matter."""
    import yaml

    text = read_text(path)
    match = FRONT_MATTER.match(text)
    front = yaml.safe_load(match["yaml"] or "") if match else None
    if not isinstance(front, dict) or not str(front.get("subject", "")).strip():
        raise MailError("the message needs front matter with a subject: line", path, 1)
    body = text[match.end():]
    first_line = text[: match.end()].count("\n") + 1
    try:
        return MessageTemplate(path, ENVIRONMENT.from_string(str(front["subject"])),
                               ENVIRONMENT.from_string(body), first_line)
    except jinja2.TemplateSyntaxError as exc:
        line = first_line + exc.lineno - 1 if exc.lineno else None
        raise MailError(f"template error: {exc.message}", path, line) from None


def render_for(template: MessageTemplate, recipient: Recipient) -> tuple[str, str]:
    """(subject, Markdown body) for one recipient."""
    context = {**recipient.fields, "recipient": recipient.fields}
    try:
        subject = " ".join(template.subject.render(context).split())
        body = template.body.render(context)
    except jinja2.TemplateError as exc:
        raise MailError(f"template error for row {recipient.row}: {exc}", template.path) from None
    return subject, body


def compose(template: MessageTemplate, recipient: Recipient, attachment: Path, sender: str) -> EmailMessage:
    """One message: plain text and HTML from the Markdown body, the handout attached."""
    from . import sanitize
    from .markup import PARSER

    subject, body = render_for(template, recipient)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = formataddr((recipient.fields.get("name", ""), recipient.email))
    if recipient.cc:
        message["Cc"] = ", ".join(recipient.cc)
    message.set_content(body)
    message.add_alternative(f"<!DOCTYPE html><html><body>{sanitize.clean(PARSER.render(body))}</body></html>",
                            subtype="html")
    data = attachment.read_bytes()
    message.add_attachment(data, maintype="application", subtype="pdf", filename=attachment.name)
    key = content_key(recipient, subject, body, data)
    message["Message-ID"] = make_msgid(idstring=key[:20], domain=sender.rpartition("@")[2] or "handout")
    message["X-Handout-Key"] = key
    return message


def content_key(recipient: Recipient, subject: str, body: str, attachment: bytes) -> str:
    """What makes a message the same message: recipients and content, not when it was made
    (nor the MIME boundaries, which differ each time)."""
    return hashlib.sha256(b"\0".join([
        recipient.email.lower().encode(), ",".join(recipient.cc + recipient.bcc).encode(),
        subject.encode(), body.encode(), hashlib.sha256(attachment).digest(),
    ])).hexdigest()


@dataclass(frozen=True)
class Outgoing:
    recipient: Recipient
    message: EmailMessage

    @property
    def key(self) -> str:
        return self.message["X-Handout-Key"]


def prepare(recipients: list[Recipient], template: MessageTemplate, attachments: Callable[[Recipient], Path],
            sender: str | None, max_bytes: int) -> list[Outgoing]:
    """Every message, checked (sender, header fields, templates, sizes) before any is sent."""
    if not sender:
        raise MailError("no sender: set HANDOUT_MAIL_FROM or 'from' in [mail] of handout.toml")
    problems, outgoing = [], []
    for recipient in recipients:
        attachment = attachments(recipient)
        if attachment.stat().st_size > max_bytes:
            problems.append(f"row {recipient.row}: {attachment.name} is {attachment.stat().st_size / MEGABYTE:.1f} MB,"
                            f" over the {max_bytes / MEGABYTE:.1f} MB budget")
            continue
        try:
            subject, _ = render_for(template, recipient)
            if "\n" in subject or "\r" in subject:
                raise MailError(f"row {recipient.row}: the subject has a line break")
            outgoing.append(Outgoing(recipient, compose(template, recipient, attachment, sender)))
        except MailError as exc:
            problems.append(exc.problem)
    if problems:
        raise MailError(f"{len(problems)} problem(s); nothing was sent:\n  " + "\n  ".join(problems), template.path)
    return outgoing


def write_outbox(outgoing: list[Outgoing], folder: Path) -> list[Path]:
    """The dry run: each message as a .eml file a mail program can open."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number, item in enumerate(outgoing, start=1):
        path = folder / f"{number:04d}-{item.recipient.email.replace('@', '_at_')}.eml"
        path.write_bytes(item.message.as_bytes())
        written.append(path)
    return written


class SendLog:
    """output/mail-log.jsonl: one line per message sent or failed for good, written at once."""

    def __init__(self, path: Path):
        self.path = path
        self.sent: set[str] = set()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                if entry.get("status") == "sent":
                    self.sent.add(entry["key"])

    def record(self, item: Outgoing, status: str, detail: str = "") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as log:
            now = datetime.datetime.now(datetime.timezone.utc)
            log.write(json.dumps({"time": format_datetime(now), "email": item.recipient.email,
                                  "key": item.key, "status": status, "detail": detail}) + "\n")
            log.flush()
            os.fsync(log.fileno())
        if status == "sent":
            self.sent.add(item.key)


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sent by an earlier run
    failed: list[tuple[str, str]] = field(default_factory=list)
    left: int = 0  # not tried, because of --limit


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.security == "tls":
        server = smtplib.SMTP_SSL(settings.host, settings.effective_port, context=context, timeout=30)
    else:
        server = smtplib.SMTP(settings.host, settings.effective_port, timeout=30)
        if settings.security == "starttls":
            server.starttls(context=context)
    if settings.user:
        server.ehlo_or_helo_if_needed()
        server.user, server.password = settings.user, settings.password or ""
        # PLAIN when offered: over TLS it is the plain choice, and smtplib's fallback to
        # LOGIN can wait on servers that expect LOGIN without an initial response.
        if "PLAIN" in server.esmtp_features.get("auth", "").upper().split():
            server.auth("PLAIN", server.auth_plain)
        else:
            server.login(settings.user, settings.password or "")
    return server


def send(outgoing: list[Outgoing], settings: SmtpSettings, log: SendLog, limit: int | None = None,
         progress: Callable[[str, Outgoing, str], None] | None = None) -> SendReport:
    """Send what the log does not list as sent, at most `limit`, at the settings' rate."""
    report = SendReport()
    pending = [item for item in outgoing if item.key not in log.sent]
    report.skipped = [item.recipient.email for item in outgoing if item.key in log.sent]
    if limit is not None:
        report.left = max(0, len(pending) - limit)
        pending = pending[:limit]
    server = None
    try:
        for number, item in enumerate(pending):
            if number:
                time.sleep(60 / settings.rate)
            for attempt in range(RETRIES + 1):
                try:
                    server = server or connect(settings)
                    server.send_message(item.message, to_addrs=[item.recipient.email, *item.recipient.cc,
                                                                *item.recipient.bcc])
                    log.record(item, "sent")
                    report.sent.append(item.recipient.email)
                    if progress:
                        progress("sent", item, "")
                    break
                except smtplib.SMTPAuthenticationError as exc:
                    raise MailError(f"the SMTP server refused the login ({exc.smtp_code})") from None
                except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
                    code, detail = response_of(exc)
                    if code == 421:  # the server closes the connection with it (smtplib does too)
                        server = None
                    if 400 <= code < 500 and attempt < RETRIES:
                        time.sleep(settings.backoff * 2 ** attempt)
                        continue
                    log.record(item, "failed", f"{code} {detail}")
                    report.failed.append((item.recipient.email, f"{code} {detail}"))
                    if progress:
                        progress("failed", item, f"{code} {detail}")
                    break
                except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError, OSError) as exc:
                    server = None
                    if attempt < RETRIES:
                        time.sleep(settings.backoff * 2 ** attempt)
                        continue
                    raise MailError(f"cannot reach the SMTP server {settings.host}:{settings.effective_port}"
                                    f" ({exc}); run again to send the rest") from None
    finally:
        if server:
            try:
                server.quit()
            except smtplib.SMTPException:
                pass
    return report


def response_of(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, detail = next(iter(exc.recipients.values()))
        return code, detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
    detail = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return exc.smtp_code, detail


PERSONAL = re.compile(r"\{[{%][^}]*\brecipient\b")


def handouts_for(article: Path, recipients: list[Recipient], options) -> Callable[[Recipient], Path]:
    """The handout each recipient gets: one PDF for all, or, when the article uses
    recipient fields ({{ recipient.name }}), one built for each, in parallel."""
    from .build import build

    text = read_text(article)
    if not PERSONAL.search(text):
        (result,) = build([article], options)
        if not result.ok:
            raise result.error
        return lambda recipient: result.output
    template = ENVIRONMENT.from_string(text)
    # Beside the article, so its images resolve; hidden, so a build of content/ skips them.
    copies = {}
    try:
        for recipient in recipients:
            copy = article.with_name(f".{article.stem}-for-{recipient.row}{article.suffix}")
            copy.write_text(template.render(recipient=recipient.fields), encoding="utf-8")
            copies[recipient.row] = copy
        results = build(list(copies.values()), replace(options, output_dir=options.output_dir / "personal"))
    except jinja2.TemplateError as exc:
        raise MailError(f"template error: {exc}", article) from None
    finally:
        for copy in copies.values():
            copy.unlink(missing_ok=True)
    failed = [r for r in results if not r.ok]
    if failed:
        raise failed[0].error
    outputs = dict(zip(copies, (r.output for r in results)))
    return lambda recipient: outputs[recipient.row]


def prepare_all(recipients_csv: Path, article: Path, message: Path, config, build_options,
                max_size_mb: float | None = None) -> list[Outgoing]:
    """Read and check everything, build the handouts, compose every message: nothing is sent."""
    recipients = read_recipients(recipients_csv)
    template = read_message(message)
    settings = smtp_settings(config.mail)
    max_bytes = int((max_size_mb or config.mail.get("max_size_mb", 10)) * MEGABYTE)
    return prepare(recipients, template, handouts_for(article, recipients, build_options), settings.sender, max_bytes)
