"""The article's own text, linted: what a careful editor would catch before printing.

Leftover web boilerplate, advertising or SEO phrases slipped into sentences,
placeholder text, doubled words and a text that stops mid-sentence. Each
finding names the source line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .article import Article
from .diagnostics import Diagnostic
from .markup import PARSER
from .plaintext import BOILERPLATE, CLOSERS, END_PUNCTUATION, SENTENCE
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
DOUBLED = re.compile(r"\b(\w+)\s+(\1)\b", re.I)
# Doubled on purpose in ordinary writing.
DOUBLED_OK = {"had", "that", "is", "bye", "no", "very", "so", "knock", "tut"}


def lint(article: Article, source: SourceWords, extra_phrases: Iterable[str] = ()) -> list[Diagnostic]:
    """Findings in the article's text; `source` (its file's words) names their lines."""
    project_phrases = [re.compile(r"\b" + re.escape(p) + r"\b", re.I) for p in extra_phrases]
    found: list[Diagnostic] = []

    def report(code: str, message: str, text: str) -> None:
        found.append(Diagnostic(code, message, article.source, source.line_of(words(text))))

    ending = ""
    for text, ends_article in prose(article):
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
    # Thai, Lao, Khmer and Myanmar end sentences with a space, not a mark.
    unpunctuated_script = bool(re.search("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]$", ending))
    if ending and not unpunctuated_script and not ending.rstrip(CLOSERS).endswith(tuple(END_PUNCTUATION)):
        tail = " ".join(ending.split()[-5:])
        report("L305", f"text cut off: it ends '…{tail}' with no end punctuation", tail)
    return found


def prose(article: Article) -> Iterable[tuple[str, bool]]:
    """The text of each paragraph, list item, table cell and heading (code left out),
    and whether it is the paragraph that ends the article."""
    tokens = PARSER.parse(article.body)
    for index, token in enumerate(tokens):
        if token.type == "inline":
            text = "".join(
                " " if child.type in ("softbreak", "hardbreak") else child.content
                for child in token.children or () if child.type in ("text", "softbreak", "hardbreak")
            )
            ends_article = index + 2 == len(tokens) and tokens[index + 1].type == "paragraph_close"
            yield re.sub(r"\s+", " ", text).strip(), ends_article
