"""Personal handouts made by stamping: the article typeset once, each recipient's line laid under it.

When the recipient fields of an article are only in its `personal:` line
("Prepared for {{ recipient.name }}, {{ recipient.group }}"), the article is
typeset once with the theme's personal area left empty (a plain build does
that), and every recipient's line is typeset in the theme's stamps.html, each
drawn apart as a form of its own, STAMPS_PER_DOCUMENT lines a document, in the
article's fonts, by the build's workers beside the article and within its time
limit (build.build). Each recipient's PDF is the shared one's bytes with an
update that draws their line's form first on its first page (underlay.py),
made when their message is made and dropped before the next. The personal area
is drawn first on its page in a full build too, so the stamped PDF reads, as
text, exactly as a full build for that recipient does; its metadata, outline
and fonts are the shared PDF's.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from pypdf import PdfReader

from ..errors import MailError
from ..read.load import FRONT_MATTER
from . import underlay
from .compose import Handout
from .recipients import Recipient
from .templates import compile_template, fill_in

# Recipients' lines typeset in one document: a fifth of a second of WeasyPrint, and a few MB
# of memory however long the list is.
STAMPS_PER_DOCUMENT = 250
# A personal line is a line: longer than this, it would run into the page below its area.
MAX_PERSONAL = 200
# A Jinja2 tag or expression that reads the recipient's fields.
RECIPIENT_FIELDS = re.compile(r"\{[{%][^}]*\brecipient\b")


@dataclass(frozen=True)
class PersonalLine:
    """The `personal:` template of an article whose other text names no recipient field."""

    template: str
    line: int  # of the article, where the value starts


def personal_line(text: str) -> PersonalLine | None:
    """The article's `personal:` template when the recipient fields are used there and
    nowhere else (so stamping makes the same handout as a full build); else None."""
    match = FRONT_MATTER.match(text)
    try:
        node = yaml.compose(match["yaml"] or "", Loader=yaml.SafeLoader) if match else None
    except yaml.YAMLError:
        return None  # the build names the problem
    if match is None or not isinstance(node, yaml.MappingNode):
        return None
    for key, value in node.value:
        if key.value == "personal" and isinstance(value, yaml.ScalarNode):
            start = match.start("yaml") + value.start_mark.index
            end = match.start("yaml") + value.end_mark.index
            if RECIPIENT_FIELDS.search(value.value) and not RECIPIENT_FIELDS.search(text[:start] + text[end:]):
                return PersonalLine(value.value, value.start_mark.line + 2)
    return None


def filled_lines(personal: PersonalLine, recipients: tuple[Recipient, ...], article: Path,
                 seconds: float) -> Iterator[str]:
    """Each recipient's personal line, on one line, in the order of the rows."""
    template = compile_template(personal.template, article, personal.line)
    for recipient in recipients:
        line = " ".join(fill_in(template, {"recipient": recipient.fields}, article, seconds, recipient.row,
                                personal.line).split())
        if len(line) > MAX_PERSONAL:
            raise MailError(f"row {recipient.row}: the personal line is {len(line)} characters long, over"
                            f" {MAX_PERSONAL}; nothing was sent", article, personal.line)
        yield line


def stamps_template(article: Path, options) -> Path | None:
    """The stamps.html of the article's theme, its own or the nearest of its ancestors': where
    the theme declares its personal area. None: it declares none."""
    from ..config import load_config
    from ..read.load import load_article
    from ..typeset import render

    config = options.config or load_config(options.project_dir)
    renderer = render.Renderer(options.project_dir, config.defaults, options.extra_css)
    meta = load_article(article).meta
    theme = options.theme or meta.theme or config.defaults.theme or render.DEFAULT_THEME
    return renderer.template_file(theme, "stamps.html", article)


@dataclass(frozen=True)
class Stamped:
    """The shared handout and the recipients' stamp documents: each recipient's PDF on demand."""

    shared: Handout
    stamps: tuple[Path, ...]  # STAMPS_PER_DOCUMENT rows a document, in the order of `rows`
    rows: tuple[int, ...]

    def __getstate__(self) -> dict:
        # To a process that makes messages: what it needs, not what this one read and cached.
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    @functools.cached_property
    def position(self) -> dict[int, int]:
        """Row -> its place in `rows`: looked up for every recipient, so not searched for."""
        return {row: place for place, row in enumerate(self.rows)}

    @functools.cached_property
    def most_bytes_by_document(self) -> tuple[int, ...]:
        """At most the size of a PDF stamped from each stamp document: the shared PDF and the whole
        stamp document (read once, not for every row)."""
        shared = self.shared.size
        return tuple(shared + stamps.stat().st_size for stamps in self.stamps)

    def most_bytes(self, row: int) -> int:
        return self.most_bytes_by_document[self.position[row] // STAMPS_PER_DOCUMENT]

    @functools.cached_property
    def base(self) -> underlay.Base:
        """The shared PDF, read and parsed once for all recipients."""
        return underlay.Base.of(self.shared.data())

    def handout(self, recipient: Recipient) -> Handout:
        index = self.position[recipient.row]
        sheet = stamp_sheet(self.base, self.stamps[index // STAMPS_PER_DOCUMENT])
        return Handout.of_bytes(underlay.laid_under(self.base, sheet, index % STAMPS_PER_DOCUMENT),
                                self.shared.filename)


@functools.lru_cache(maxsize=1)
def stamp_sheet(base: underlay.Base, path: Path) -> underlay.Sheet:
    """One stamp document read at a time: rows come in order."""
    drawn = json.loads(underlay.drawings_file(path).read_bytes())
    return underlay.Sheet.of(base, PdfReader(path), tuple((n, g, tuple(matrix)) for n, g, matrix in drawn))
