"""The SMTP client: settings, the connection and login, and how long to wait for each reply."""

from __future__ import annotations

import base64
import os
import smtplib
import ssl
from dataclasses import dataclass, field, replace

from ..config import SMTP_SECURITY as SECURITY
from ..config import MailSettings, environment_names
from ..errors import MailError

# The From of a dry run with no sender set: '.invalid' is reserved (RFC 2606), so it reaches nobody.
DRY_RUN_SENDER = "handout dry run <dry-run@invalid>"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for each reply, as RFC 5321 section 4.5.3.2 asks of a client.

    A server may check a whole message (spam, viruses) before it answers the
    final "."; a client that gives up sooner cannot know whether it was taken.
    """

    greeting: float = 5 * 60
    mail: float = 5 * 60
    rcpt: float = 5 * 60
    data_initiation: float = 2 * 60
    data_block: float = 3 * 60
    data_termination: float = 10 * 60
    command: float = 5 * 60  # EHLO, STARTTLS, AUTH, RSET, QUIT: the RFC's server timeout

    def scaled(self, factor: float) -> Timeouts:
        return Timeouts(**{name: seconds * factor for name, seconds in vars(self).items()})


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int | None = None
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed
    sender: str | None = None
    rate: float = MailSettings.rate_per_minute  # messages a minute
    backoff: float = MailSettings.backoff_seconds  # seconds before the first retry of a temporary failure
    timeouts: Timeouts = Timeouts()

    @property
    def effective_port(self) -> int:
        return self.port or {"tls": 465, "starttls": 587, "none": 25}[self.security]

    @property
    def address(self) -> str:
        return f"{self.host}:{self.effective_port}"

    @property
    def from_address(self) -> str:
        """The sender, which for_sending and for_dry_run make sure there is."""
        if not self.sender:
            raise MailError(NO_SENDER)
        return self.sender


def smtp_settings(mail: MailSettings, environ=os.environ) -> SmtpSettings:
    """[mail] of handout.toml, with the environment variables it declares (HANDOUT_SMTP_*,
    HANDOUT_MAIL_FROM) winning.

    The password comes only from HANDOUT_SMTP_PASSWORD: never from a file or a command line.
    """
    given = {name: environ.get(variable) or getattr(mail, name)
             for name, variable in environment_names(MailSettings).items()}
    values = {
        "host": given["smtp_host"],
        "port": given["smtp_port"],
        "security": str(given["smtp_security"]).lower(),
        "user": given["smtp_user"],
        "password": environ.get("HANDOUT_SMTP_PASSWORD"),
        "sender": given["sender"],
        "rate": mail.rate_per_minute,
        "backoff": mail.backoff_seconds,
        "timeouts": Timeouts().scaled(mail.timeout_scale),
    }
    if values["security"] not in SECURITY:
        raise MailError(f"SMTP security '{values['security']}' is not one of: {', '.join(SECURITY)}")
    try:
        values["port"] = int(values["port"]) if values["port"] else None
    except ValueError:
        raise MailError(f"SMTP port '{values['port']}' is not a number") from None
    return SmtpSettings(**values)


def for_sending(settings: SmtpSettings) -> SmtpSettings:
    """The settings, when --send has what it needs: a server and a sender (no guessing
    localhost, which would only time out)."""
    missing = [what for what, value in (
        ("no SMTP server: set HANDOUT_SMTP_HOST or smtp_host in [mail] of handout.toml", settings.host),
        (NO_SENDER, settings.sender)) if not value]
    if missing:
        raise MailError(f"{'; '.join(missing)}; nothing was sent")
    return settings


def for_dry_run(settings: SmtpSettings) -> tuple[SmtpSettings, str | None]:
    """The settings for writing the outbox, and a warning when the sender is a stand-in:
    a dry run needs no sender to show what would be sent."""
    if settings.sender:
        return settings, None
    return replace(settings, sender=DRY_RUN_SENDER), (
        f"no sender set (HANDOUT_MAIL_FROM or 'from' in [mail] of handout.toml); the outbox uses"
        f" '{DRY_RUN_SENDER}', and --send needs a real one")


NO_SENDER = "no sender: set HANDOUT_MAIL_FROM or 'from' in [mail] of handout.toml"


class RfcTimeouts(smtplib.SMTP):
    """Waits for each reply of the server as long as its command deserves (Timeouts).

    smtplib waits the same time for every reply; here each command sets the
    wait for its own reply, and DATA's three steps (the 354, sending the
    message, the final reply) each have theirs.
    """

    timeouts: Timeouts
    waiting_for = "greeting"

    def putcmd(self, cmd, args=""):
        self.waiting_for = {"mail": "mail", "rcpt": "rcpt", "data": "data_initiation"}.get(cmd.lower(), "command")
        self.wait(self.waiting_for)
        super().putcmd(cmd, args)

    def send(self, s):
        if self.waiting_for != "data_block":
            return super().send(s)
        self.wait("data_block")
        super().send(s)  # the whole message: smtplib.SMTP.data sends it at once
        self.waiting_for = "data_termination"

    def getreply(self):
        self.wait(self.waiting_for)
        code, text = super().getreply()
        if self.waiting_for == "data_initiation" and code == 354:
            self.waiting_for = "data_block"
        return code, text

    def wait(self, step: str) -> None:
        if self.sock:
            self.sock.settimeout(getattr(self.timeouts, step))

    @property
    def message_in_doubt(self) -> bool:
        """The whole message went out and its reply did not come: it may have been taken."""
        return self.waiting_for == "data_termination"


class TimedSMTP(RfcTimeouts, smtplib.SMTP):
    def __init__(self, host, port, timeouts: Timeouts):
        self.timeouts = timeouts
        super().__init__(host, port, timeout=timeouts.greeting)


class TimedSMTP_SSL(RfcTimeouts, smtplib.SMTP_SSL):  # noqa: N801 - smtplib's own spelling
    def __init__(self, host, port, timeouts: Timeouts, context: ssl.SSLContext):
        self.timeouts = timeouts
        super().__init__(host, port, timeout=timeouts.greeting, context=context)


def connect(settings: SmtpSettings) -> TimedSMTP | TimedSMTP_SSL:
    context = ssl.create_default_context()
    server: TimedSMTP | TimedSMTP_SSL
    if settings.security == "tls":
        server = TimedSMTP_SSL(settings.host, settings.effective_port, settings.timeouts, context)
    else:
        server = TimedSMTP(settings.host, settings.effective_port, settings.timeouts)
        if settings.security == "starttls":
            server.starttls(context=context)
    if settings.user:
        log_in(server, settings.user, settings.password or "")
    return server


def log_in(server: smtplib.SMTP, user: str, password: str) -> None:
    """PLAIN when offered, as RFC 4616 has it: UTF-8, so a password may hold any letter
    (smtplib encodes it as ASCII). Else smtplib's own choice, for ASCII alone."""
    server.ehlo_or_helo_if_needed()
    if "PLAIN" in server.esmtp_features.get("auth", "").upper().split():
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
        code, reply = server.docmd("AUTH", f"PLAIN {token}")
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, reply)
        return
    if not (user + password).isascii():
        raise MailError("the SMTP user (HANDOUT_SMTP_USER) or password (HANDOUT_SMTP_PASSWORD) has a letter"
                        " outside ASCII, and the server offers no PLAIN login that can carry it")
    server.login(user, password)


def response_of(exc: smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused) -> tuple[int, str]:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, detail = next(iter(exc.recipients.values()))
        return code, detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
    error = exc.smtp_error
    return exc.smtp_code, error.decode(errors="replace") if isinstance(error, bytes) else str(error)
