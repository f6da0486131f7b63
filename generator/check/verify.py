"""Stage 5: prove a handout holds its whole article, readable on paper.

For each pair of article and PDF: every word of the article, in order, in the
PDF's text; nothing drawn outside the visible page; no character without a
glyph; no empty page; no heading stranded at a page bottom; images sharp
enough and described; links whose target a print reader can see; a file
small enough to email; and the article's own text linted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from ..config import EMAIL_BUDGET_MB, MEGABYTE, MIN_DPI, Config, Limits
from ..diagnostics import Diagnostic
from ..errors import HandoutError, UsageError
from ..markup import html as markup
from ..output.files import output_path
from ..read.load import EXTENSIONS, find_articles, load_article, read_text, slug_for
from ..sandbox import ReadPolicy, read_policy
from ..typeset import themes
from ..typeset.render import DEFAULT_THEME
from .lint import lint
from .pdfscan import Line, PageScan, scan_pdf
from .readability import Readability, ReadingLimits, measure
from .words import (
    LINE_BREAK_HYPHEN,
    SourceWords,
    missing_runs,
    printed_words,
    unreadable_words,
    words,
)

# Sizes read back from a PDF carry rounding from its matrices (points).
SIZE_TOLERANCE = 0.05


@dataclass(frozen=True)
class CheckOptions:
    output_dir: Path = Path("output")
    # Where the article of a PDF named on the command line is looked for.
    content_dir: Path = Path("content")
    max_size: int = int(EMAIL_BUDGET_MB * MEGABYTE)
    min_dpi: float = MIN_DPI
    ad_phrases: tuple[str, ...] = ()
    # As the handouts were built: the article is read back under the same rules.
    project_dir: Path = Path(".")
    limits: Limits = Limits()
    allow_remote: bool = False
    # The plain-language limits of [check], and the language of an article whose front matter names none.
    readability: ReadingLimits = ReadingLimits()
    default_lang: str = "en"
    # The theme of an article whose front matter names none (handout.toml's [defaults]).
    default_theme: str | None = None


@dataclass(frozen=True)
class CheckReport:
    article: Path | None
    pdf: Path
    pages: int = 0
    words: int = 0
    missing_words: int = 0
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    # Words in shaped scripts (Arabic, Indic, Thai...), which the comparison leaves out.
    unchecked_words: int = 0
    readability: Readability | None = None

    @property
    def coverage(self) -> float:
        """Share of the article's words found in order in the PDF, 0 to 1."""
        return 1.0 if not self.words else (self.words - self.missing_words) / self.words

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def as_dict(self) -> dict:
        return {
            "article": str(self.article) if self.article else None,
            "pdf": str(self.pdf),
            "ok": self.ok,
            "pages": self.pages,
            "words": self.words,
            "missing_words": self.missing_words,
            "unchecked_words": self.unchecked_words,
            "coverage": round(self.coverage * 100, 3),
            "findings": [d.as_dict() for d in self.diagnostics],
            "readability": self.readability.as_dict() if self.readability else None,
        }


def check_options(config: Config, output_dir: Path = Path("output"), content_dir: Path = Path("content"),
                  max_size_mb: float | None = None, min_dpi: float | None = None,
                  allow_remote: bool = False) -> CheckOptions:
    """Check options from handout.toml's [check], with the values given here winning."""
    settings = config.check
    return CheckOptions(
        output_dir=output_dir,
        content_dir=content_dir,
        max_size=int((max_size_mb or settings.max_size_mb) * MEGABYTE),
        min_dpi=min_dpi or settings.min_dpi,
        ad_phrases=settings.ad_phrases,
        limits=config.limits,
        allow_remote=allow_remote,
        readability=ReadingLimits(settings.max_grade, settings.max_sentence_words, settings.max_word_syllables),
        default_lang=config.defaults.lang or "en",
        default_theme=config.defaults.theme,
    )


def summary(reports: list[CheckReport]) -> dict:
    return {
        "handouts": len(reports),
        "failed": sum(not r.ok for r in reports),
        "errors": sum(r.errors for r in reports),
        "warnings": sum(len(r.diagnostics) - r.errors for r in reports),
    }


def pairs(paths: list[Path], options: CheckOptions) -> list[tuple[Path | None, Path]]:
    """(article, PDF) for each path: an article, a PDF, or a folder of articles."""
    found = []
    for path in paths:
        if path.suffix.lower() == ".pdf":
            if not path.is_file():
                raise UsageError(f"no such file: {path}")
            articles = [
                a for a in sorted(options.content_dir.glob(f"{path.stem}.*"))
                if a.suffix.lower() in EXTENSIONS and slug_for(a) == path.stem
            ] if options.content_dir.is_dir() else []
            found.append((articles[0] if articles else None, path))
        else:
            found.extend((article, handout_of(article, options)) for article in find_articles([path]))
    return found


def handout_of(article: Path, options: CheckOptions) -> Path:
    """The PDF an article is built as, named as build names it (its front matter's slug wins)."""
    try:
        slug = load_article(article, options.limits.article_bytes).slug
    except HandoutError:
        slug = slug_for(article)  # check_handout says why the article cannot be read
    return output_path(options.output_dir, slug)


def check(paths: list[Path], options: CheckOptions = CheckOptions(),
          content_folders: Sequence[Path] = ()) -> list[CheckReport]:
    """Check each handout in `paths`. Articles are read back as the build read them: from
    the project's folders, the folders in `paths` and `content_folders`."""
    paths = [Path(p) for p in paths]
    found = pairs(paths, options)
    if not found:
        raise UsageError(f"nothing to check in {', '.join(map(str, paths))}")
    policy = read_policy(options.project_dir, [*paths, *map(Path, content_folders), options.content_dir],
                         allow_remote=options.allow_remote)
    return [check_handout(article, pdf, options, policy) for article, pdf in found]


def check_handout(article_path: Path | None, pdf: Path, options: CheckOptions,
                  policy: ReadPolicy | None = None) -> CheckReport:
    try:
        reader = PdfReader(pdf, strict=False)
        pages = scan_pdf(reader)
    except FileNotFoundError:
        hint = "; run handout build first" if article_path else ""
        return CheckReport(article_path, pdf, diagnostics=(
            Diagnostic("C210", f"{pdf} does not exist{hint}", article_path or pdf),))
    except (PyPdfError, OSError, ValueError) as exc:
        return CheckReport(article_path, pdf, diagnostics=(
            Diagnostic("C210", f"{pdf} cannot be read as a PDF ({exc})", pdf),))

    found: list[Diagnostic] = []
    total = missing = unchecked = 0
    measured = None
    if article_path is not None:
        try:
            article = load_article(article_path, options.limits.article_bytes)
            body = markup.to_html(article, policy, options.limits)
        except HandoutError as exc:
            found.append(Diagnostic("C210", f"the article cannot be read: {exc.problem}", article_path, exc.line))
        else:
            source_text = read_text(article_path)
            source = SourceWords.of(source_text)
            text = html_text(body.html)
            title_block = " ".join(filter(None, (
                article.meta.title, article.meta.subtitle, article.meta.author, article.meta.date,
            )))
            printed = printed_words("\n".join(line.text for page in body_lines(pages) for line in page))
            # Footnotes print apart from the text that calls them: each is looked for on its own.
            expected_runs = [words(title_block) + words(" ".join(text.parts))] + [
                words(footnote) for footnote in text.footnotes]
            runs = [run for expected in expected_runs for run in missing_runs(expected, printed)]
            total = sum(map(len, expected_runs))
            unchecked = unreadable_words(title_block + " " + " ".join(text.parts + text.footnotes))
            missing = sum(map(len, runs))
            for run in runs:
                shown = " ".join(run[:12]) + (" …" if len(run) > 12 else "")
                found.append(Diagnostic(
                    "C201", f"{len(run)} word{'s' * (len(run) != 1)} missing from the PDF: '{shown}'",
                    article_path, source.line_of(run),
                ))
            found.extend(images_without_alt(body.images_without_alt, article_path, source_text))
            found.extend(lint(article, source, options.ad_phrases))
            measured, findings = measure(article, article.meta.lang or options.default_lang, source,
                                         options.readability)
            found.extend(findings)

    found.extend(page_problems(pdf, pages, body_lines(pages), options))
    found.extend(small_text(pdf, pages, smallest_text_allowed(reader, article_path, options)))
    found.extend(stranded_headings(pdf, reader, pages))
    found.extend(hidden_links(pdf, reader, pages))
    size = pdf.stat().st_size
    if size > options.max_size:
        found.append(Diagnostic(
            "C209", f"{size / MEGABYTE:.1f} MB is over the email budget of {options.max_size / MEGABYTE:.1f} MB", pdf))
    return CheckReport(article_path, pdf, len(pages), total, missing, tuple(dict.fromkeys(found)), unchecked,
                       measured)


class TextCollector(HTMLParser):
    """The text of an HTML fragment, with footnotes apart.

    A footnote stands where it is called in the HTML but prints at the foot
    of the page (or in the margin), so its words are compared on their own.
    """

    SKIPPED = {"script", "style", "head", "template"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.footnotes: list[str] = []
        self.skipping = 0
        self.footnote_spans = 0  # open <span>s inside a footnote

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in self.SKIPPED:
            self.skipping += 1
        if tag == "span" and (self.footnote_spans or "footnote" in (attributes.get("class") or "").split()):
            if not self.footnote_spans:
                self.footnotes.append("")
            self.footnote_spans += 1

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self.skipping:
            self.skipping -= 1
        if tag == "span" and self.footnote_spans:
            self.footnote_spans -= 1

    def handle_data(self, data):
        if self.skipping:
            return
        if self.footnote_spans:
            self.footnotes[-1] += data
        else:
            self.parts.append(data)


def html_text(html: str) -> TextCollector:
    collector = TextCollector()
    collector.feed(html)
    collector.close()
    return collector


def images_without_alt(sources: tuple[str, ...], article: Path, source_text: str) -> list[Diagnostic]:
    lines = source_text.split("\n")
    return [
        Diagnostic("C207", f"image without alt text: {src}", article,
                   next((n for n, line in enumerate(lines, 1) if src and src in line), None))
        for src in sources
    ]


def page_problems(pdf: Path, pages: list[PageScan], bodies: list[list[Line]],
                  options: CheckOptions) -> list[Diagnostic]:
    found = []
    for page, body in zip(pages, bodies, strict=True):
        for text in page.hidden:
            shown = text if len(text) <= 60 else text[:59] + "…"
            found.append(Diagnostic("C202", f"text drawn outside the visible page: '{shown}'", pdf, page=page.number))
        for text in page.faint:
            shown = text if len(text) <= 60 else text[:59] + "…"
            found.append(Diagnostic("C220", f"text printed too small or in the colour of the paper: '{shown}'",
                                    pdf, page=page.number))
        for char in dict.fromkeys(page.missing_glyphs):
            code = f" (U+{ord(char):04X})" if len(char) == 1 else ""
            found.append(Diagnostic("C203", f"no font draws '{char}'{code}: it prints as an empty box", pdf,
                                    page=page.number))
        if not body and not page.images:  # a running footer alone is an empty page
            found.append(Diagnostic("C204", "the page is empty", pdf, page=page.number))
        for image in page.images:
            if image.dpi < options.min_dpi:
                found.append(Diagnostic(
                    "C206", f"an image of {image.pixels[0]}x{image.pixels[1]} pixels prints at {int(image.dpi)} dpi "
                    f"(under {options.min_dpi:.0f})", pdf, page=page.number))
    return found


def smallest_text_allowed(reader: PdfReader, article_path: Path | None, options: CheckOptions) -> float | None:
    """The floor of the handout's theme (large print: 18 pt): the theme the PDF says made it
    (a build's --theme too), else the article's front matter's or the project's default;
    None when the theme declares none or cannot be found."""
    theme = options.default_theme or DEFAULT_THEME
    made_with = reader.metadata.get(themes.THEME_INFO_KEY) if reader.metadata else None
    if made_with:
        theme = str(made_with)
    elif article_path is not None:
        try:
            theme = load_article(article_path, options.limits.article_bytes).meta.theme or theme
        except HandoutError:
            pass  # check_handout says why the article cannot be read
    try:
        return themes.smallest_text(themes.lineage(themes.discover(options.project_dir.resolve()), theme))
    except HandoutError:
        return None


def small_text(pdf: Path, pages: list[PageScan], floor: float | None) -> list[Diagnostic]:
    """Every line, running headers and footers included, with a glyph under the theme's floor."""
    if floor is None:
        return []
    return [
        Diagnostic("C230", f"text printed at {line.smallest:.1f} pt, under the theme's {floor:g} pt: "
                           f"'{line.text.strip()[:60]}'", pdf, page=page.number)
        for page in pages for line in page.lines
        if line.text.strip() and line.smallest and line.smallest < floor - SIZE_TOLERANCE
    ]


def outline_entries(reader: PdfReader, outline=None) -> list[tuple[str, int, float]]:
    """(title, page number, top) of every bookmark."""
    entries = []
    for item in reader.outline if outline is None else outline:
        if isinstance(item, list):
            entries.extend(outline_entries(reader, item))
        elif item.top is not None and (number := reader.get_destination_page_number(item)) is not None:
            entries.append((item.title or "", number + 1, float(item.top)))
    return entries


def key(line: Line) -> tuple[int, str]:
    return (round(line.y), re.sub(r"\d+", "#", line.text.strip()))


# A running header or footer stands further from the text than this many times its own font
# size, and further than the text's next two lines stand from each other. Lines of text stand
# up to about two and a half times their size apart (line height and the space between
# paragraphs), so a line of the article is not taken for one.
MARGIN_GAP = 2.6
# The most lines a running header or footer has.
MARGIN_LINES = 3


def body_lines(pages: list[PageScan]) -> list[list[Line]]:
    """Each page's lines without its running header and footer.

    Those stand in the page's margins: at its top or bottom edge, apart from
    the text, with the same words (page numbers aside) at the same height on
    another page. Lines of the article that happen to repeat at one height
    (paragraphs that start alike, a table header repeated on each page) stand
    in the flow of the text, a line's space from the next, and stay.
    """
    seen = Counter(k for page in pages for k in {key(line) for line in page.lines if line.text.strip()})
    repeated = {k for k, count in seen.items() if count > 1}
    bodies = []
    for page in pages:
        lines = sorted((line for line in page.lines if line.text.strip()), key=lambda line: -line.y)
        margins = edge_lines(lines, repeated) | edge_lines(lines[::-1], repeated)
        bodies.append([line for line in page.lines if line.text.strip() and id(line) not in margins])
    return bodies


def edge_lines(lines: list[Line], repeated: set[tuple[int, str]]) -> set[int]:
    """The ids of the lines that make a running header (or, `lines` reversed, a footer): the
    first few of `lines`, each repeated on another page, the last standing apart from the rest."""
    def gap(n: int) -> float:
        return abs(lines[n].y - lines[n + 1].y) if n + 1 < len(lines) else float("inf")

    for n, line in enumerate(lines[:MARGIN_LINES]):
        if key(line) not in repeated:
            return set()
        if gap(n) > MARGIN_GAP * line.size and (n + 2 >= len(lines) or gap(n) > gap(n + 1) + 1):
            return {id(edge) for edge in lines[:n + 1]}
    return set()


def stranded_headings(pdf: Path, reader: PdfReader, pages: list[PageScan]) -> list[Diagnostic]:
    if len(pages) < 2:
        return []
    found = []
    bodies = body_lines(pages)
    for title, number, top in outline_entries(reader):
        if number >= len(pages):
            continue  # on the last page nothing follows that could have been kept with it
        title_words = set(words(title))
        body = [line for line in bodies[number - 1] if line.y <= top + 1]
        heading = max((line for line in body if set(words(line.text)) & title_words), key=lambda line: line.y,
                      default=None)
        if heading is None:
            continue
        below = [line for line in body if line.y < heading.y - 1 and not set(words(line.text)) <= title_words]
        if not below:
            found.append(Diagnostic("C205", f"heading '{title}' stands alone at the bottom of the page", pdf,
                                    page=number))
    return found


def hidden_links(pdf: Path, reader: PdfReader, pages: list[PageScan]) -> list[Diagnostic]:
    found = []
    for page, scan in zip(reader.pages, pages, strict=True):
        text = "\n".join(line.text for line in scan.lines)
        visible = re.sub(r"\s+", "", LINE_BREAK_HYPHEN.sub("", text)).casefold()
        for annotation in page.get("/Annots") or ():
            action = annotation.get_object().get("/A")
            if not action or action.get("/S") != "/URI":
                continue
            uri = str(action["/URI"])
            bare = re.sub(r"^(https?://(www\.)?|ftp://|mailto:)", "", uri, flags=re.I).rstrip("/").casefold()
            if bare and bare not in visible:
                found.append(Diagnostic(
                    "C208", f"link to {uri}: the address is not printed", pdf, page=scan.number))
    return found
