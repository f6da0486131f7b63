"""Stage 6: handouts sent by email to a list of recipients, safely and only once.

Read the recipients (recipients.py: a CSV as spreadsheets save it) and the
message (templates.py: Markdown with a subject in its front matter, both
Jinja2 templates over each recipient's columns, in a bounded sandbox); build
the handout, or one for each recipient (personal.py); check everything before
anything is sent; then make one message at a time (compose.py) and either
write it to output/outbox/ (the default, a dry run) or send it over SMTP
(smtp.py), dropping it before the next (merge.py). The send log (log.py)
records each message sent, so a run stopped halfway sends only the rest when
run again, and nobody is sent a message twice without --resend; the rows whose
message failed are kept as output/failed.csv for the next run.
"""

from ..errors import MailError
from .compose import Handout, Letter, compose
from .log import SENT, SendLog
from .merge import (
    SKIPPED,
    Merge,
    Outbox,
    SendReport,
    SendRun,
    dry_run,
    keep_failed_rows,
    prepared,
    send,
    send_test,
    send_to_list,
    sigterm_interrupts,
    stop_requests,
    write_outbox,
)
from .recipients import Recipient, Recipients, read_recipients
from .smtp import SmtpSettings, Timeouts, connect, smtp_settings
from .templates import MessageTemplate, read_message, render_for, written_message

__all__ = [
    "SENT", "SKIPPED", "Handout", "Letter", "MailError", "Merge", "MessageTemplate", "Outbox", "Recipient",
    "Recipients", "SendLog", "SendReport", "SendRun", "SmtpSettings", "Timeouts", "compose", "connect",
    "dry_run", "keep_failed_rows", "prepared", "read_message", "read_recipients", "render_for", "send",
    "send_test", "send_to_list", "sigterm_interrupts", "smtp_settings", "stop_requests", "write_outbox",
    "written_message",
]
