"""One recipient's letter: what they receive, its key, and the email that carries it."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path

from ..read.load import slugify
from .recipients import Recipient

# Characters of the recipient's part of an attachment's name, at most: a name, not a sentence.
MAX_NAME = 40


@dataclass(frozen=True)
class Handout:
    """The PDF a recipient gets: where it is, the name it is attached under, its bytes' SHA-256,
    and the SHA-256 of what it says: of the PDF before it was encrypted with the recipient's
    password (encryption is new bytes each time, the same handout)."""

    path: Path
    filename: str
    digest: bytes
    content: bytes

    @classmethod
    def of(cls, path: Path, filename: str | None = None, content: bytes | None = None) -> Handout:
        with path.open("rb") as pdf:
            digest = hashlib.file_digest(pdf, "sha256").digest()
        return cls(path, filename or path.name, digest, content or digest)


@dataclass(frozen=True)
class Letter:
    """What one recipient receives, filled in but not yet made into an email (small: no PDF bytes)."""

    recipient: Recipient
    subject: str
    body: str
    handout: Handout

    @property
    def attachment_name(self) -> str:
        """The handout's name and the recipient's ('hand-hygiene-ana-ruiz.pdf'), safe for a file,
        so that handouts saved from several messages keep apart; the address's local part
        when the row has no name."""
        name = self.recipient.fields.get("name", "")
        who = slugify(name if re.search(r"\w", name) else self.recipient.email.rpartition("@")[0])
        return f"{Path(self.handout.filename).stem}-{who[:MAX_NAME].rstrip('-.')}.pdf"

    @property
    def key(self) -> str:
        """What makes a message the same message: its recipients and what they read,
        not when it was made (nor the MIME boundaries, which differ each time)."""
        recipient = self.recipient
        return hashlib.sha256(b"\0".join([
            recipient.email.lower().encode(), ",".join(recipient.cc + recipient.bcc).encode(),
            self.subject.encode(), self.body.encode(), self.handout.content,
        ])).hexdigest()


def compose(letter: Letter, sender: str) -> EmailMessage:
    """The email: plain text and HTML from the Markdown body, the handout attached."""
    recipient = letter.recipient
    message = EmailMessage()
    message["Subject"] = letter.subject
    message["From"] = sender
    # Mail programs sort and spam filters score by Date; SOURCE_DATE_EPOCH fixes it, as it does the PDFs'.
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    message["Date"] = formatdate(int(epoch) if epoch.isdigit() else None)
    message["To"] = formataddr((recipient.fields.get("name", ""), recipient.email))
    if recipient.cc:
        message["Cc"] = ", ".join(recipient.cc)
    message.set_content(letter.body)
    message.add_alternative(f"<!DOCTYPE html><html><body>{html_of(letter.body)}</body></html>", subtype="html")
    message.add_attachment(letter.handout.path.read_bytes(), maintype="application", subtype="pdf",
                           filename=letter.attachment_name)
    key = letter.key
    message["Message-ID"] = make_msgid(idstring=key[:20], domain=parseaddr(sender)[1].rpartition("@")[2] or "handout")
    message["X-Handout-Key"] = key
    return message


def html_of(body: str) -> str:
    """The HTML part of a message from its Markdown body, with raw HTML sanitized."""
    from ..markup import sanitize
    from ..markup.html import PARSER

    return sanitize.clean(PARSER.render(body))
