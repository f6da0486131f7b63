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

from .diagnostics import Diagnostic

# After one of these, the short lines that follow are the titles of other pages.
RELATED = re.compile(r"related (posts?|articles?|stories)( from .*)?:?|(you may|you might) also like:?|"
                     r"more (articles|stories|posts)( from .*)?:?", re.I)
LEGAL_LINK = (r"((privacy|cookies?)( policy| notice| settings)?|terms( of (use|service))?|terms (and|&) conditions|"
              r"accessibility( statement)?|site ?map|disclaimer|imprint|legal( notice)?|contact( us)?)")
# Lines that are web-page furniture wherever they stand. Each pattern must
# match a whole sentence, so article text that merely mentions these words stays.
BOILERPLATE = [re.compile(p, re.I) for p in (
    r"leave a (reply|comment)( cancel reply)?",
    r"post a comment",
    r"cancel reply",
    r"your email address will not be published\.?",
    r"required fields are marked \*?",
    r"save my name,? email,? and website in this browser for the next time I comment\.?",
    r"you must be logged in to post a comment\.?",
    r"notify me of (follow-up comments|new posts) by email\.?",
    r"this site uses akismet to reduce spam\..*",
    r"(share|like) this( article| post)?:?",
    r"click to (share|print|email) .*",
    r"share on (facebook|twitter|x|linkedin|whatsapp|pinterest|reddit|email)",
    r"(this|our) (web)?site uses cookies\b.*",
    r"we use cookies\b.*\b(experience|website|site|consent|analytics|traffic|personali[sz]e|advertising|browsing)\b.*",
    r"(accept|reject|allow)( all)? cookies",
    r"cookie (settings|policy|preferences)",
    r"subscribe to (our|the) newsletter.*",
    RELATED.pattern,
    r"skip to (main )?content",
    r"toggle (navigation|menu)|back to top|print this page",
    r"posted in .*",
    r"tagged:? .*",
    r"\d+ comments?",
    r"\d+ min(ute)?s? read",
    # A page's footer: its copyright line and legal links.
    # ("Copyright 2023 reforms changed the law." is a sentence: without ©, only a short line.)
    r"(©|\(c\)|copyright\s*©)\s*\d{4}\b.*",
    r"copyright\s+\d{4}([-–]\d{4})?(\s+[\w&'’.,-]+){0,5}\.?",
    r"all rights reserved\.?",
    rf"{LEGAL_LINK}(\s*[|·•]\s*{LEGAL_LINK})+",
)]
# Short lines that are furniture only next to other furniture: a form's
# field labels ("Name *", "Website") would be real words elsewhere.
# ("Menu" and "Search" too: as a heading of an article they stay.)
FIELD = (r"(name|e-?mail|website|comment|post comment|submit|tweet|pin it|print|email|share|"
         r"facebook|twitter|x|linkedin|whatsapp|pinterest|reddit|telegram|messenger|copy link|loading\.*|"
         r"(main )?menu|search( this site| the site| our site)?\s*(\.\.\.|…)?)\s*\*?")
FORM_FIELDS = re.compile(rf"{FIELD}(\s*[|·•,/]?\s*{FIELD})*", re.I)
# A site's menu or breadcrumb: three or more short items between separators.
NAVIGATION = re.compile(r"[^|·•/>›»]{1,30}(\s+[|·•/>›»]\s+[^|·•/>›»]{1,30}){2,}")
# A list item of pasted text: a bullet, or a number with a dot or parenthesis.
BULLET = re.compile(r"[-*+•·–—▪◦●]\s+")
NUMBERED = re.compile(r"(\d{1,3})[.)]\s+")
SENTENCE = re.compile(r"(?<=[.!?*])\s+")

# Latin and most scripts; the danda of the Indic scripts; Arabic and Urdu; CJK full stops;
# Armenian, Ethiopic, Myanmar and Khmer full stops.
END_PUNCTUATION = ".!?…।॥؟۔。！？։።፧။។"
# A heading may ask a question ("Who should get vaccinated?"), but not end a sentence.
HEADING_END_PUNCTUATION = ".,;:!…"
CLOSERS = "\"'”’»)]"
MAX_HEADING_CHARS = 70
MAX_HEADING_WORDS = 12
# A heading stands out by its length: a line this close to the length of the
# line after it is one line of a hard-wrapped paragraph.
WRAPPED_LINE_RATIO = 0.7
# A run of more short lines than this before a paragraph is a list or an
# address, not a heading and its sub-heading.
MAX_HEADING_RUN = 2
SHORT_LINE_CHARS = 60


@dataclass(frozen=True)
class Line:
    number: int
    text: str


@dataclass(frozen=True)
class PlainText:
    title: str
    markdown: str
    diagnostics: tuple[Diagnostic, ...]


def convert(text: str, path: Path) -> PlainText:
    """Title, Markdown body and warnings for one plain-text article."""
    lines = [Line(n, raw.strip()) for n, raw in enumerate(text.split("\n"), start=1)]
    content = [line for line in lines if line.text]

    removed = boilerplate_lines(content)
    # The title is the first line that is not the page's furniture (a menu, "Skip to content").
    title = next((line for line in content if line.number not in removed), content[0])
    removed.discard(title.number)
    diagnostics = [
        Diagnostic("W102", f"removed web boilerplate: '{shorten(line.text)}'", path, line.number)
        for line in content if line.number in removed
    ]
    # A removed line separates paragraphs like a blank line does.
    kept = [Line(line.number, "" if line.number in removed else line.text) for line in lines]
    blocks = structure(kept[title.number:])

    if blocks and blocks[-1][0] == "paragraph":
        last = blocks[-1][1][-1]
        if not last.text.rstrip(CLOSERS).endswith(tuple(END_PUNCTUATION)):
            diagnostics.append(Diagnostic(
                "W103",
                f"text appears truncated at line {last.number}: "
                f"it ends '…{last.text[-30:]}' with no end punctuation; kept as it is",
                path, last.number,
            ))
    return PlainText(
        title=title.text, markdown=to_markdown(blocks),
        diagnostics=tuple(sorted(diagnostics, key=lambda d: d.line or 0)),
    )


def boilerplate_lines(lines: list[Line]) -> set[int]:
    """Numbers of the lines (all of them non-blank) that are web-page furniture."""
    removed = {line.number for line in lines if all(
        any(p.fullmatch(sentence) for p in BOILERPLATE)
        for sentence in SENTENCE.split(line.text)
    )}
    # A menu at the very top of the page is the site's, not the article's.
    if lines and NAVIGATION.fullmatch(lines[0].text):
        removed.add(lines[0].number)
    # Grow the removed regions over form-field labels, share buttons and menus standing
    # next to them; after "Related posts", over the titles it lists.
    by_number = {line.number: line for line in lines}
    grew = True
    while grew:
        grew = False
        for before, line, after in zip([None] + lines, lines, lines[1:] + [None]):
            if line.number in removed:
                continue
            beside = [n for n in (before, after) if n is not None and n.number in removed]
            furniture = FORM_FIELDS.fullmatch(line.text) or NAVIGATION.fullmatch(line.text)
            listed = (before is not None and before.number in removed and line.number == before.number + 1
                      and is_heading_like(line.text) and related_list(before.number, by_number, removed))
            if (beside and furniture) or listed:
                removed.add(line.number)
                grew = True
    return removed


def related_list(number: int, by_number: dict[int, Line], removed: set[int]) -> bool:
    """Whether the line numbered `number` is "Related posts" or one of the titles listed right under it."""
    while number in removed and number in by_number:
        if RELATED.fullmatch(by_number[number].text):
            return True
        number -= 1
    return False


def is_heading_like(text: str) -> bool:
    words = text.split()
    return (
        len(text) <= MAX_HEADING_CHARS
        and len(words) <= MAX_HEADING_WORDS
        and not text.rstrip(CLOSERS).endswith(tuple(HEADING_END_PUNCTUATION))
        and not text[0].islower()
        and not (BULLET.match(text) or NUMBERED.match(text))
        and any(c.isalpha() for c in text)
    )


def structure(lines: list[Line]) -> list[tuple[str, list[Line]]]:
    """Group lines into ('heading', [line]) and ('paragraph', [lines]) blocks."""
    blocks: list[tuple[str, list[Line]]] = []
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
        if run and k < len(nonblank) and len(run) <= MAX_HEADING_RUN and ends_block(run[0][0]):
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
            paragraph.append(line)
    if paragraph:
        blocks.append(("paragraph", paragraph))
    return blocks


def to_markdown(blocks: list[tuple[str, list[Line]]]) -> str:
    parts = []
    for kind, lines in blocks:
        if kind == "heading":
            parts.append("## " + escape(lines[0].text))
        elif len(lines) > 1 and all(BULLET.match(line.text) for line in lines):
            parts.append("\n".join("- " + escape(BULLET.sub("", line.text, count=1)) for line in lines))
        elif len(lines) > 1 and all(NUMBERED.match(line.text) for line in lines):
            parts.append("\n".join(f"{NUMBERED.match(line.text)[1]}. " + escape(NUMBERED.sub("", line.text, count=1))
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


MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>~|])|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])|&(?=#?\w+;)")
LINE_START_SPECIAL = re.compile(r"^([#>+=:-]|\d+(?=[.)]))")


def escape(text: str) -> str:
    """Text that Markdown renders as itself, word for word."""
    text = MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    return LINE_START_SPECIAL.sub(lambda m: m.group(0) + "\\" if m.group(0)[0].isdigit() else "\\" + m.group(0), text)


def shorten(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
