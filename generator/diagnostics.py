"""Problems found along the pipeline, each with a stable code.

Codes are stable so users can grep logs and scripts can count them; the README
lists them. Stages return diagnostics as data; only the CLI prints them.
W1xx come from building, C2xx from checking a PDF, L3xx from linting an
article's text, M4xx from reading the recipients of a mail merge.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import location, printable

# code -> (severity, meaning): the table the README documents.
CODES = {
    "W101": ("warning", "unknown front-matter key (the closest known key is suggested)"),
    "W102": ("warning", "web page furniture removed from a pasted or saved web page"
                        " (one line per article; each block with --verbose)"),
    "W103": ("warning", "text appears truncated: the last sentence stops without end punctuation"),
    "W104": ("warning", "the renderer reported a problem (for example an image it could not draw)"),
    "W105": ("warning", "unknown key in handout.toml (the closest known key is suggested)"),
    "W106": ("warning", "a file outside the project's content, templates, themes and assets folders was not read"),
    "W107": ("warning", "a remote resource was not fetched (no network without --allow-remote, or refused)"),
    "W108": ("warning", "unsafe raw HTML removed (scripts, event handlers, javascript: links, forms...)"),
    "W109": ("warning", "raw HTML formatting for a screen left out (widths, borders, font tags, no-wrap...;"
                        " one line per article; each with --verbose)"),
    "W110": ("warning", "TeX math that matplotlib's mathtext cannot draw, printed as its TeX source"),
    "W120": ("warning", "a raw HTML style that hides text on paper left out"
                        " (font-size 0, text coloured like its background, a negative margin)"),
    "W130": ("warning", "`--fit` or `fit:` changed the layout to fit the pages asked for (what it changed is listed)"),
    "W131": ("warning", "a fitted booklet leaves blank pages (a folded sheet holds 4)"),
    "C201": ("error", "words of the article missing from the PDF (with the source line of each run)"),
    "C202": ("error", "text drawn outside the visible page (off the edge or clipped by its box)"),
    "C203": ("error", "a character no font on the page can draw (printed as an empty box)"),
    "C204": ("error", "an empty page"),
    "C205": ("warning", "a heading alone at the bottom of a page"),
    "C206": ("warning", "an image printed below the minimum resolution (`[check] min_dpi`)"),
    "C207": ("warning", "an image without alt text"),
    "C208": ("warning", "a link whose target the print reader cannot see"),
    "C209": ("error", "the PDF is larger than the email budget (`[check] max_size_mb`)"),
    "C210": ("error", "the PDF is missing or cannot be read"),
    "C220": ("error", "text printed too small to read, or in the colour of what is under it (white on the page)"),
    "C230": ("error", "text printed under the theme's smallest size (large print: 18 pt), footers included"),
    "L301": ("warning", "web boilerplate left in the article's text"),
    "L302": ("warning", "an advertising or SEO phrase inside the text"),
    "L303": ("warning", "placeholder text (lorem ipsum, TODO, [insert ...])"),
    "L304": ("warning", "a doubled word"),
    "L305": ("warning", "the text stops mid-sentence: the last paragraph has no end punctuation"),
    "L306": ("warning", "the title of a pasted or saved page is one or two words, as a menu item is"),
    "L307": ("warning", "in an article from a web page, three or more paragraphs or list items in a row that are"
                        " each only a link to another page (related headlines)"),
    "L320": ("warning", "the reading grade is over [check] max_grade (the hardest sections named)"),
    "L321": ("warning", "a sentence longer than [check] max_sentence_words"),
    "L322": ("warning", "a word of more syllables than [check] max_word_syllables"),
    "M401": ("warning", "a cc or bcc address left out: it is a recipient's own address, who gets one copy"),
}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    path: Path | None = None
    line: int | None = None
    page: int | None = None
    # What a removal was (menu, share, related, comments, legal, cookie...) and how
    # many words it held: the build's one-line summary per article counts them.
    kind: str | None = None
    words: int | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"undocumented diagnostic code {self.code}")

    @property
    def severity(self) -> str:
        return CODES[self.code][0]

    def __str__(self) -> str:
        where = location(self.path, self.line)
        if self.page is not None:
            where += f": page {self.page}"
        return f"{where}: {self.severity}: {printable(self.message)} [{self.code}]"

    def as_dict(self) -> dict:
        found = {
            "code": self.code, "severity": self.severity, "message": self.message,
            "file": str(self.path) if self.path else None, "line": self.line, "page": self.page,
        }
        # Only removals have these; the JSON report's other findings keep their shape.
        return found | {name: value for name, value in (("kind", self.kind), ("words", self.words)) if value}


def with_removals_summarised(diagnostics: tuple[Diagnostic, ...]) -> list[Diagnostic]:
    """The diagnostics with an article's removals told in one line each, by kind: its web page
    furniture (W102: a whole page can lose hundreds of blocks) and its raw HTML's screen
    formatting (W109: a README centres each block); each is one line under --verbose."""
    return screen_formatting_summarised(furniture_summarised(diagnostics))


def furniture_summarised(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    removals = [d for d in diagnostics if d.code == "W102"]
    if len(removals) < 2:
        return list(diagnostics)
    by_kind: dict[str, int] = {}
    for removal in removals:
        kind = removal.kind or "other"
        by_kind[kind] = by_kind.get(kind, 0) + (removal.words or 0)
    words = sum(by_kind.values())
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(by_kind.items(), key=lambda item: -item[1]))
    summary = Diagnostic(
        "W102", f"removed {len(removals)} blocks of web page furniture"
                f"{f', {words} words ({kinds})' if words else ''}; --verbose lists each",
        removals[0].path, words=words)
    return in_place_of(diagnostics, removals, summary)


def screen_formatting_summarised(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    left_out = [d for d in diagnostics if d.code == "W109" and d.kind]
    if len(left_out) < 2:
        return list(diagnostics)
    counts = Counter(d.kind for d in left_out)
    kinds = ", ".join(f"{kind} {count}" if count > 1 else str(kind) for kind, count in counts.most_common())
    summary = Diagnostic("W109", f"left out screen formatting in {len(left_out)} places ({kinds}; the theme lays"
                                 " out the page); --verbose lists each", left_out[0].path)
    return in_place_of(diagnostics, left_out, summary)


def in_place_of(diagnostics: Sequence[Diagnostic], told: list[Diagnostic], summary: Diagnostic) -> list[Diagnostic]:
    """The diagnostics with `summary` where the first of `told` was, and none of the others."""
    first = list(diagnostics).index(told[0])
    skipped = {id(d) for d in told}
    return [*diagnostics[:first], summary, *(d for d in diagnostics[first:] if id(d) not in skipped)]


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """" (did you mean 'x'?)" with the known name closest to `name`, or nothing: the one
    hint of every unknown key (front matter, handout.toml)."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
