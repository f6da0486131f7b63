"""One recipient's letter: what they receive, its key, and the email that carries it."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
from dataclasses import dataclass, field, replace
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import cast

from ..read.load import slugify
from .recipients import Recipient

# Text parts as quoted-printable UTF-8: readable in the .eml as it is, safe for any server.
UTF8 = Charset("utf-8")
UTF8.body_encoding = QP
# Characters of the recipient's part of an attachment's name, at most: a name, not a sentence.
MAX_NAME = 40


@dataclass(frozen=True)
class Handout:
    """The PDF a recipient gets: where it is (or its bytes, when it is made for one recipient as
    their message is: never written), the name it is attached under, its bytes' SHA-256, and the
    SHA-256 of what it says: of the PDF before it was encrypted with the recipient's password
    (encryption is new bytes each time, the same handout)."""

    path: Path | None
    filename: str
    digest: bytes
    content: bytes
    held: bytes | None = field(default=None, repr=False)

    @classmethod
    def of(cls, path: Path, filename: str | None = None) -> Handout:
        with path.open("rb") as pdf:
            digest = hashlib.file_digest(pdf, "sha256").digest()
        return cls(path, filename or path.name, digest, digest)

    @classmethod
    def of_bytes(cls, data: bytes, filename: str, content: bytes | None = None) -> Handout:
        digest = hashlib.sha256(data).digest()
        return cls(None, filename, digest, content or digest, data)

    @property
    def size(self) -> int:
        if self.held is not None:
            return len(self.held)
        assert self.path is not None, "a handout is a file or bytes"
        return self.path.stat().st_size

    def data(self) -> bytes:
        if self.held is not None:
            return self.held
        assert self.path is not None, "a handout is a file or bytes"
        return self.path.read_bytes()

    def light(self) -> Handout:
        """This handout without the bytes it holds: what the letter says of it, to pass on."""
        return replace(self, held=None)


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


def compose(letter: Letter, sender: str) -> Message:
    """The email: plain text and HTML from the Markdown body, the handout attached.

    Made with the email package's classic classes (email.mime), which take each header as it
    is given, where EmailMessage parses every one it is given and folds it again: a third of
    the time a stamped handout's message took. Header values here are single lines (the
    subject is one line; fields with line breaks are refused when the CSV is read), and the
    non-ASCII ones are encoded (RFC 2047) as EmailMessage would.
    """
    recipient = letter.recipient
    key = letter.key
    message = MIMEMultipart("mixed", boundary=boundary(key, "mixed"))
    message["Subject"] = header(letter.subject)  # type: ignore[assignment]  # typeshed: str only; Header is the API
    message["From"] = formataddr(parseaddr(sender), charset="utf-8")
    # Mail programs sort and spam filters score by Date; SOURCE_DATE_EPOCH fixes it, as it does the PDFs'.
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    message["Date"] = formatdate(int(epoch) if epoch.isdigit() else None)
    message["To"] = formataddr((recipient.fields.get("name", ""), recipient.email), charset="utf-8")
    if recipient.cc:
        message["Cc"] = ", ".join(recipient.cc)
    text = MIMEMultipart("alternative", boundary=boundary(key, "alternative"))
    text.attach(text_part(letter.body, "plain"))
    text.attach(text_part(f"<!DOCTYPE html><html><body>{html_of(letter.body)}</body></html>", "html"))
    attachment = pdf_part(letter.handout.data(), letter.attachment_name)
    for part in (text, *text.get_payload(), attachment):
        del part["MIME-Version"]  # the message's own says it; email.mime gives every part one
    message.attach(text)
    message.attach(attachment)
    # No idstring: with one, the line was too long to leave unfolded (X-Handout-Id holds the key).
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "handout")
    message["X-Handout-Id"] = key  # the letter's key, as the send log has it: a line of 78 characters
    return message


def message_bytes(message: Message) -> bytes:
    """The message's bytes, as `message.as_bytes()` gives them (for the email.mime classes'
    policy, compat32)."""
    buffer = io.BytesIO()
    MessageWriter(buffer, mangle_from_=False, policy=SHORT_HEADERS_AS_THEY_ARE).flatten(message)
    return buffer.getvalue()


class ShortHeadersAsTheyAre(Compat32):
    """compat32, with a header that fits on its line as it is written as it is.

    compat32 makes every header an email.header.Header to fold it, a hundredth of
    a millisecond each: a sixth of the time a message took to write. One line of
    ASCII within the line length is the same folded or not (a test compares them).
    """

    def fold_binary(self, name: str, value) -> bytes:
        if (isinstance(value, str) and value.isascii() and "\n" not in value and "\r" not in value
                and len(name) + 2 + len(value) <= (self.max_line_length or 0)):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


SHORT_HEADERS_AS_THEY_ARE = ShortHeadersAsTheyAre()


class MessageWriter(BytesGenerator):
    """The email package's writer, writing the handout's base64 text whole.

    Its own writes a part's text a line at a time, two calls a line, to give
    each line the line ending asked for: a handout of 36 KB is 640 lines, and
    writing them was half the time a message took to write. The base64 text of
    pdf_part has "\n" endings, so it is written in one call, its endings
    replaced only when others are asked for.
    """

    def _handle_application_pdf(self, part: Message) -> None:
        # Looked up by the email package's Generator._dispatch for an application/pdf part.
        text = cast(str, part.get_payload())  # pdf_part's base64 text
        newline: str = self._NL  # type: ignore[attr-defined]  # the line ending asked for
        self.write(text if newline == "\n" else text.replace("\n", newline))


def pdf_part(data: bytes, filename: str) -> MIMENonMultipart:
    """The handout attached, in base64, as email.mime's MIMEApplication makes it.

    Made from its base64 text: MIMEApplication takes the PDF's bytes through two
    surrogate-escaped copies of them before encoding, most of the time a message took.
    """
    part = MIMENonMultipart("application", "pdf")
    part.set_payload(base64.encodebytes(data).decode("ascii"))  # as email.encoders.encode_base64 does
    part["Content-Transfer-Encoding"] = "base64"
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def boundary(key: str, part: str) -> str:
    """The boundary of a multipart part of the message, the same each time it is made.

    Given, the email package does not search the whole message for a boundary that
    no line holds (a fifth of the time it took to write the message). None can: the
    boundary holds "==", and so can no line of a part here. Text parts are
    quoted-printable, which writes each "=" as "=3D"; the handout is base64,
    whose lines hold "=" only at the end and never begin with "--". Short enough that
    the Content-Type line holding it needs no folding (ShortHeadersAsTheyAre).
    """
    return f"=={part}-{key[:12]}=="


def text_part(text: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, UTF8)
    return part


def header(value: str) -> str | Header:
    """A header's value as it is when ASCII, else encoded (RFC 2047)."""
    return value if value.isascii() else Header(value, UTF8)


def html_of(body: str) -> str:
    """The HTML part of a message from its Markdown body, with raw HTML sanitized."""
    from ..markup import sanitize
    from ..markup.html import PARSER

    return sanitize.clean(PARSER.render(body))
