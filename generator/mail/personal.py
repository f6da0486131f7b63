"""The handout each recipient gets: one PDF for all, stamped, or one built for each.

An article whose recipient fields are only in its `personal:` line is typeset
once and each recipient's line stamped onto it (stamp.py). One that uses
recipient fields elsewhere (`Prepared for {{ recipient.name }}` in its text)
is filled in for each recipient and built in full, in parallel. A `password`
column encrypts that recipient's PDF (AES-256). Those copies and PDFs hold the
recipients' data, so they live in a private temporary folder (mode 0700) that
is removed however the run ends (short of SIGKILL, which leaves it there,
private, never in content/).
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pypdf import PdfReader, PdfWriter

from ..errors import MailError, ThemeError, display_path
from ..read.load import EXTENSIONS, FRONT_MATTER, SLUG, read_text, slug_for
from .compose import Handout
from .recipients import Recipient, Recipients
from .stamp import (
    RECIPIENT_FIELDS,
    STAMPS_PER_DOCUMENT,
    PersonalLine,
    Stamped,
    filled_lines,
    personal_line,
    stamps_template,
)
from .templates import TEMPLATE_SECONDS, compile_template, fill_in

if TYPE_CHECKING:
    from ..build import BuildResult, StampBatch


@dataclass(frozen=True)
class Prepared:
    """Handouts made before the first message: one for all, or one built in full for each."""

    by_row: dict[int, Handout]

    def most_bytes(self, row: int) -> int:
        return self.by_row[row].size

    def handout(self, recipient: Recipient) -> Handout:
        return self.by_row[recipient.row]


@dataclass(frozen=True)
class Handouts:
    """Each recipient's handout, as their message is made; `how` says how they were made."""

    made: Prepared | Stamped
    how: str

    def most_bytes(self, row: int) -> int:
        return self.made.most_bytes(row)

    def handout(self, recipient: Recipient) -> Handout:
        handout = self.made.handout(recipient)
        password = recipient.fields.get("password", "")
        return locked(handout, password) if password else handout


def locked(handout: Handout, password: str) -> Handout:
    """The handout encrypted with AES-256 (pypdf): it opens only with `password`."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(handout.data())))
    writer.encrypt(user_password=password, algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return Handout.of_bytes(buffer.getvalue(), handout.filename, content=handout.content)


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A folder only this user can read, removed when the block ends, however it ends."""
    folder = Path(tempfile.mkdtemp(prefix="handout-mail-"))  # mode 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def handouts_for(article: Path, recipients: Recipients, options, workspace: Path,
                 seconds: float = TEMPLATE_SECONDS) -> Handouts:
    """Each recipient's handout. Personal ones are made inside `workspace`."""
    text = read_text(article)
    personal = personal_line(text)
    rows = recipients.rows
    if not RECIPIENT_FIELDS.search(text) or personal and stamps_template(article, options):
        if not personal:
            shared = shared_handout(article, options)
            return Handouts(Prepared({recipient.row: shared for recipient in rows}),
                            f"{display_path(article)}: one handout for all {len(rows)} recipients")
        return Handouts(stamped(article, personal, recipients, options, workspace, seconds),
                        f"{display_path(article)}: typeset once, each recipient's personal line stamped"
                        f" onto it ({len(rows)} recipients)")
    where = "its personal line, in a theme with no personal area" if personal else "its text"
    return Handouts(built_for_each(article, text, rows, options, workspace, seconds),
                    f"{display_path(article)}: recipient fields in {where}: a full build for each of the"
                    f" {len(rows)} recipients")


def shared_handout(article: Path, options, stamps: Sequence[StampBatch] = (),
                   stamped: Callable[[int, BuildResult], None] | None = None) -> Handout:
    """The article built as it is: the handout for all, or the one the lines are stamped onto
    (`stamps`, typeset beside it: build())."""
    from ..build import build

    (result,) = build([article], options, stamps=stamps, stamped=stamped)
    if result.error or not result.output:
        raise result.error or MailError("the handout was not built", article)
    return Handout.of(result.output)


def stamped(article: Path, personal: PersonalLine, recipients: Recipients, options, workspace: Path,
            seconds: float) -> Stamped:
    """The article built, and the recipients' lines typeset beside it, STAMPS_PER_DOCUMENT to a
    document, in `workspace`. A batch that cannot be typeset (one that runs past the time
    limit) is the recipients' file's error."""
    from ..build import StampBatch

    lines = list(filled_lines(personal, recipients.rows, article, seconds))
    folder = workspace / "stamps"
    folder.mkdir()
    batches = [StampBatch(tuple(lines[at:at + STAMPS_PER_DOCUMENT]), folder / f"{at // STAMPS_PER_DOCUMENT:05d}.pdf")
               for at in range(0, len(lines), STAMPS_PER_DOCUMENT)]
    stamps: dict[int, BuildResult] = {}
    shared = shared_handout(article, options, batches, stamps.__setitem__)
    results = [stamps[at] for at in range(len(batches))]
    documents = []
    for at, result in enumerate(results):
        if isinstance(result.error, ThemeError):
            raise MailError(f"{result.error.problem}; nothing was sent", result.error.path, result.error.line)
        if result.error or not result.output:
            rows = recipients.rows[at * STAMPS_PER_DOCUMENT:(at + 1) * STAMPS_PER_DOCUMENT]
            problem = result.error.problem if result.error else "not typeset"
            raise MailError(f"rows {rows[0].row}-{rows[-1].row}: their personal lines ({display_path(article)}):"
                            f" {problem}; nothing was sent", recipients.path)
        documents.append(result.output)
    return Stamped(shared, tuple(documents), tuple(r.row for r in recipients.rows))


def built_for_each(article: Path, text: str, recipients: tuple[Recipient, ...], options, workspace: Path,
                   seconds: float) -> Prepared:
    """The article filled in for each recipient and built in full, in parallel."""
    from ..build import build

    template = compile_template(text, article)
    folder = mirror(article.parent, workspace / "articles")
    copies: dict[int, Path] = {}
    filename = None
    for recipient in recipients:
        personal, slug = with_own_slug(fill_in(template, {"recipient": recipient.fields}, article, seconds,
                                               recipient.row), f"-for-{recipient.row}")
        filename = f"{slug or slug_for(article)}.pdf"
        copies[recipient.row] = folder / f"{article.stem}-for-{recipient.row}{article.suffix}"
        copies[recipient.row].write_text(personal, encoding="utf-8")
    results = build(list(copies.values()), replace(options, output_dir=workspace / "handouts"))
    handouts = {}
    for row, result in zip(copies, results, strict=True):
        if result.error or not result.output:
            problem, line = (result.error.problem, result.error.line) if result.error else ("not built", None)
            raise MailError(f"the handout for row {row}: {problem}", article, line)
        handouts[row] = Handout.of(result.output, filename)
    return Prepared(handouts)


def with_own_slug(text: str, suffix: str) -> tuple[str, str | None]:
    """The article with `suffix` added to the slug its front matter gives (so each
    recipient's copy has a handout of its own), and that slug; or the text as it is
    and None when it gives none (the copy's file name then makes the handout's)."""
    match = FRONT_MATTER.match(text)
    try:
        node = yaml.compose(match["yaml"] or "", Loader=yaml.SafeLoader) if match else None
    except yaml.YAMLError:
        return text, None  # the build names the problem
    if match is None or not isinstance(node, yaml.MappingNode):
        return text, None
    for key, value in node.value:
        if key.value == "slug" and isinstance(value, yaml.ScalarNode) and SLUG.match(str(value.value)):
            start = match.start("yaml") + value.start_mark.index
            end = match.start("yaml") + value.end_mark.index
            return text[:start] + value.value + suffix + text[end:], value.value
    return text, None


def mirror(folder: Path, into: Path) -> Path:
    """A folder in `into` from which relative paths lead where they lead from `folder`:
    links to the entries of `folder` and of each folder above it, up to the working
    directory. A copy of an article placed in it finds its images as the article does."""
    folder, top = folder.resolve(), Path.cwd().resolve()
    if not folder.is_relative_to(top):
        top = folder
    level = top
    for part in (None, *folder.relative_to(top).parts):
        level = level / part if part else level
        inside = into / level.relative_to(top)
        inside.mkdir(parents=True, exist_ok=True)
        for entry in level.iterdir():
            on_the_way = folder.is_relative_to(entry) and entry.is_dir()
            an_article = level == folder and entry.suffix.lower() in EXTENSIONS
            if not on_the_way and not an_article:
                (inside / entry.name).symlink_to(entry)
    return into / folder.relative_to(top)
