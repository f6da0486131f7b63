"""A page laid under the first page of a PDF, written as an incremental update of that PDF.

A recipient's stamped handout is the shared PDF's bytes, unchanged, followed by
an update (PDF 32000-1, 7.5.6) that holds a new first page: the shared page's
dictionary with the stamp's content drawn first and the stamp's resources
added, under names of their own. Every reader (pypdf, poppler, qpdf, Acrobat)
reads the two as one document, with the shared PDF's outline, metadata and
fonts. Writing it costs the stamp's few objects, not the whole document again:
the shared bytes are read and parsed once for all recipients, and a stamp
document's fonts are written once for all its pages.

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

# What the shared page's resources may hold; the stamp's are added to each under new names.
RESOURCE_KINDS = ("/Font", "/ExtGState", "/ColorSpace", "/Pattern", "/Shading", "/XObject", "/Properties")
STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class StampResources:
    """A stamp page's resources, renamed so as not to meet the shared page's, and the objects
    they lead to, numbered after the shared PDF's and written once."""

    names: dict[str, NameObject]  # the stamp's name -> its name on the stamped page
    kinds: dict[str, bytes]  # resource kind -> its entries, written: "/new-name value ..."
    objects: tuple[tuple[int, bytes], ...]  # (new object number, "n 0 obj ... endobj")
    next_number: int


def dictionary_of(value: PdfObject | None) -> DictionaryObject:
    """`value` resolved, when it is a dictionary; else an empty one."""
    value = value.get_object() if value is not None else None
    return value if isinstance(value, DictionaryObject) else DictionaryObject()


def stamp_resources(base: Base, page: PageObject) -> StampResources:
    """The stamp page's resources for updates of `base`."""
    resources = {kind: dictionary_of(page_resources.get(kind))
                 for page_resources in [dictionary_of(page.get("/Resources"))]
                 for kind in RESOURCE_KINDS if kind in page_resources}
    taken = {str(name) for kind in base.resources.values() if isinstance(kind, DictionaryObject) for name in kind}
    prefix = "/stamp-"
    stamp_names = {str(name) for kind in resources.values() for name in kind}
    while any(prefix + name[1:] in taken for name in stamp_names):
        prefix += "x-"
    names = {name: NameObject(prefix + name[1:]) for name in stamp_names}
    numbers: dict[tuple[int, int], int] = {}
    order: list[IndirectObject] = []

    def renumbered(reference: IndirectObject) -> int:
        key = (reference.idnum, reference.generation)
        if key not in numbers:
            numbers[key] = base.size + len(numbers)
            order.append(reference)
        return numbers[key]

    kinds = {kind: b" ".join(serialized(names[str(name)], renumbered) + b" " + serialized(value, renumbered)
                             for name, value in entries.items())
             for kind, entries in resources.items()}
    objects = []
    # Each object written may name others: numbered, and written in turn, until none is new.
    written = 0
    while written < len(order):
        reference = order[written]
        objects.append((numbers[(reference.idnum, reference.generation)],
                        indirect(numbers[(reference.idnum, reference.generation)],
                                 serialized(reference.get_object(), renumbered))))
        written += 1
    return StampResources(names, kinds, tuple(objects), base.size + len(numbers))


def serialized(value: PdfObject | None, number: Callable[[IndirectObject], int]) -> bytes:
    """`value` as PDF syntax, each reference to an object given the number `number` gives it
    (None, the object of a reference to nothing, is null). Streams are written decoded and
    compressed again: their data is the same."""
    if value is None:
        return b"null"
    if isinstance(value, IndirectObject):
        return b"%d 0 R" % number(value)
    if isinstance(value, StreamObject):
        data = zlib.compress(value.get_data())
        entries = {k: v for k, v in value.items() if k not in ("/Length", "/Filter", "/DecodeParms")}
        return (dictionary(entries, number, b"/Filter /FlateDecode /Length %d" % len(data))
                + b"\nstream\n" + data + b"\nendstream")
    if isinstance(value, DictionaryObject):
        return dictionary(value, number)
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


def laid_under(base: Base, page: PageObject, resources: StampResources) -> bytes:
    """The shared PDF with `page` (of a stamp document, whose resources are `resources`)
    drawn under its first page: the shared bytes and an update."""
    drawing = page.get_contents()
    content = ContentStream(ArrayObject() if drawing is None else drawing, page.pdf)
    for operands, _ in content.operations:
        for at, operand in enumerate(operands):
            if isinstance(operand, NameObject) and operand in resources.names:
                operands[at] = resources.names[operand]
    drawn = zlib.compress(b"q\n" + content.get_data() + b"\nQ\n")
    contents_number = resources.next_number
    existing = base.page.get("/Contents")
    existing = existing if isinstance(existing, ArrayObject) else [existing] if existing is not None else []
    merged = {}
    for kind in sorted({*base.resources, *resources.kinds}):
        theirs = base.resources.get(kind, DictionaryObject())
        mine = resources.kinds.get(kind)
        if mine is None:
            merged[kind] = serialized(NameObject(kind), kept) + b" " + serialized(theirs, kept)
        else:
            entries = [serialized(NameObject(k), kept) + b" " + serialized(v, kept)
                       for k, v in dictionary_of(theirs).items()]
            merged[kind] = serialized(NameObject(kind), kept) + b" <<" + b" ".join([*entries, mine]) + b">>"
    page_entries = {k: v for k, v in base.page.items() if k not in ("/Contents", "/Resources")}
    contents = b"[%d 0 R %s]" % (contents_number, b" ".join(serialized(c, kept) for c in existing))
    new_page = dictionary(page_entries, kept, b"/Contents " + contents + b" /Resources <<"
                          + b" ".join(merged.values()) + b">>")
    objects = [*resources.objects,
               (contents_number, indirect(contents_number, b"<</Filter /FlateDecode /Length %d>>\nstream\n"
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
