"""Problems found along the pipeline, each with a stable code.

Codes are stable so users can grep logs and scripts can count them; the README
lists them. Stages return diagnostics as data; only the CLI prints them.
W1xx come from building, C2xx from checking a PDF, L3xx from linting an
article's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import location, printable

# code -> (severity, meaning): the table the README documents.
CODES = {
    "W101": ("warning", "unknown front-matter key (the closest known key is suggested)"),
    "W102": ("warning", "web boilerplate removed from a plain-text article"),
    "W103": ("warning", "text appears truncated: the last sentence stops without end punctuation"),
    "W104": ("warning", "the renderer reported a problem (for example an image it could not draw)"),
    "W105": ("warning", "unknown key in handout.toml (the closest known key is suggested)"),
    "W106": ("warning", "a file outside the project's content, templates, themes and assets folders was not read"),
    "W107": ("warning", "a remote resource was not fetched (no network without --allow-remote, or refused)"),
    "W108": ("warning", "unsafe raw HTML removed (scripts, event handlers, javascript: links, forms...)"),
    "W109": ("warning", "raw HTML formatting for a screen left out (widths, borders, font tags, no-wrap...)"),
    "W120": ("warning", "a raw HTML style that hides text on paper left out (font-size 0, text coloured like its background, a negative margin)"),
    "C201": ("error", "words of the article missing from the PDF (with the source line of each run)"),
    "C202": ("error", "text drawn outside the visible page (off the edge or clipped by its box)"),
    "C203": ("error", "a character no font on the page can draw (printed as an empty box)"),
    "C204": ("error", "an empty page"),
    "C205": ("warning", "a heading alone at the bottom of a page"),
    "C206": ("warning", "an image printed below the minimum resolution (default 150 dpi)"),
    "C207": ("warning", "an image without alt text"),
    "C208": ("warning", "a link whose target the print reader cannot see"),
    "C209": ("error", "the PDF is larger than the email budget (default 10 MB)"),
    "C210": ("error", "the PDF is missing or cannot be read"),
    "C220": ("error", "text printed too small to read, or in the colour of what is under it (white on the page)"),
    "L301": ("warning", "web boilerplate left in the article's text"),
    "L302": ("warning", "an advertising or SEO phrase inside the text"),
    "L303": ("warning", "placeholder text (lorem ipsum, TODO, [insert ...])"),
    "L304": ("warning", "a doubled word"),
    "L305": ("warning", "the text stops mid-sentence: the last paragraph has no end punctuation"),
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
        return {
            "code": self.code, "severity": self.severity, "message": self.message,
            "file": str(self.path) if self.path else None, "line": self.line, "page": self.page,
            "kind": self.kind, "words": self.words,
        }
