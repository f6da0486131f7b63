"""Read a PDF the way a printer draws it: where each glyph lands, what clips it.

pypdf gives the content stream; this module follows the graphics state
(transformations, clipping rectangles, text positioning) far enough to know,
for every glyph drawn, whether it is inside the visible part of the page and
whether its font can draw it, and where each image is printed and how large.
Text extraction alone cannot tell a clipped code line or a tofu box from
good text: the characters are in the file either way.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import (
    ContentStream,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NumberObject,
    TextStringObject,
)

from ..article import text_direction

Matrix = tuple[float, float, float, float, float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in page space, y up
IDENTITY: Matrix = (1, 0, 0, 1, 0, 0)
# A glyph counts as visible when its middle is inside the visible area; this
# much slack absorbs rounding in positions and clip rectangles.
TOLERANCE = 0.5


# Text this light (relative luminance; white is 1) cannot be read on white paper,
# and text under this size (points) is a line of dots.
FAINT_LUMINANCE = 0.85
SMALLEST_TEXT = 2.0


def luminance(components: list[float], cmyk: bool = False) -> float:
    """The relative luminance of a fill colour given as gray, RGB or CMYK components."""
    if cmyk and len(components) == 4:
        c, m, y, k = components
        components = [(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)]
    if len(components) == 1:
        return components[0]
    if len(components) != 3:
        return 0.0
    red, green, blue = components
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def multiply(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


def intersect(a: Box, b: Box) -> Box:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def bounding_box(points: list[tuple[float, float]]) -> Box:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True)
class Image:
    pixels: tuple[int, int]
    printed: tuple[float, float]  # points

    @property
    def dpi(self) -> float:
        return min(px * 72 / max(pt, 1e-6) for px, pt in zip(self.pixels, self.printed, strict=True))


@dataclass
class Line:
    """Glyphs sharing a baseline: `glyphs` as drawn, left to right; `text` in reading order."""

    y: float
    size: float
    glyphs: list[str] = field(default_factory=list)
    end_x: float = 0.0  # where the last glyph ends, to see gaps between cells
    text: str = ""
    smallest: float = 0.0  # the size of its smallest glyph other than a space (a superscript, a footer)


@dataclass
class PageScan:
    number: int
    box: Box
    lines: list[Line] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)  # runs of glyphs outside the visible area
    # Runs of glyphs too small to read, or in the colour of what is under them (white on the page).
    faint: list[str] = field(default_factory=list)
    missing_glyphs: list[str] = field(default_factory=list)  # characters drawn with no glyph
    images: list[Image] = field(default_factory=list)


class Font:
    """What the scan needs of a PDF font: code widths, Unicode, and which glyphs exist."""

    def __init__(self, pdf_font: DictionaryObject):
        font: dict[str, Any] = pdf_font  # its values are whatever the file holds, read as such
        self.two_byte = font.get("/Subtype") == "/Type0"
        self.widths: dict[int, float] = {}
        self.default_width = 1000.0 if self.two_byte else 0.0
        self.glyph_count: int | None = None
        if self.two_byte:
            descendant = font["/DescendantFonts"][0].get_object()
            self.default_width = float(descendant.get("/DW", 1000))
            self._read_cid_widths(descendant.get("/W", []))
            self.glyph_count = embedded_glyph_count(descendant.get("/FontDescriptor"))
            self.identity_gids = descendant.get("/CIDToGIDMap", "/Identity") == "/Identity"
        else:
            first = int(font.get("/FirstChar", 0))
            for offset, width in enumerate(font.get("/Widths", [])):
                self.widths[first + offset] = float(width)
        self.to_unicode = parse_to_unicode(font["/ToUnicode"].get_data()) if "/ToUnicode" in font else {}

    def _read_cid_widths(self, w) -> None:
        items: list[Any] = [item.get_object() if isinstance(item, IndirectObject) else item for item in w]
        i = 0
        while i < len(items):
            start = int(items[i])
            if isinstance(items[i + 1], list):
                for offset, width in enumerate(items[i + 1]):
                    self.widths[start + offset] = float(width)
                i += 2
            else:
                end, width = int(items[i + 1]), float(items[i + 2])
                for code in range(start, end + 1):
                    self.widths[code] = width
                i += 3

    def codes(self, data: bytes) -> list[int]:
        if self.two_byte:
            return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2)]
        return list(data)

    def char(self, code: int) -> str:
        return self.to_unicode.get(code) or ("" if self.two_byte else bytes([code]).decode("latin-1"))

    def width(self, code: int) -> float:
        return self.widths.get(code, self.default_width) / 1000

    def has_glyph(self, code: int) -> bool:
        if not self.two_byte or self.glyph_count is None or not self.identity_gids:
            return True
        return 0 < code < self.glyph_count


def embedded_glyph_count(descriptor) -> int | None:
    if descriptor is None:
        return None
    descriptor = descriptor.get_object()
    stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
    if stream is None:
        return None
    try:
        return TTFont(io.BytesIO(stream.get_object().get_data()), lazy=True)["maxp"].numGlyphs
    except Exception:  # noqa: BLE001 - a font fontTools cannot read is simply not checked
        return None


HEX = re.compile(rb"<([0-9A-Fa-f]+)>")


def parse_to_unicode(data: bytes) -> dict[int, str]:
    """The code -> text map of a ToUnicode CMap (bfchar and bfrange sections)."""
    mapping: dict[int, str] = {}

    def text(hex_bytes: bytes) -> str:
        return bytes.fromhex(hex_bytes.decode()).decode("utf-16-be", "replace")

    for section in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        values = HEX.findall(section)
        for source, target in zip(values[::2], values[1::2], strict=False):
            mapping[int(source, 16)] = text(target)
    for section in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for line in re.findall(rb"<[0-9A-Fa-f]+>\s*<[0-9A-Fa-f]+>\s*(?:\[[^\]]*\]|<[0-9A-Fa-f]+>)", section):
            values = HEX.findall(line)
            low, high = int(values[0], 16), int(values[1], 16)
            if b"[" in line:
                for offset, target in enumerate(values[2:]):
                    mapping[low + offset] = text(target)
            else:
                start = bytes.fromhex(values[2].decode())
                for offset in range(high - low + 1):
                    last = int.from_bytes(start, "big") + offset
                    mapping[low + offset] = last.to_bytes(len(start), "big").decode("utf-16-be", "replace")
    return mapping


@dataclass
class GraphicsState:
    ctm: Matrix = IDENTITY
    clip: Box | None = None
    font: Font | None = None
    size: float = 0.0
    char_spacing: float = 0.0
    word_spacing: float = 0.0
    scale: float = 1.0
    leading: float = 0.0
    rise: float = 0.0
    render_mode: int = 0
    fill: float = 0.0  # the fill colour's luminance: 0 black, 1 white

    def copy(self) -> GraphicsState:
        return GraphicsState(**self.__dict__)


class PageScanner:
    def __init__(self, reader: PdfReader, number: int, right_to_left: bool | None = None):
        page = reader.pages[number - 1]
        self.reader = reader
        box = page.cropbox
        self.scan = PageScan(number, (float(box.left), float(box.bottom), float(box.right), float(box.top)))
        self.fonts: dict[int, Font] = {}
        self.hidden_run: list[str] = []
        self.faint_run: list[str] = []
        self.painted: list[Box] = []  # areas filled in a colour text in white would show on
        self.run(page.get_contents(), page.get("/Resources", DictionaryObject()), GraphicsState())
        self.flush_hidden()
        for line in self.scan.lines:
            line.text = reading_order(line.glyphs, right_to_left)

    def font(self, resources, name) -> Font | None:
        ref = resources.get("/Font", {}).get(name)
        if ref is None:
            return None
        key = ref.idnum if isinstance(ref, IndirectObject) else id(ref)
        if key not in self.fonts:
            self.fonts[key] = Font(ref.get_object())
        return self.fonts[key]

    def run(self, contents, resources, state: GraphicsState) -> None:
        if contents is not None:
            ContentWalker(self, resources.get_object(), state).walk(contents)

    def show(self, items, state: GraphicsState, text_matrix: Matrix) -> Matrix:
        font = state.font
        if font is None:
            return text_matrix
        for item in items:
            if isinstance(item, TextStringObject):
                data = item.original_bytes
            elif isinstance(item, bytes):
                data = item
            else:  # a TJ kerning number
                shift = -float(item) / 1000 * state.size * state.scale
                text_matrix = multiply((1, 0, 0, 1, shift, 0), text_matrix)
                continue
            for code in font.codes(data):
                advance = font.width(code) * state.size
                matrix = multiply(text_matrix, state.ctm)
                self.place(font, code, state, matrix, advance)
                spacing = state.char_spacing + (state.word_spacing if not font.two_byte and code == 32 else 0)
                text_matrix = multiply((1, 0, 0, 1, (advance + spacing) * state.scale, 0), text_matrix)
        return text_matrix

    def place(self, font: Font, code: int, state: GraphicsState, matrix: Matrix, advance: float) -> None:
        char = font.char(code)
        x, y = apply(matrix, advance * state.scale / 2, state.rise + state.size * 0.3)
        start, baseline = apply(matrix, 0, state.rise)
        end, _ = apply(matrix, advance * state.scale, state.rise)
        visible = intersect(self.scan.box, state.clip) if state.clip else self.scan.box
        inside = (visible[0] - TOLERANCE <= x <= visible[2] + TOLERANCE
                  and visible[1] - TOLERANCE <= y <= visible[3] + TOLERANCE)
        # Measured from the baseline, raised or not (shaping raises a script's marks with Ts).
        size = abs(apply(matrix, 0, state.rise + state.size)[1] - baseline) or state.size
        if inside and state.render_mode != 3 and self.readable(size, state.fill, x, y):  # mode 3 draws nothing
            self.flush_hidden()
            self.add_to_line(char, baseline, size, start, end)
        elif inside and state.render_mode != 3:
            self.faint_run.append(char)
        else:
            self.hidden_run.append(char)
        if not font.has_glyph(code) and not char.isspace():
            self.scan.missing_glyphs.append(char or f"<glyph {code}>")

    def add_to_line(self, char: str, baseline: float, size: float, start: float, end: float) -> None:
        lines = self.scan.lines
        line = lines[-1] if lines else None
        if line and abs(line.y - baseline) < 0.5 * min(size, line.size):
            # Table cells and columns are drawn without a space between them:
            # a gap, or a jump back to the left, separates their words.
            gap = start - line.end_x
            if (gap > 0.2 * size or gap < -size) and line.glyphs[-1] != " " and not char.isspace():
                line.glyphs.append(" ")
            line.glyphs.append(char)
            line.end_x = end
            if not char.isspace():
                line.smallest = min(line.smallest or size, size)
        else:
            lines.append(Line(baseline, size, [char], end, smallest=0.0 if char.isspace() else size))

    def readable(self, size: float, fill: float, x: float, y: float) -> bool:
        """Whether a glyph at (x, y) can be read: big enough, and dark or on a dark fill."""
        if size < SMALLEST_TEXT:
            return False
        return fill < FAINT_LUMINANCE or any(
            box[0] <= x <= box[2] and box[1] <= y <= box[3] for box in self.painted)

    def flush_hidden(self, runs: tuple[str, ...] = ("hidden", "faint")) -> None:
        for name in runs:
            run, found = getattr(self, f"{name}_run"), getattr(self.scan, name)
            text = "".join(run).strip()
            if text:
                found.append(text)
            run.clear()

    def draw_object(self, resources, name, state: GraphicsState) -> None:
        ref = resources.get("/XObject", {}).get(name)
        if ref is None:
            return
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Image":
            corners = [apply(state.ctm, x, y) for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))]
            x0, y0, x1, y1 = bounding_box(corners)
            self.scan.images.append(Image(
                pixels=(int(xobject.get("/Width", 0)), int(xobject.get("/Height", 0))),
                printed=(x1 - x0, y1 - y0),
            ))
        elif xobject.get("/Subtype") == "/Form":
            inner = state.copy()
            inner.ctm = multiply(matrix_of(xobject.get("/Matrix", IDENTITY)), state.ctm)
            self.run(xobject, xobject.get("/Resources", resources), inner)


NUMBER_TYPES = (int, float, FloatObject, NumberObject)
Operands = list[Any]


class ContentWalker:
    """One content stream (a page's, or a form's) followed operator by operator.

    As pdfminer's PDFPageInterpreter does it: each PDF operator the scan needs
    has a small method, found in OPERATORS; any other operator is passed over.
    The graphics state stack, the path being built and the text matrices are
    the stream's own: a form drawn inside it starts from a copy of the state.
    """

    def __init__(self, scanner: PageScanner, resources: DictionaryObject, state: GraphicsState):
        self.scanner = scanner
        self.resources = resources
        self.state = state
        self.stack: list[GraphicsState] = []
        self.path: list[tuple[float, float]] = []
        self.clip_pending = False
        self.text_matrix = self.line_matrix = IDENTITY

    def walk(self, contents) -> None:
        for operands, operator in ContentStream(contents, self.scanner.reader).operations:
            op = operator.decode("latin-1") if isinstance(operator, bytes) else operator
            handler = self.OPERATORS.get(op)
            if handler is not None:
                handler(self, operands)

    def next_line(self, tx: float, ty: float) -> None:
        self.text_matrix = self.line_matrix = multiply((1, 0, 0, 1, tx, ty), self.line_matrix)

    # Graphics state

    def do_q(self, operands: Operands) -> None:
        """Save the graphics state."""
        self.stack.append(self.state.copy())

    def do_Q(self, operands: Operands) -> None:
        """Restore the graphics state last saved."""
        if self.stack:
            self.state = self.stack.pop()

    def do_cm(self, operands: Operands) -> None:
        """Concatenate a matrix to the current transformation."""
        self.state.ctm = multiply(matrix_of(operands), self.state.ctm)

    def do_fill_colour(self, operands: Operands) -> None:
        """g, rg, sc, scn: a fill colour in gray or RGB components (a pattern's name is not one)."""
        if all(isinstance(o, NUMBER_TYPES) for o in operands):
            self.state.fill = luminance([float(o) for o in operands])

    def do_k(self, operands: Operands) -> None:
        """A fill colour in CMYK."""
        if all(isinstance(o, NUMBER_TYPES) for o in operands):
            self.state.fill = luminance([float(o) for o in operands], cmyk=True)

    def do_cs(self, operands: Operands) -> None:
        """A new fill colour space: its initial colour is black."""
        self.state.fill = 0.0

    # Paths and clipping

    def do_point(self, operands: Operands) -> None:
        """m, l: move to or draw a line to a point."""
        self.path.append(apply(self.state.ctm, float(operands[0]), float(operands[1])))

    def do_curve(self, operands: Operands) -> None:
        """c, v, y: a Bezier curve; its control points bound it."""
        values = list(map(float, operands))
        self.path.extend(apply(self.state.ctm, x, y) for x, y in zip(values[::2], values[1::2], strict=False))

    def do_re(self, operands: Operands) -> None:
        """A rectangle."""
        x, y, w, h = map(float, operands)
        corners = ((x, y), (x + w, y), (x, y + h), (x + w, y + h))
        self.path.extend(apply(self.state.ctm, px, py) for px, py in corners)

    def do_W(self, operands: Operands) -> None:
        """W, W*: the path, once ended, clips what follows."""
        self.clip_pending = True

    def do_fill(self, operands: Operands) -> None:
        """f, F, f*, B, B*, b, b*: fill the path (a dark fill is a background light text shows on)."""
        if self.path and self.state.fill < FAINT_LUMINANCE:
            self.scanner.painted.append(bounding_box(self.path))
        self.do_n(operands)

    def do_n(self, operands: Operands) -> None:
        """n, S, s: end the path without filling it, clipping to it when W came before."""
        if self.clip_pending and self.path:
            box = bounding_box(self.path)
            self.state.clip = box if self.state.clip is None else intersect(self.state.clip, box)
        self.path, self.clip_pending = [], False

    # Text state

    def do_BT(self, operands: Operands) -> None:
        """Begin a text object."""
        self.text_matrix = self.line_matrix = IDENTITY
        self.scanner.flush_hidden(("faint",))  # each faint run named apart

    def do_Tf(self, operands: Operands) -> None:
        """Font and size."""
        self.state.font, self.state.size = self.scanner.font(self.resources, operands[0]), float(operands[1])

    def do_Tc(self, operands: Operands) -> None:
        """Character spacing."""
        self.state.char_spacing = float(operands[0])

    def do_Tw(self, operands: Operands) -> None:
        """Word spacing."""
        self.state.word_spacing = float(operands[0])

    def do_Tz(self, operands: Operands) -> None:
        """Horizontal scaling, in percent."""
        self.state.scale = float(operands[0]) / 100

    def do_TL(self, operands: Operands) -> None:
        """Leading."""
        self.state.leading = float(operands[0])

    def do_Ts(self, operands: Operands) -> None:
        """Text rise."""
        self.state.rise = float(operands[0])

    def do_Tr(self, operands: Operands) -> None:
        """Text rendering mode (3 draws nothing)."""
        self.state.render_mode = int(operands[0])

    # Text positioning

    def do_Tm(self, operands: Operands) -> None:
        """Set the text matrix and the line matrix."""
        self.text_matrix = self.line_matrix = matrix_of(operands)

    def do_Td(self, operands: Operands) -> None:
        """Move to the start of the next line, offset by (tx, ty)."""
        self.next_line(float(operands[0]), float(operands[1]))

    def do_TD(self, operands: Operands) -> None:
        """As Td, and set the leading to -ty."""
        self.state.leading = -float(operands[1])
        self.do_Td(operands)

    def do_T_star(self, operands: Operands) -> None:
        """T*: move to the start of the next line, by the leading."""
        self.next_line(0, -self.state.leading)

    # Text showing

    def do_Tj(self, operands: Operands) -> None:
        """Show a string."""
        self.text_matrix = self.scanner.show([operands[-1]], self.state, self.text_matrix)

    def do_TJ(self, operands: Operands) -> None:
        """Show strings, with kerning numbers between them."""
        self.text_matrix = self.scanner.show(operands[0], self.state, self.text_matrix)

    def do_quote(self, operands: Operands) -> None:
        """': move to the next line and show a string."""
        self.do_T_star(operands)
        self.do_Tj(operands)

    def do_double_quote(self, operands: Operands) -> None:
        """": set word and character spacing, move to the next line and show a string."""
        self.state.word_spacing, self.state.char_spacing = float(operands[0]), float(operands[1])
        self.do_quote(operands)

    # XObjects

    def do_Do(self, operands: Operands) -> None:
        """Draw an image or a form."""
        self.scanner.draw_object(self.resources, operands[0], self.state)

    OPERATORS: ClassVar[dict[str, Callable[[ContentWalker, Operands], None]]] = {
        "q": do_q, "Q": do_Q, "cm": do_cm,
        "g": do_fill_colour, "rg": do_fill_colour, "sc": do_fill_colour, "scn": do_fill_colour,
        "k": do_k, "cs": do_cs,
        "m": do_point, "l": do_point, "c": do_curve, "v": do_curve, "y": do_curve, "re": do_re,
        "W": do_W, "W*": do_W,
        "f": do_fill, "f*": do_fill, "F": do_fill, "B": do_fill, "B*": do_fill, "b": do_fill, "b*": do_fill,
        "n": do_n, "S": do_n, "s": do_n,
        "BT": do_BT, "Tf": do_Tf, "Tc": do_Tc, "Tw": do_Tw, "Tz": do_Tz, "TL": do_TL, "Ts": do_Ts, "Tr": do_Tr,
        "Tm": do_Tm, "Td": do_Td, "TD": do_TD, "T*": do_T_star,
        "Tj": do_Tj, "TJ": do_TJ, "'": do_quote, '"': do_double_quote,
        "Do": do_Do,
    }


def matrix_of(operands: Operands) -> Matrix:
    a, b, c, d, e, f = map(float, operands)
    return (a, b, c, d, e, f)


def is_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def is_number(glyphs: list[str]) -> bool:
    """Digits, perhaps with punctuation, and no letters of any script."""
    classes = {unicodedata.bidirectional(c) for g in glyphs for c in g}
    return bool(classes & {"EN", "AN"}) and not classes & {"L", "R", "AL"}


def reading_order(glyphs: list[str], right_to_left: bool | None = None) -> str:
    """A line's text as it is read, from its glyphs as they are drawn.

    A PDF draws right-to-left scripts (Arabic, Hebrew) left to right, as they
    appear: each run of right-to-left words is turned back, word order and
    glyph order, and a line that is mostly right-to-left is read from its right.
    Glyphs, not characters, are turned: a ligature stands for letters in order.
    A number in a right-to-left run keeps its place among the words but reads
    left to right itself: "020 7946 0958" in Arabic text is drawn "0958 7946 020".
    `right_to_left` is the document's direction (from its language); without it,
    a line that is mostly right-to-left is read from its right.
    """
    if not any(is_rtl(g) for g in glyphs):
        return "".join(glyphs)
    words: list[list[str]] = []
    word: list[str] = []
    for glyph in glyphs + [" "]:
        if glyph == " ":
            if word:
                words.append(word)
            word = []
        else:
            word.append(glyph)
    runs: list[tuple[bool, list[list[str]]]] = []
    for word in words:
        rtl = is_rtl("".join(word)) or (bool(runs) and runs[-1][0] and not any(
            unicodedata.bidirectional(c) == "L" for g in word for c in g))
        if runs and runs[-1][0] == rtl:
            runs[-1][1].append(word)
        else:
            runs.append((rtl, [word]))
    pieces = [
        " ".join("".join(w if is_number(w) else reversed(w)) for w in reversed(run)) if rtl
        else " ".join("".join(w) for w in run)
        for rtl, run in runs
    ]
    if right_to_left is None:
        right_to_left = sum(len(run) for rtl, run in runs if rtl) > sum(len(run) for rtl, run in runs if not rtl)
    return " ".join(reversed(pieces) if right_to_left else pieces)


def scan_pdf(reader: PdfReader) -> list[PageScan]:
    lang = reader.root_object.get("/Lang")
    right_to_left = text_direction(str(lang)) == "rtl" if lang else None
    return [PageScanner(reader, number, right_to_left).scan for number in range(1, len(reader.pages) + 1)]
