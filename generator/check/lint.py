"""The article's own text, linted: what a careful editor would catch before printing.

Leftover web boilerplate, advertising or SEO phrases slipped into sentences,
placeholder text, doubled words and a text that stops mid-sentence. Each
finding names the source line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..article import Article
from ..diagnostics import Diagnostic
from ..markup.html import PARSER
from ..read.paste import stops_mid_sentence
from ..read.plaintext import BOILERPLATE, SENTENCE
from .words import SHAPED_SCRIPTS, SourceWords, words

ADVERTISING = [re.compile(p, re.I) for p in (
    r"\b(buy|order|purchase|shop for)\s+(\w+\s+){0,3}online(\s+(usa|uk|canada|australia|now|today))?\b",
    r"\b(cheap|cheapest|discount(ed)?)\s+(\w+\s+){0,2}(pills?|meds|medications?|drugs?|tablets?)\b",
    r"\b(no|without( a)?)\s+prescription( needed| required)?\b",
    r"\b(best|lowest) prices?\b",
    r"\bfree (shipping|delivery|trial)\b",
    r"\b(click here|visit our (store|shop)|use (promo|coupon|discount) code)\b",
    r"\b(online casino|viagra|cialis|payday loans?)\b",
)]
PLACEHOLDER = re.compile(
    r"\b(?i:lorem ipsum)\b|\b(TODO|TBD|FIXME|XXX)\b|\[(insert|add|your)\b[^\]]*\]|<(insert|your)\b[^>]*>",
)
# A title this short from a web page may be a menu item the reader took for it.
MENU_ITEM_WORDS = 2
WEB_PAGE_EXTENSIONS = (".txt", ".html", ".htm")
# This many paragraphs or list items in a row, each only a link, are a list of other pages.
MIN_LINK_RUN = 3
DOUBLED = re.compile(r"\b(\w+)\s+(\1)\b", re.I)
# Doubled on purpose in ordinary writing.
DOUBLED_OK = {"had", "that", "is", "bye", "no", "very", "so", "knock", "tut"}


def lint(article: Article, source: SourceWords, extra_phrases: Iterable[str] = ()) -> list[Diagnostic]:
    """Findings in the article's text; `source` (its file's words) names their lines."""
    project_phrases = [re.compile(r"\b" + re.escape(p) + r"\b", re.I) for p in extra_phrases]
    found: list[Diagnostic] = []

    def report(code: str, message: str, text: str) -> None:
        found.append(Diagnostic(code, message, article.source, source.line_of(words(text))))

    tokens = PARSER.parse(article.body)  # parsed once, for every finding below
    ending = ""
    for text, ends_article in prose(tokens):
        ending = text if ends_article else ""
        for sentence in SENTENCE.split(text):
            if any(p.fullmatch(sentence.strip()) for p in BOILERPLATE):
                report("L301", f"web boilerplate left in the text: '{sentence.strip()}'", sentence)
        spans = {m.span() for pattern in ADVERTISING + project_phrases for m in pattern.finditer(text)}
        reported_to = -1
        for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
            if end > reported_to:  # not inside a phrase already reported
                report("L302", f"advertising or SEO phrase: '{text[start:end]}'", text[start:end])
                reported_to = end
        for match in PLACEHOLDER.finditer(text):
            report("L303", f"placeholder text: '{match.group(0)}'", match.group(0))
        for match in DOUBLED.finditer(text):
            # In shaped scripts \w stops at vowel signs: repeated syllables are not repeated words.
            if match.group(1).lower() not in DOUBLED_OK and not match.group(1).isdigit() \
                    and not SHAPED_SCRIPTS.search(match.group(1)):
                report("L304", f"doubled word: '{match.group(0)}'", match.group(0))
    found.extend(furniture_kept(article, tokens, source))
    if stops_mid_sentence(ending):
        tail = " ".join(ending.split()[-5:])
        report("L305", f"text cut off: it ends '…{tail}' with no end punctuation", tail)
    return found


def furniture_kept(article: Article, tokens: list, source: SourceWords) -> list[Diagnostic]:
    """What still looks like a web page's furniture in an article from a web page (pasted,
    saved, or imported, which leaves its source_url): a title of one or two words, as menu
    items are ("Topics", "EXPLORE"), and a run of items that are each nothing but a link
    (other pages' headlines). A hand-written article's list of links is its own."""
    from_web_page = article.source.suffix.lower() in WEB_PAGE_EXTENSIONS
    if not (from_web_page or article.meta.source_url):
        return []
    found = []
    title = article.meta.title.split()
    if from_web_page and len(title) <= MENU_ITEM_WORDS:
        found.append(Diagnostic("L306", f"the title '{article.meta.title}' is one or two words, as a page's menu "
                                        "items are: is it the article's? (title: in front matter sets it)",
                                article.source, 1))
    run: list[str] = []
    for text in [*link_items(tokens), None]:
        if text is not None:
            run.append(text)
            continue
        if len(run) >= MIN_LINK_RUN:
            found.append(Diagnostic("L307", f"{len(run)} items in a row that are each only a link, as a page's "
                                            f"related headlines are: '{run[0]}', ...", article.source,
                                    source.line_of(words(run[0]))))
        run = []
    return found


def link_items(tokens: list) -> Iterable[str | None]:
    """Each paragraph or list item's text if it is nothing but one link to another page,
    else None (a link within the article is a table of contents')."""
    for token in tokens:
        if token.type != "inline":
            continue
        children = [c for c in token.children or () if not (c.type == "text" and not c.content.strip())]
        whole_link = (len(children) >= 3 and children[0].type == "link_open" and children[-1].type == "link_close"
                      and sum(c.type == "link_open" for c in children) == 1
                      and not str(children[0].attrs.get("href", "")).startswith("#"))
        yield token.content if whole_link else None


def prose(tokens: list) -> Iterable[tuple[str, bool]]:
    """The text of each paragraph, list item, table cell and heading (code left out),
    and whether it is the paragraph that ends the article."""
    for index, token in enumerate(tokens):
        if token.type == "inline":
            text = "".join(
                " " if child.type in ("softbreak", "hardbreak") else child.content
                for child in token.children or () if child.type in ("text", "softbreak", "hardbreak")
            )
            ends_article = index + 2 == len(tokens) and tokens[index + 1].type == "paragraph_close"
            yield re.sub(r"\s+", " ", text).strip(), ends_article
