"""Plain text pasted from a web page, turned into clean Markdown.

Pasted text has no markup: the first line is the title, headings are short
lines standing before a paragraph, and the page's furniture (comment forms,
share and cookie lines) comes along with the article. This module guesses the
structure, removes the furniture and reports every removal, so a user can see
exactly which words did not reach the handout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..article import Removal
from ..diagnostics import Diagnostic
from ..errors import ArticleError
from .paste import (
    BULLET,
    CLOSERS,
    END_PUNCTUATION,
    FURNITURE_LINE,
    NUMBERED,
    Line,
    find_article,
    is_heading_like,
    stops_mid_sentence,
)

# Whole sentences that are furniture in any text: the linter looks for them in Markdown articles too.
BOILERPLATE = [FURNITURE_LINE[kind] for kind in ("cookie", "form", "share", "legal")]
SENTENCE = re.compile(r"(?<=[.!?*])\s+")
SHORT_LINE_CHARS = 60
# A heading stands out by its length: a line this close to the length of the
# line after it is one line of a hard-wrapped paragraph.
WRAPPED_LINE_RATIO = 0.7
# A run of more short lines than this before a paragraph is a list or an
# address, not a heading and its sub-heading.
MAX_HEADING_RUN = 2
# Short lines under a line ending in a colon are a list from two items on;
# short one-line paragraphs a blank line apart, from three.
MIN_INTRODUCED_ITEMS = 2
MIN_SEPARATE_ITEMS = 3
# How a removal is quoted in its warning.
QUOTED_CHARS = 70


@dataclass(frozen=True)
class PlainText:
    title: str
    markdown: str
    diagnostics: tuple[Diagnostic, ...]
    lang: str | None = None
    author: str | None = None
    date: str | None = None
    # What was left out, whole, for `handout import` to list.
    removed: tuple[Removal, ...] = ()


def convert(text: str, path: Path, first_line: int = 1, lang: str | None = None) -> PlainText:
    """Title, byline, date, language, Markdown body and warnings for one pasted text.

    `first_line` is the file's line number of the text's first line (below any
    front matter); `lang`, from the front matter, wins over the detected language.
    """
    lines = [Line(n, raw.strip()) for n, raw in enumerate(text.split("\n"), start=first_line)]
    if not any(line.text for line in lines):
        raise ArticleError("no article text", path, first_line)
    page = find_article(lines, lang)
    diagnostics = [
        Diagnostic("W102", f"removed {removal.kind} ({len(removal.lines)} line{'s' if len(removal.lines) > 1 else ''}, "
                           f"{removal.words} word{'s' if removal.words != 1 else ''}): "
                           f"'{shorten(' | '.join(line.text for line in removal.lines))}'",
                   path, removal.lines[0].number, kind=removal.kind, words=removal.words)
        for removal in page.removals
    ]
    blocks = structure(list(page.body))
    if not blocks:
        raise ArticleError("no article found: every line looks like a web page's menus, buttons or footer",
                           path, first_line)
    if blocks[-1][0] == "paragraph":
        last = blocks[-1][1][-1]
        if stops_mid_sentence(last.text):
            diagnostics.append(Diagnostic(
                "W103",
                f"text appears truncated at line {last.number}: "
                f"it ends '…{last.text[-30:]}' with no end punctuation; kept as it is",
                path, last.number,
            ))
    title = page.title.text if page.title is not None else (path.stem.replace("_", " ").replace("-", " ").strip()
                                                              or "Untitled")
    return PlainText(
        title=title, markdown=to_markdown(blocks),
        diagnostics=tuple(sorted(diagnostics, key=lambda d: d.line or 0)),
        lang=page.lang, author=page.author, date=page.date,
        removed=tuple(Removal(removal.kind, removal.lines[0].number, "\n".join(line.text for line in removal.lines),
                              # to_markdown makes a block of each block, one after the other
                              sum(lines[0].number < removal.lines[0].number for _, lines in blocks))
                      for removal in page.removals),
    )


# (kind, lines) of each block: paragraph, list, heading...
Blocks = list[tuple[str, list[Line]]]


def structure(lines: list[Line]) -> Blocks:
    """Group lines into ('heading', [line]) and ('paragraph', [lines]) blocks."""
    blocks: Blocks = []
    paragraph: list[Line] = []
    nonblank = [(i, line) for i, line in enumerate(lines) if line.text]

    def ends_block(i: int) -> bool:
        return i == 0 or not lines[i - 1].text or lines[i - 1].text.rstrip(CLOSERS)[-1:] in END_PUNCTUATION

    headings: set[int] = set()
    k = 0
    while k < len(nonblank):
        start = k
        while k < len(nonblank) and is_heading_like(nonblank[k][1].text):
            k += 1
        run = nonblank[start:k]
        if (run and k < len(nonblank) and len(run) <= MAX_HEADING_RUN and ends_block(run[0][0])
                and not (start > 0 and nonblank[start - 1][1].text.endswith(":"))):
            last_i, last = run[-1]
            follow_i, follow = nonblank[k]
            wrapped = (
                follow_i == last_i + 1
                and not (BULLET.match(follow.text) or NUMBERED.match(follow.text))
                and (follow.text[0].islower() or len(last.text) >= WRAPPED_LINE_RATIO * len(follow.text))
            )
            if not wrapped:
                headings.update(i for i, _ in run)
        k = max(k, start + 1)

    for i, line in enumerate(lines):
        if i in headings or not line.text:
            if paragraph:
                blocks.append(("paragraph", paragraph))
                paragraph = []
            if i in headings:
                blocks.append(("heading", [line]))
        else:
            if paragraph and starts_paragraph(paragraph[-1].text, line.text):
                blocks.append(("paragraph", paragraph))
                paragraph = []
            paragraph.append(line)
    if paragraph:
        blocks.append(("paragraph", paragraph))
    return find_lists(blocks)


def find_lists(blocks: Blocks) -> Blocks:
    """Blocks with the lists of a paste made ('list', items).

    A copied list loses its bullets: its items come as short lines under a line
    that ends with a colon, or as short one-line paragraphs a blank line apart,
    none of them a sentence.
    """
    return separate_items_as_lists(gather_separate_items(introduced_lists(blocks)))


def introduced_lists(blocks: Blocks) -> Blocks:
    """Short lines under a line that ends with a colon, inside a paragraph, split off as a list."""
    found: Blocks = []
    for kind, lines in blocks:
        if kind != "paragraph":
            found.append((kind, lines))
            continue
        start = 0  # of the part of the paragraph not yet placed
        i = 0
        while i < len(lines):
            end = i + 1
            while end < len(lines) and is_item(lines[end].text):
                end += 1
            if lines[i].text.endswith(":") and end - i - 1 >= MIN_INTRODUCED_ITEMS:
                found += [("paragraph", lines[start:i + 1]), ("list", lines[i + 1:end])]
                start = end
            i = end
        if start < len(lines):
            found.append(("paragraph", lines[start:]))
    return found


def gather_separate_items(blocks: Blocks) -> Blocks:
    """Runs of one-line blocks that could each be a list item, as one ('items', lines) block."""
    merged: Blocks = []
    for kind, lines in blocks:
        single = kind in ("paragraph", "list") and len(lines) == 1 and is_item(lines[0].text)
        if single and merged and merged[-1][0] == "items":
            merged[-1][1].append(lines[0])
        elif single:
            merged.append(("items", list(lines)))
        else:
            merged.append((kind, lines))
    return merged


def separate_items_as_lists(blocks: Blocks) -> Blocks:
    """Each run of items a list when it looks like one (enough of them, introduced by a colon,
    or all bulleted or numbered alike); else its lines stay paragraphs."""
    result: Blocks = []
    for kind, lines in blocks:
        introduced = bool(result) and result[-1][1][-1].text.endswith(":")
        if kind == "items" and (len(lines) >= MIN_SEPARATE_ITEMS or introduced and len(lines) >= MIN_INTRODUCED_ITEMS
                                or len(lines) > 1 and (all(BULLET.match(line.text) for line in lines)
                                                       or all(NUMBERED.match(line.text) for line in lines))):
            result.append(("list", lines))
        elif kind == "items":
            result += [("paragraph", [line]) for line in lines]
        else:
            result.append((kind, lines))
    return result


def item_number(text: str) -> str:
    """The number of a numbered list item ("3" of "3) Stir")."""
    number = NUMBERED.match(text)
    return number[1] if number else ""


def is_item(text: str) -> bool:
    """A line that can be a list item: bulleted or numbered, or short and no sentence."""
    if BULLET.match(text) or NUMBERED.match(text):
        return True
    return len(text) < SHORT_LINE_CHARS and text.rstrip(CLOSERS)[-1:] not in END_PUNCTUATION and not text.endswith(":")


def starts_paragraph(previous: str, text: str) -> bool:
    """Whether a line right under another begins a paragraph: a browser's copy puts no blank line between them."""
    return (previous.rstrip(CLOSERS)[-1:] in END_PUNCTUATION and not text[0].islower()
            and max(len(previous), len(text)) >= SHORT_LINE_CHARS)


def to_markdown(blocks: Blocks) -> str:
    parts = []
    for kind, lines in blocks:
        if kind == "heading":
            parts.append("## " + escape(lines[0].text))
        elif kind == "list" and not all(NUMBERED.match(line.text) for line in lines):
            parts.append("\n".join("- " + escape(BULLET.sub("", line.text, count=1)) for line in lines))
        elif len(lines) > 1 and all(BULLET.match(line.text) for line in lines):
            parts.append("\n".join("- " + escape(BULLET.sub("", line.text, count=1)) for line in lines))
        elif len(lines) > 1 and all(NUMBERED.match(line.text) for line in lines):
            parts.append("\n".join(f"{item_number(line.text)}. " + escape(NUMBERED.sub("", line.text, count=1))
                                    for line in lines))
        elif len(lines) > 1 and all(
            len(line.text) < SHORT_LINE_CHARS and not line.text[0].islower() for line in lines
        ):
            # Short lines each starting afresh (an address, a list) keep their
            # breaks; hard-wrapped prose continues in lower case and is joined.
            parts.append("\\\n".join(escape(line.text) for line in lines))
        else:
            parts.append(" ".join(escape(line.text) for line in lines))
    return "\n\n".join(parts) + "\n"


# '$' too: pasted text is never TeX math ("$HOME/$USER" would open and close a formula).
MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>~|$])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|&(?=#?\w+;)")
LINE_START_SPECIAL = re.compile(r"^([#>+=:-]|\d+(?=[.)]))")


def escape(text: str) -> str:
    """Text that Markdown renders as itself, word for word."""
    text = MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    return LINE_START_SPECIAL.sub(lambda m: m.group(0) + "\\" if m.group(0)[0].isdigit() else "\\" + m.group(0), text)


def shorten(text: str, width: int = QUOTED_CHARS) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
