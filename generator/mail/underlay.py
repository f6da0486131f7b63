"""A line's drawing laid under the first page of a PDF, written as an incremental update of that PDF.

A stamp document draws each recipient's line as a form of its own (a form
XObject), all on one page. A recipient's stamped handout is the shared PDF's
bytes, unchanged, followed by an update (PDF 32000-1, 7.5.6) that holds their
line's form and a new first page: the shared page's dictionary with the form
drawn first, where the stamp document's page drew it. Every reader (pypdf,
poppler, qpdf, Acrobat) reads the two as one document, with the shared PDF's
outline, metadata and fonts. Writing it costs the line's few objects, not the
whole document again: the shared bytes are read and parsed once for all
recipients, and a stamp document once for all its lines, whose fonts are
written once.

The update's cross-reference section is a stream, as the shared PDF's is (WeasyPrint writes
the PDF versions handout asks for so, as typeset/pdf.py's with_identifier relies on too).
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from pypdf import PageObject, PdfReader
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)

STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
# Entries of a form that are not its drawing's: /Group makes it a transparency group, which the
# opacity that cut the line out asked for and its drawing here does not (no alpha is applied).
NOT_DRAWN = ("/Group",)


@dataclass(frozen=True, eq=False)  # one PDF, read once: cached by its identity
class Base:
    """The shared PDF, read once: its bytes and what an update of its first page needs."""

    data: bytes
    reader: PdfReader
    page_number: int  # the object number of the first page
    startxref: int

    @classmethod
    def of(cls, data: bytes) -> Base:
        reader = PdfReader(io.BytesIO(data))
        found = STARTXREF.search(data[-1024:])
        if not found or reader.pages[0].indirect_reference is None:
            raise ValueError("not a PDF whose first page can be updated")
        return cls(data, reader, reader.pages[0].indirect_reference.idnum, int(found[1]))

    @functools.cached_property
    def size(self) -> int:
        return cast(int, self.reader.trailer["/Size"])

    @functools.cached_property
    def page(self) -> DictionaryObject:
        return dictionary_of(self.reader.get_object(self.page_number))

    @functools.cached_property
    def resources(self) -> dict[str, PdfObject]:
        """The first page's resources, each kind resolved (a dictionary of names, mostly)."""
        return {kind: value.get_object() for kind, value in dictionary_of(self.page.get("/Resources")).items()}

    @functools.cached_property
    def form_name(self) -> str:
        """The name the first page's resources give a line's drawing: one of no form of its own."""
        name = "/handout-stamp"
        while name in dictionary_of(self.resources.get("/XObject")):
            name += "-x"
        return name

    @functools.cached_property
    def page_entries(self) -> bytes:
        """The first page's dictionary, written, but for its contents and resources and the closing >>."""
        return dictionary({k: v for k, v in self.page.items() if k not in ("/Contents", "/Resources")}, kept)[:-2]

    @functools.cached_property
    def resources_kept(self) -> bytes:
        """The first page's resources, written, but for its forms (/XObject) and the closing >>."""
        return dictionary({k: v for k, v in self.resources.items() if k != "/XObject"}, kept)[2:-2] + b" "

    @functools.cached_property
    def forms(self) -> bytes:
        """The first page's own forms, written as entries of an /XObject dictionary."""
        return dictionary(dictionary_of(self.resources.get("/XObject")), kept)[2:-2]


# Each form a stamp document draws: its object number and generation, and the matrix it is drawn with.
Drawn = tuple[tuple[int, int, tuple[float, ...]], ...]


@dataclass(frozen=True)
class Drawing:
    """One line of a stamp document: the form it is drawn as, and the matrix its page draws it with."""

    form: IndirectObject
    matrix: tuple[float, ...]


@dataclass(frozen=True)
class Sheet:
    """A stamp document read once for updates of a shared PDF: each line's drawing, in the order of
    the lines, and the objects the drawings share (their fonts), numbered after the shared PDF's
    objects and written once for all the lines."""

    drawings: tuple[Drawing, ...]
    numbers: dict[tuple[int, int], int]  # a shared object's (number, generation) -> its new number
    objects: tuple[tuple[int, bytes], ...]  # (new number, "n 0 obj ... endobj") of each
    next_number: int

    @classmethod
    def of(cls, base: Base, reader: PdfReader, drawn: Drawn) -> Sheet:
        """The stamp document `reader` reads, whose pages draw `drawn` (drawn_in: found once, by
        the worker that typeset it; reading the pages' drawing again took as long as the rest)."""
        found = tuple(Drawing(IndirectObject(number, generation, reader), matrix)
                      for number, generation, matrix in drawn)
        # What the first line's drawing and the last's both use (their fonts) is taken as what
        # all share: reading every drawing to be sure costs more than the update of a line
        # that does not use it all (or uses more, written with it) ever could.
        first, last = ([{(r.idnum, r.generation): r for r in reachable(dictionary_of(drawing.form), set())}
                        for drawing in (found[0], found[-1])] if found else [{}, {}])
        shared = [reference for key, reference in first.items() if key in last]
        numbers = {(r.idnum, r.generation): base.size + at for at, r in enumerate(shared)}

        def number(reference: IndirectObject) -> int:
            return numbers[(reference.idnum, reference.generation)]

        objects = tuple((number(r), indirect(number(r), serialized(r.get_object(), number))) for r in shared)
        return cls(found, numbers, objects, base.size + len(shared))


def drawn_in(data: bytes) -> Drawn:
    """The forms a stamp document's pages draw, the lines it draws apart, in order: plain data,
    kept beside it (drawings_file)."""
    return tuple((drawing.form.idnum, drawing.form.generation, drawing.matrix)
                 for page in PdfReader(io.BytesIO(data)).pages for drawing in drawings_on(page))


def drawings_file(stamps: Path) -> Path:
    """Where drawn_in of the stamp document `stamps` is kept."""
    return stamps.with_suffix(".json")


def drawings_on(page: PageObject) -> list[Drawing]:
    """The forms (XObjects) the page draws, in the order it draws them, each with the
    transformation matrix in effect where it is drawn."""
    forms = dictionary_of(dictionary_of(page.get("/Resources")).get("/XObject"))
    contents = page.get_contents()
    found: list[Drawing] = []
    if contents is None:
        return found
    matrix: tuple[float, ...] = IDENTITY
    saved = []
    for operands, operator in ContentStream(contents, page.pdf).operations:
        if operator == b"q":
            saved.append(matrix)
        elif operator == b"Q":
            matrix = saved.pop() if saved else IDENTITY
        elif operator == b"cm":
            matrix = concatenated(tuple(float(n) for n in operands), matrix)
        elif operator == b"Do" and isinstance(form := forms.raw_get(operands[0]) if operands[0] in forms else None,
                                               IndirectObject):
            # A form, in a stamp document: at the page's level it holds only the lines' forms
            # (and an image there, outside every line, would be something else printed).
            found.append(Drawing(form, matrix))
    return found


def concatenated(m: tuple[float, ...], ctm: tuple[float, ...]) -> tuple[float, ...]:
    """The matrix of `cm m` applied in a state whose matrix is `ctm` (PDF 32000-1, 8.3.4)."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = ctm  # noqa: N806 (the standard's names)
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def reachable(value: PdfObject | None, seen: set[tuple[int, int]]) -> list[IndirectObject]:
    """The objects `value` refers to, directly or through others, each once, in the order met."""
    found: list[IndirectObject] = []
    if isinstance(value, IndirectObject):
        key = (value.idnum, value.generation)
        if key in seen:
            return found
        seen.add(key)
        found.append(value)
        value = value.get_object()
    if isinstance(value, DictionaryObject):  # streams too
        for item in value.values():
            found += reachable(item, seen)
    elif isinstance(value, ArrayObject):
        for item in value:
            found += reachable(item, seen)
    return found


def dictionary_of(value: PdfObject | None) -> DictionaryObject:
    """`value` resolved, when it is a dictionary; else an empty one."""
    value = value.get_object() if value is not None else None
    return value if isinstance(value, DictionaryObject) else DictionaryObject()


def serialized(value: PdfObject | None, number: Callable[[IndirectObject], int],
               leave_out: tuple[str, ...] = ()) -> bytes:
    """`value` as PDF syntax, each reference to an object given the number `number` gives it
    (None, the object of a reference to nothing, is null), without the entries `leave_out`
    names. Streams are written decoded and compressed again: their data is the same."""
    if value is None:
        return b"null"
    if isinstance(value, IndirectObject):
        return b"%d 0 R" % number(value)
    if isinstance(value, StreamObject):
        data = zlib.compress(value.get_data())
        entries = {k: v for k, v in value.items() if k not in ("/Length", "/Filter", "/DecodeParms", *leave_out)}
        return (dictionary(entries, number, b"/Filter /FlateDecode /Length %d" % len(data))
                + b"\nstream\n" + data + b"\nendstream")
    if isinstance(value, DictionaryObject):
        return dictionary({k: v for k, v in value.items() if k not in leave_out}, number)
    if isinstance(value, ArrayObject):
        return b"[" + b" ".join(serialized(item, number) for item in value) + b"]"
    stream = io.BytesIO()
    value.write_to_stream(stream)
    return stream.getvalue()


def dictionary(entries, number: Callable[[IndirectObject], int], extra: bytes = b"") -> bytes:
    body = b" ".join(serialized(NameObject(k), number) + b" " + serialized(v, number) for k, v in entries.items())
    return b"<<" + body + (b" " + extra if extra else b"") + b">>"


def indirect(number: int, body: bytes) -> bytes:
    return b"%d 0 obj\n" % number + body + b"\nendobj\n"


def kept(reference: IndirectObject) -> int:
    """A reference to an object of the shared PDF keeps its number."""
    return reference.idnum


def laid_under(base: Base, sheet: Sheet, line: int) -> bytes:
    """The shared PDF with the drawing of `line` of `sheet` drawn under its first page, as its
    stamp document's page drew it: the shared bytes and an update."""
    drawing = sheet.drawings[line]
    mine: dict[tuple[int, int], int] = {}
    order: list[IndirectObject] = []

    def number(reference: IndirectObject) -> int:
        key = (reference.idnum, reference.generation)
        if key in sheet.numbers:
            return sheet.numbers[key]
        if key not in mine:
            mine[key] = sheet.next_number + len(mine)
            order.append(reference)
        return mine[key]

    form_number = number(drawing.form)
    objects = list(sheet.objects)
    # Each object written may name others: numbered, and written in turn, until none is new.
    for reference in order:
        own = mine[(reference.idnum, reference.generation)]
        objects.append((own, indirect(own, serialized(reference.get_object(), number,
                                                      NOT_DRAWN if own == form_number else ()))))
    contents_number = sheet.next_number + len(mine)
    matrix = b" ".join(b"%.6f" % value for value in drawing.matrix)
    drawn = zlib.compress(b"q %s cm %s Do Q\n" % (matrix, base.form_name.encode()))
    existing = base.page.get("/Contents")
    existing = existing if isinstance(existing, ArrayObject) else [existing] if existing is not None else []
    contents = b"[%d 0 R %s]" % (contents_number, b" ".join(serialized(c, kept) for c in existing))
    forms = b"/XObject <<%s %s %d 0 R>>" % (base.forms, base.form_name.encode(), form_number)
    new_page = base.page_entries + b" /Contents " + contents + b" /Resources <<" + base.resources_kept + forms + b">>>>"
    objects += [(contents_number, indirect(contents_number, b"<</Filter /FlateDecode /Length %d>>\nstream\n"
                                           % len(drawn) + drawn + b"\nendstream")),
                (base.page_number, indirect(base.page_number, new_page))]
    return base.data + update(base, objects, contents_number + 1)


def update(base: Base, objects: list[tuple[int, bytes]], size: int) -> bytes:
    """The update section: `objects`, then their cross-reference section and trailer. The second
    part of the /ID (this revision's) comes from the update's content, so each recipient's copy
    has its own, the same run after run; the first stays the shared PDF's, the same document."""
    body = io.BytesIO()
    body.write(b"\n")
    offsets = {}
    for number, data in objects:
        offsets[number] = len(base.data) + body.tell()
        body.write(data)
    trailer = base.reader.trailer
    identifier = trailer.get("/ID")
    first = bytes(identifier[0].original_bytes).hex().encode() if isinstance(identifier, ArrayObject) else None
    revision = hashlib.sha256(body.getvalue()).hexdigest()[:32].encode()
    fields = b" ".join(b"%s %s" % (key.encode(), serialized(trailer.raw_get(key), kept))
                       for key in ("/Root", "/Info") if key in trailer)
    fields += b" /Prev %d /ID [<%s> <%s>]" % (base.startxref, first or revision, revision)
    # The cross-reference stream is the update's last object, numbered `size`, and lists itself.
    at = offsets[size] = len(base.data) + body.tell()
    numbers = sorted(offsets)
    width = max(4, (at.bit_length() + 7) // 8)
    rows = b"".join(b"\x01" + offsets[n].to_bytes(width, "big") + b"\x00\x00" for n in numbers)
    packed = zlib.compress(rows)
    index = b" ".join(b"%d %d" % run for run in runs(numbers))
    body.write(indirect(size, b"<</Type /XRef /Size %d /W [1 %d 2] /Index [%s] %s /Filter /FlateDecode"
                              b" /Length %d>>\nstream\n" % (size + 1, width, index, fields, len(packed))
                        + packed + b"\nendstream"))
    body.write(b"startxref\n%d\n%%%%EOF\n" % at)
    return body.getvalue()


def runs(numbers: list[int]) -> list[tuple[int, int]]:
    """(first, count) of each run of consecutive numbers in the sorted `numbers`."""
    found: list[tuple[int, int]] = []
    for number in numbers:
        if found and found[-1][0] + found[-1][1] == number:
            found[-1] = (found[-1][0], found[-1][1] + 1)
        else:
            found.append((number, 1))
    return found
