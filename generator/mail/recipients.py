"""The recipients of a mail merge: a CSV as spreadsheets save it, every row checked at once."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Diagnostic
from ..errors import MailError, location
from ..output.files import write_atomically
from ..read.load import decoded, read_bytes

ADDRESS_COLUMNS = ("email", "cc", "bcc")
# The headers a spreadsheet may give the columns handout reads, once written in lower case without
# spaces, '-' or '_' ("E-mail", "Email Address", "e_mail"), best first; the column is then read as
# the first name here, the one templates use too.
KNOWN_COLUMNS = {
    "email": ("email", "emailaddress", "mail", "mailaddress"),
    "cc": ("cc",),
    "bcc": ("bcc",),
    "name": ("name", "fullname"),
}
SAVE_AS_UTF8 = "in the spreadsheet, use Save As: CSV UTF-8"
# A line break in a field could add a mail header (Bcc: everyone); U+2028/2029 and NEL count.
LINE_BREAK = re.compile("[\n\r\u0085\u2028\u2029]")
# Other control characters (a vertical tab, a NUL) have no place in a name or an address.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Recipient:
    row: int  # the spreadsheet's row (the header is row 1), for messages
    email: str
    fields: dict[str, str]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()

    @property
    def envelope(self) -> list[str]:
        """Every address the message goes to."""
        return [self.email, *self.cc, *self.bcc]


@dataclass(frozen=True)
class Recipients:
    path: Path
    rows: tuple[Recipient, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    notices: tuple[str, ...] = ()  # how the file was read, where it was not as expected


def read_recipients(path: Path) -> Recipients:
    """The rows of a CSV saved by a spreadsheet (UTF-8, UTF-16 or Windows-1252; ',' ';' or tab);
    every problem at once.

    Raises MailError listing each problem with its row; nothing is read half.
    """
    text, notices = recipients_text(path)
    dialect = dialect_of(text)
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    problems: list[str] = []
    rows: list[Recipient] = []
    seen: dict[str, int] = {}
    row_number = 0  # the last row read whole
    try:
        header = [name.strip() for name in reader.fieldnames or []]
        row_number = 1
        columns, taken = known_columns(header)
        if "email" not in columns:
            raise MailError(f"no 'email' column (the columns are: {', '.join(header) or 'none'})", path, 1)
        reader.fieldnames = columns
        notices += [f"{location(path, 1)}: note: the '{header[columns.index(known)]}' column is read as"
                    f" '{known}'" for known in taken]
        shown = location(path)  # once: for a long list, resolving the path each row is most of the reading
        for row_number, row in enumerate(reader, start=2):
            recipient = read_row(row, row_number, len(columns), dialect.delimiter, f"{shown}:{row_number}", problems)
            if recipient is None:
                continue
            if recipient.email.lower() in seen:
                problems.append(f"{location(path, row_number)}: {recipient.email} is already on row"
                                f" {seen[recipient.email.lower()]}")
                continue
            seen[recipient.email.lower()] = row_number
            rows.append(recipient)
    except csv.Error as exc:
        problems.append(f"{location(path, row_number + 1)}: {csv_problem(exc)}; the rows after it were not read")
    if problems:
        raise MailError(f"{len(problems)} problem(s) in the recipients; nothing was sent:", path,
                        details=tuple(problems))
    if not rows:
        raise MailError("no recipients: the file has no rows under its header", path)
    rows, diagnostics = without_second_copies(rows, path)
    return Recipients(path, tuple(rows), tuple(diagnostics), tuple(notices))


def dialect_of(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The separator a spreadsheet used (',' ';' or tab), read from the header line."""
    try:
        return csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def write_rows(path: Path, rows: set[int], target: Path) -> None:
    """The header and the rows numbered `rows` (the header is row 1) of the CSV at `path`,
    written to `target` as they were: the same columns and separator, in UTF-8."""
    text, _ = recipients_text(path)
    dialect = dialect_of(text)
    kept = io.StringIO()
    writer = csv.writer(kept, dialect=dialect)
    for number, record in enumerate(csv.reader(io.StringIO(text), dialect=dialect), start=1):
        if number == 1 or number in rows:
            writer.writerow(record)
    write_atomically(target, kept.getvalue().encode("utf-8"))


def recipients_text(path: Path) -> tuple[str, list[str]]:
    """The CSV's text, and a notice when it had to be guessed. Excel saves "CSV" in the
    Windows code page (Windows-1252 in western Europe and the Americas), "Unicode text"
    as UTF-16 with a BOM, and "CSV UTF-8" as UTF-8 with a BOM."""
    data = read_bytes(path)
    notices = []
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\0" in data:
        raise MailError(f"not a text file in a known encoding (it has NUL bytes: UTF-16 without a BOM?);"
                        f" {SAVE_AS_UTF8}", path)
    else:
        try:
            data.decode("utf-8")
            encoding = "utf-8-sig"
        except UnicodeDecodeError:
            encoding = "cp1252"
            notices.append(f"{location(path)}: note: not UTF-8, so read as Windows-1252 (Excel's CSV);"
                           f" if names look wrong, {SAVE_AS_UTF8}")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1 if encoding == "cp1252" else None
        raise MailError(f"neither UTF-8, UTF-16 nor Windows-1252 (byte 0x{data[exc.start]:02x} cannot be read);"
                        f" {SAVE_AS_UTF8}", path, line) from None
    return decoded(text.encode("utf-8"), path), notices


def known_columns(header: list[str]) -> tuple[list[str], list[str]]:
    """The columns' names as rows are read (lower case; a known column under its own name),
    and the known columns found under another header."""
    squeezed = [re.sub(r"[\s_-]+", "", name.lower()) for name in header]
    columns = [name.lower() for name in header]
    taken = []
    for known, spellings in KNOWN_COLUMNS.items():
        if known in columns:
            continue
        found = next((squeezed.index(s) for s in spellings if s in squeezed), None)
        if found is not None:
            columns[found] = known
            taken.append(known)
    return columns, taken


def read_row(row: dict, row_number: int, width: int, delimiter: str, where: str,
             problems: list[str]) -> Recipient | None:
    """One row as a Recipient, or None with its problems added to `problems`."""
    # Here, not at the top: the workers' fork server imports this module (mail's messages name
    # recipients) and reads no rows, and email_validator takes 15 ms to import.
    from email_validator import EmailNotValidError, validate_email

    if None in row:  # csv.DictReader keeps a row's extra fields under None
        count = width + len(row[None])
        problems.append(f"{where}: {count} fields where the header has {width}: quote a value that holds"
                        f" '{delimiter}', or remove the '{delimiter}' at the end of the row")
        return None
    fields = {(key or "").strip().lower(): (value or "").strip() for key, value in row.items()}
    found = len(problems)
    for name, value in fields.items():
        if LINE_BREAK.search(value):
            problems.append(f"{where}: the {name} column has a line break (it could forge mail headers)")
        elif control := CONTROL.search(value):
            problems.append(f"{where}: the {name} column has the control character U+{ord(control[0]):04X}")
    addresses: dict[str, list[str]] = {}
    for column in ADDRESS_COLUMNS:
        addresses[column] = []
        for address in filter(None, (a.strip() for a in fields.get(column, "").replace(";", ",").split(","))):
            try:
                # Mail goes out without SMTPUTF8, which few servers take: a name before the @ in
                # ASCII, and a domain in other scripts written as its ASCII (punycode) form.
                valid = validate_email(address, check_deliverability=False, allow_smtputf8=False)
                addresses[column].append(valid.ascii_email or valid.normalized)
            except EmailNotValidError as exc:
                problems.append(f"{where}: {column} '{address}' is not a valid address ({exc})")
    if len(problems) > found:
        return None
    if len(addresses["email"]) != 1:
        problems.append(f"{where}: needs exactly one email address")
        return None
    return Recipient(row_number, addresses["email"][0], fields, tuple(addresses["cc"]), tuple(addresses["bcc"]))


def csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "field limit" in text:
        return (f"a value is longer than {csv.field_size_limit()} characters"
                " (is a quote '\"' left open on this row?)")
    return f"not readable as CSV ({text})"


def without_second_copies(rows: list[Recipient], path: Path) -> tuple[list[Recipient], list[Diagnostic]]:
    """A person gets one copy of a handout: a cc or bcc that is a recipient's own address
    (this row's or another's) is left out, with a warning naming both rows."""
    own_row = {recipient.email.lower(): recipient.row for recipient in rows}
    kept, diagnostics = [], []
    for recipient in rows:
        copies: dict[str, list[str]] = {}
        for column in ("cc", "bcc"):
            copies[column] = []
            for address in getattr(recipient, column):
                row = own_row.get(address.lower())
                if row is None:
                    copies[column].append(address)
                    continue
                why = ("the row's own address" if row == recipient.row
                       else f"row {row} sends them a message of their own")
                diagnostics.append(Diagnostic("M401", f"{column} {address} left out: {why}", path, recipient.row))
        kept.append(Recipient(recipient.row, recipient.email, recipient.fields, tuple(copies["cc"]),
                              tuple(copies["bcc"])))
    return kept, diagnostics
