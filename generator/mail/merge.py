"""The mail merge itself: check everything, then one message at a time, written or sent.

Nothing is sent until every row, every template and every handout has been
checked. Then each message is made, written (dry run) or sent, and dropped
before the next is made, so memory does not grow with the list. A dry run has
its messages made by worker processes, a few recipients at a time (making a
message, its handout stamped and encoded, is most of its time), and writes
them in the order of the rows.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
import smtplib
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

from .. import pool
from ..config import MEGABYTE
from ..errors import HandoutError, MailError, TemplateTimeout, location
from ..output.files import file_lock, write_atomically
from .compose import Letter, compose, message_bytes
from .log import FAILED, SENT, UNCONFIRMED, SendLog
from .personal import Handouts, handouts_for, private_folder
from .recipients import Recipient, Recipients, read_recipients, write_rows
from .smtp import (
    SmtpSettings,
    connect,
    for_dry_run,
    for_sending,
    response_of,
    smtp_settings,
)
from .templates import (
    MessageTemplate,
    read_message,
    render_for,
)

# A temporary failure (4xx, a dropped connection) is tried again this many times,
# waiting `backoff` seconds, then twice that, and so on.
RETRIES = 3
# Rows whose problems are listed before the check stops.
MAX_PROBLEMS = 20
# The merge's files in the output folder, for the command line and the web page alike.
OUTBOX, SEND_LOG, FAILED_ROWS = "outbox", "mail-log.jsonl", "failed.csv"
# The progress of a letter not sent because its recipient was sent it before.
SKIPPED = "skipped"
# Recipients whose messages a worker process makes at a time: enough to outweigh handing them
# out, few enough that the messages made ahead of being written stay a few MB...
LETTERS_PER_JOB = 10
# ...and fewer when the handouts are large: the messages of a job take at most about this much.
JOB_BYTES = 4 * MEGABYTE


@dataclass(frozen=True)
class Merge:
    """Everything read and checked: what a dry run writes or a send sends."""

    recipients: Recipients
    template: MessageTemplate
    handouts: Handouts
    settings: SmtpSettings
    notices: tuple[str, ...] = ()  # for the user, once, before anything is written or sent
    workers: int = 1  # processes that make a dry run's messages

    def letters(self) -> Iterator[Letter]:
        """Each recipient's letter, filled in as it is asked for: its handout too, when it is
        made for them (stamped or encrypted), in place of the last one's."""
        for recipient in self.recipients.rows:
            yield letter_for(self.template, self.handouts, recipient)


def letter_for(template: MessageTemplate, handouts: Handouts, recipient: Recipient) -> Letter:
    subject, body = render_for(template, recipient.fields, recipient.row)
    return Letter(recipient, subject, body, handouts.handout(recipient))


@dataclass(frozen=True)
class MessageMaking:
    """What a process that makes messages needs, sent to it once: plain data."""

    template: MessageTemplate
    handouts: Handouts
    sender: str
    cwd: Path
    environment: dict[str, str | None]


def start_making(making: MessageMaking) -> MessageMaking:
    os.chdir(making.cwd)
    pool.mirror_environment(making.environment)  # SOURCE_DATE_EPOCH dates the messages
    return making


def make_messages(making: MessageMaking,
                  recipients: tuple[Recipient, ...]) -> list[tuple[Letter, bytes]] | HandoutError:
    """Each recipient's letter and its message's bytes; or the error that stopped them."""
    try:
        with pool.cycle_collection_paused():
            return [(replace(letter, handout=letter.handout.light()), message_bytes(compose(letter, making.sender)))
                    for letter in (letter_for(making.template, making.handouts, r) for r in recipients)]
    except HandoutError as exc:
        return exc


def messages_lost(recipients_csv: Path, recipients: tuple[Recipient, ...], why: str = "") -> MailError:
    return MailError(f"rows {recipients[0].row}-{recipients[-1].row}: the process making their messages stopped"
                     " (out of memory?); the messages of the rows before them were written", recipients_csv)


def letters_per_job(largest_handout: int) -> int:
    """Recipients a job makes the messages of, when the largest handout is this many bytes."""
    attached = largest_handout * 4 // 3  # in base64
    return max(1, min(LETTERS_PER_JOB, JOB_BYTES // max(1, attached)))


def made_messages(merge: Merge) -> Generator[tuple[Letter, bytes], None, None]:
    """Each recipient's letter and its message's bytes, in the order of the rows, made
    LETTERS_PER_JOB at a time (fewer for large handouts) by `merge.workers` processes (the
    build's --jobs), or here when they are few."""
    rows = merge.recipients.rows
    size = letters_per_job(max(merge.handouts.most_bytes(r.row) for r in rows))
    jobs = {at: rows[at:at + size] for at in range(0, len(rows), size)}
    making = MessageMaking(merge.template, merge.handouts, merge.settings.from_address, Path.cwd(),
                           pool.environment())
    made: Generator[tuple[object, object], None, None]
    if len(jobs) == 1 or merge.workers == 1:
        made = ((at, make_messages(making, job)) for at, job in jobs.items())
    else:
        lost = functools.partial(messages_lost, merge.recipients.path)
        workers = min(merge.workers, len(jobs))
        made = pool.ahead(pool.run(jobs, make_messages, start_making, making, workers, len(jobs),
                                   lost=lost, overran=lost), 2 * workers)
    finished: dict[object, object] = {}
    with contextlib.closing(made):
        for at in jobs:
            while at not in finished:
                key, result = next(made)
                finished[key] = result
            result = finished.pop(at)
            if isinstance(result, HandoutError):
                raise result
            yield from cast(list[tuple[Letter, bytes]], result)


@contextlib.contextmanager
def prepared(recipients_csv: Path, article: Path, message: Path | MessageTemplate, config, build_options,
             max_size_mb: float | None = None, sending: bool = False) -> Iterator[Merge]:
    """Read and check everything and build the handouts; nothing is sent or written.
    With `sending`, the SMTP settings are checked first, before any handout is built.
    `message` is the message's file, or its template already read (the web page's fields).

    Personal handouts live in a private folder for as long as the block lasts.
    """
    pool.start_early(also=pool.MAIL_PRELOAD)  # workers make the handouts and messages: most of a long run
    notices = []
    if sending:
        settings = for_sending(smtp_settings(config.mail))
    else:
        settings, stand_in = for_dry_run(smtp_settings(config.mail))
        notices += [f"handout: warning: {stand_in}"] if stand_in else []
    recipients = read_recipients(recipients_csv)
    template = (message if isinstance(message, MessageTemplate)
                else read_message(message, config.mail.template_seconds))
    max_bytes = int((max_size_mb or config.mail.max_size_mb) * MEGABYTE)
    # Before the handouts are typeset: a letter that cannot be filled in stops the run at once
    # (and this process has the time, while the workers' server starts).
    check_letters(recipients, template)
    with private_folder() as workspace:
        handouts = handouts_for(article, recipients, build_options, workspace, template.seconds)
        merge = Merge(recipients, template, handouts, settings, (*notices, *recipients.notices, handouts.how),
                      build_options.jobs or os.cpu_count() or 1)
        check_sizes(merge, max_bytes)
        yield merge


def check_letters(recipients: Recipients, template: MessageTemplate) -> None:
    """Every letter fills in; the problems of up to MAX_PROBLEMS rows at once (a template too
    slow for one row stops the check there)."""
    problems: list[MailError] = []
    for recipient in recipients.rows:
        try:
            render_for(template, recipient.fields, recipient.row)
        except MailError as exc:
            problems.append(exc)
            if isinstance(exc, TemplateTimeout) or len(problems) == MAX_PROBLEMS:
                break
    stop_with(problems)


def check_sizes(merge: Merge, max_bytes: int) -> None:
    """Every handout fits the email budget; the problems of up to MAX_PROBLEMS rows at once."""
    problems: list[MailError] = []
    for recipient in merge.recipients.rows:
        size = merge.handouts.most_bytes(recipient.row)
        if size > max_bytes:
            problems.append(MailError(f"row {recipient.row}: the handout is {size / MEGABYTE:.1f} MB,"
                                      f" over the {max_bytes / MEGABYTE:.1f} MB budget"))
            if len(problems) == MAX_PROBLEMS:
                break
    stop_with(problems)


def stop_with(problems: list[MailError]) -> None:
    """Stop the run, nothing sent, with the problems found, if any."""
    if len(problems) == 1:
        raise MailError(f"{problems[0].problem}; nothing was sent", problems[0].path, problems[0].line)
    if problems:
        raise MailError(f"{len(problems)} problem(s); nothing was sent:",
                        details=tuple(f"{location(p.path, p.line)}: {p.problem}" for p in problems))


@dataclass
class Outbox:
    folder: Path
    written: int = 0
    size: int = 0
    first: Path | None = None  # the first message, for a preview
    stopped: bool = False  # by Ctrl-C, before the last


def outbox_name(number: int, email: str) -> str:
    """A file name from an address: any character but letters, digits, '.', '+' and '-' becomes '_'
    (an address may hold '/', and a name must not lead out of the folder)."""
    return f"{number:04d}-{re.sub(r'[^A-Za-z0-9.+-]', '_', email.replace('@', '_at_')).lstrip('.')}.eml"


def write_outbox(merge: Merge, folder: Path, stop: threading.Event | None = None,
                 progress: Callable[[Path, Letter], None] | None = None) -> Outbox:
    """The dry run: each message as a .eml file a mail program can open, in place of the last run's;
    `progress` is told of each file written."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.eml"):
        old.unlink()
    outbox = Outbox(folder)
    made = made_messages(merge)
    with contextlib.closing(made):
        for number, (letter, data) in enumerate(made, start=1):
            if stop and stop.is_set():
                outbox.stopped = True
                break
            path = folder / outbox_name(number, letter.recipient.email)
            write_atomically(path, data)
            if progress:
                progress(path, letter)
            outbox.written += 1
            outbox.size += len(data)
            outbox.first = outbox.first or path
    return outbox


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sent to by an earlier run
    changed: list[str] = field(default_factory=list)  # of those, sent another version of the message
    in_doubt: list[str] = field(default_factory=list)  # taken by the server perhaps (unconfirmed), now or before
    failed: list[tuple[str, str]] = field(default_factory=list)
    left: int = 0  # not tried: --limit, or the run stopped
    stopped: str | None = None  # why the run stopped before the end


def keep_failed_rows(merge: Merge, report: SendReport, target: Path) -> Path | None:
    """The rows of the recipients whose message failed, as a CSV like theirs, at `target`, for
    the next run to take as its recipients; None, and no file left from before, when none failed."""
    failed = {email.lower() for email, _ in report.failed}
    rows = {r.row for r in merge.recipients.rows if r.email.lower() in failed}
    if not rows:
        target.unlink(missing_ok=True)
        return None
    write_rows(merge.recipients.path, rows, target)
    return target


@contextlib.contextmanager
def signals_handled(handler: Callable, numbers=(signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """`handler` for these signals while the block runs (in the main thread, where signals go)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, handler) for number in numbers}
    try:
        yield
    finally:
        for number, earlier in previous.items():
            signal.signal(number, earlier)


def interrupt(signum, frame):
    raise KeyboardInterrupt


def sigterm_interrupts() -> contextlib.AbstractContextManager:
    """SIGTERM ends the run as Ctrl-C does: through every `finally`, so the private folder goes too."""
    return signals_handled(interrupt, (signal.SIGTERM,))


@contextlib.contextmanager
def stop_requests() -> Iterator[threading.Event]:
    """An event set by Ctrl-C (SIGINT) or SIGTERM, so sending (or writing) stops between two
    messages, never inside one; a second Ctrl-C stops at once."""
    stop = threading.Event()

    def request(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    with signals_handled(request):
        yield stop


def send(merge: Merge, log: SendLog, limit: int | None = None, resend: bool = False,
         progress: Callable[[str, Letter, str], None] | None = None,
         stop: threading.Event | None = None) -> SendReport:
    """Send each letter the log does not list as sent to its recipient, at most `limit`,
    at the settings' rate; `resend` sends again those whose letter changed since, or whose
    delivery the server never confirmed. Stops cleanly between two letters when `stop` is set.
    `progress` is told of each letter tried, and of each skipped (SKIPPED) as sent before."""
    settings, report = merge.settings, SendReport()
    stop = stop or threading.Event()
    tell = progress or (lambda status, letter, detail: None)
    server = None
    try:
        for letter in merge.letters():
            skipped = sent_before(letter, log, resend, report)
            if skipped is not None:
                tell(SKIPPED, letter, skipped)
                continue
            if not take_turn(report, limit, settings.rate, stop):
                report.left += 1
                continue
            status, detail, server = deliver(letter, server, settings, stop)
            if status == "unreachable":
                report.stopped, report.left = detail, report.left + 1
                continue
            record(letter, status, detail, log, report)
            tell(status, letter, detail)
    finally:
        quit_quietly(server)
    return report


def sent_before(letter: Letter, log: SendLog, resend: bool, report: SendReport) -> str | None:
    """None when the letter is to be sent now; else why not, as progress tells it ("" when sent
    already, "changed since" when changed without `resend`). The report counts it as skipped,
    changed or in doubt."""
    email = letter.recipient.email
    earlier = log.earlier(email, letter.key)
    if earlier == "unconfirmed":
        report.in_doubt.append(email)
    if earlier == "same" or (earlier and not resend):
        report.skipped.append(email)
        if earlier == "changed":
            report.changed.append(email)
        return "changed since" if earlier == "changed" else ""
    return None


def take_turn(report: SendReport, limit: int | None, rate: float, stop: threading.Event) -> bool:
    """Whether the next letter may go: within `limit`, not stopped, after waiting as long as
    `rate` (letters a minute) asks since the last one. A stop during the wait says why in the report."""
    if report.stopped or (limit is not None and len(report.sent) + len(report.failed) >= limit):
        return False
    if report.sent or report.failed:
        stop.wait(60 / rate)
    if stop.is_set():
        report.stopped = "stopped by a signal (Ctrl-C)"
        return False
    return True


def record(letter: Letter, status: str, detail: str, log: SendLog, report: SendReport) -> None:
    """One delivery's outcome, in the send log (for the next run) and in the report."""
    email = letter.recipient.email
    log.record(email, letter.key, status, detail, letter.handout.digest.hex())
    if status == SENT:
        report.sent.append(email)
    elif status == UNCONFIRMED:
        report.in_doubt.append(email)
    else:
        report.failed.append((email, detail))


def quit_quietly(server) -> None:
    """Close an SMTP connection, if there is one, ignoring a server already gone."""
    if server:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            server.quit()
@dataclass(frozen=True)
class SendRun:
    report: SendReport
    log: Path
    failed_rows: Path | None  # FAILED_ROWS, when some failed for good


def dry_run(merge: Merge, output_dir: Path, stop: threading.Event | None = None,
            progress: Callable[[Path, Letter], None] | None = None) -> Outbox:
    """The messages written to the output folder's outbox, for the command line and the web page."""
    return write_outbox(merge, output_dir / OUTBOX, stop, progress)


def send_to_list(merge: Merge, output_dir: Path, limit: int | None = None, resend: bool = False,
                 progress: Callable[[str, Letter, str], None] | None = None,
                 stop: threading.Event | None = None) -> SendRun:
    """Send with the output folder's send log, and keep the rows that failed for good as
    FAILED_ROWS there: a run from the command line and one from the web page share both."""
    with sole_sender(output_dir / SEND_LOG):
        log = SendLog(output_dir / SEND_LOG)  # read once the lock is held: another's last lines are in
        report = send(merge, log, limit, resend, progress, stop)
    return SendRun(report, log.path, keep_failed_rows(merge, report, output_dir / FAILED_ROWS))


def sole_sender(log: Path) -> contextlib.AbstractContextManager:
    """The send log held for one send at a time, from the command line or the web page: two
    sends over one log could each send a recipient the message the other is sending. A second
    send stops at once, before sending anything. (A dry run writes no log, and needs no lock.)"""
    def refuse(holder: int | None) -> None:
        by = f" (process {holder})" if holder else ""
        raise MailError(f"another send is running with this send log{by}: nothing was sent; wait for it"
                        " to end, or stop it, then send again", log)

    return file_lock(log, refuse)


def send_test(merge: Merge, address: str) -> tuple[str, str]:
    """(status, detail) of the first recipient's message sent to `address` alone, to see it as
    they will: nothing goes to anyone on the list, and nothing is logged as sent."""
    letter = next(merge.letters())
    test = replace(letter, recipient=replace(letter.recipient, email=address, cc=(), bcc=()))
    status, detail, server = deliver(test, None, merge.settings, threading.Event())
    quit_quietly(server)
    return status, detail


def deliver(letter: Letter, server, settings: SmtpSettings, stop: threading.Event) -> tuple[str, str, object]:
    """(status, detail, the connection to go on with) for one letter, tried again after a
    temporary failure. 'unreachable' when the server cannot be reached or refuses the login."""
    message = compose(letter, settings.from_address)
    attempt = 0
    while True:
        try:
            server = server or connect(settings)
            server.send_message(message, to_addrs=letter.recipient.envelope)
            return SENT, "", server
        except smtplib.SMTPAuthenticationError as exc:
            return "unreachable", f"the SMTP server refused the login ({exc.smtp_code})", None
        except (HandoutError, smtplib.SMTPNotSupportedError) as exc:
            return "unreachable", getattr(exc, "problem", str(exc)), None
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            code, detail = response_of(exc)
            if code == 421:  # the server closes the connection with it (smtplib does too)
                server = None
            if not 400 <= code < 500 or attempt == RETRIES:
                return FAILED, f"{code} {detail}", server
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            if server is not None and server.message_in_doubt:
                # The whole message went out: sent again, it could arrive twice.
                return UNCONFIRMED, f"the server did not confirm the message ({exc})", None
            server = None
            if attempt == RETRIES or stop.is_set():
                return "unreachable", f"cannot reach the SMTP server {settings.address} ({exc})", None
        stop.wait(settings.backoff * 2 ** attempt)
        attempt += 1
