"""How readable an article is: its reading grade, section by section, and the
sentences and words that make it hard.

Grades come from textstat, each with the formula made for the article's
language (Flesch-Kincaid for English, the Wiener Sachtextformel for German,
Crawford for Spanish): a formula fitted to one language gives wrong numbers
in another, so a language with none is "not measured", never guessed at.
Health-literacy guidance asks for grade 6 to 8 in patient materials.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..article import Article, language_of
from ..diagnostics import Diagnostic
from ..markup.html import PARSER
from .words import SourceWords, words

# A sentence ends at . ! ? or … followed by a space.
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
LETTERS = re.compile(r"[^\W\d_]+")
# Shown of a long sentence in its finding.
SHOWN_WORDS = 10


@dataclass(frozen=True)
class Formula:
    name: str
    grade: Callable[[Any, str], float]  # (textstat's statistics set to the language, text) -> grade


# language -> its grade formula, as textstat computes it.
FORMULAS = {
    "en": Formula("Flesch-Kincaid", lambda stats, text: stats.flesch_kincaid_grade(text)),
    # Variant 1, for prose; its value is a German school year (4 to 15).
    "de": Formula("Wiener Sachtextformel", lambda stats, text: stats.wiener_sachtextformel(text, 1)),
    # Years of schooling a Spanish text asks for.
    "es": Formula("Crawford", lambda stats, text: stats.crawford(text)),
}


@dataclass(frozen=True)
class SectionGrade:
    heading: str
    line: int | None
    grade: float
    words: int


@dataclass(frozen=True)
class Readability:
    lang: str
    formula: str | None  # None: no formula for the language
    grade: float | None = None
    words: int = 0
    sentences: int = 0
    sections: tuple[SectionGrade, ...] = ()

    def summary(self) -> str:
        if self.formula is None:
            return f"reading grade not measured for {self.lang}"
        return f"reading grade {self.grade:.1f} ({self.formula})"

    def as_dict(self) -> dict:
        return {
            "lang": self.lang, "formula": self.formula, "grade": self.grade,
            "words": self.words, "sentences": self.sentences,
            "sections": [{"heading": s.heading, "line": s.line, "grade": s.grade, "words": s.words}
                         for s in self.sections],
        }


@dataclass(frozen=True)
class ReadingLimits:
    """[check] in handout.toml: each None (the default) is no finding."""

    max_grade: float | None = None
    max_sentence_words: int | None = None
    max_word_syllables: int | None = None


@functools.cache
def statistics(lang: str):
    """textstat's statistics for one language (its own object: textstat's module-level one is shared)."""
    from textstat.textstat import textstatistics  # only a check that measures needs it

    stats = textstatistics()
    stats.set_lang(lang)
    return stats


def measure(article: Article, lang: str, source: SourceWords,
            limits: ReadingLimits = ReadingLimits()) -> tuple[Readability, list[Diagnostic]]:
    """The article's readability, and its findings (a grade, sentences and words over the limits)."""
    language = language_of(lang)
    formula = FORMULAS.get(language)
    if formula is None:
        return Readability(language, None), []
    stats = statistics(language)
    sections = list(sections_of(article.body))
    text = " ".join(block for _, blocks in sections for block in blocks)
    if not text.strip():
        return Readability(language, formula.name), []
    found: list[Diagnostic] = []

    def grade_of(blocks: list[str]) -> float:
        return round(formula.grade(stats, " ".join(blocks)), 1)

    graded = tuple(
        SectionGrade(heading, source.line_of(words(heading)), grade_of(blocks), sum(len(b.split()) for b in blocks))
        for heading, blocks in sections if heading and blocks
    )
    sentences = [s for _, blocks in sections for block in blocks for s in SENTENCE_END.split(block) if s]
    result = Readability(language, formula.name, grade_of([text]), len(text.split()), len(sentences),
                         graded if len(graded) > 1 else ())
    if limits.max_grade is not None and result.grade is not None and result.grade > limits.max_grade:
        hardest = sorted((s for s in result.sections if s.grade > limits.max_grade), key=lambda s: -s.grade)[:3]
        named = f" (hardest: {', '.join(f'{s.heading!r} {s.grade:.1f}' for s in hardest)})" if hardest else ""
        found.append(Diagnostic("L320", f"{result.summary()} is over [check] max_grade {limits.max_grade:g}{named}",
                                article.source, hardest[0].line if hardest else None))
    reported: set[str] = set()
    for sentence in sentences:
        count = len(sentence.split())
        if limits.max_sentence_words and count > limits.max_sentence_words:
            shown = " ".join(sentence.split()[:SHOWN_WORDS]) + " …"
            found.append(Diagnostic("L321", f"a sentence of {count} words (over {limits.max_sentence_words}):"
                                            f" '{shown}'", article.source, source.line_of(words(sentence))))
        if limits.max_word_syllables:
            long = [w for w in dict.fromkeys(LETTERS.findall(sentence)) if w.casefold() not in reported
                    and len(w) > limits.max_word_syllables and stats.syllable_count(w) > limits.max_word_syllables]
            reported.update(w.casefold() for w in long)
            if long:
                found.append(Diagnostic(
                    "L322", f"word{'s' * (len(long) > 1)} of more than {limits.max_word_syllables} syllables: "
                            f"{', '.join(long)}", article.source, source.line_of(words(sentence))))
    return result, found


def sections_of(body: str) -> Iterable[tuple[str, list[str]]]:
    """(heading, the prose blocks under it) for each top-level section;
    the text before the first heading has the heading "". Each block (a paragraph, a list
    item) ends a sentence, as a reader takes it, with its end punctuation or without."""
    tokens = PARSER.parse(body)
    top = min((int(t.tag[1]) for t in tokens if t.type == "heading_open"), default=0)
    heading, blocks = "", list[str]()
    for index, token in enumerate(tokens):
        if token.type != "inline":
            continue
        opener = tokens[index - 1]
        text = re.sub(r"\s+", " ", "".join(
            " " if child.type in ("softbreak", "hardbreak") else child.content
            for child in token.children or () if child.type in ("text", "softbreak", "hardbreak"))).strip()
        if opener.type == "heading_open":
            if int(opener.tag[1]) == top:
                yield heading, blocks
                heading, blocks = text, []
            continue
        if opener.type in ("th_open", "td_open") or not text:
            continue  # table cells are no sentences
        blocks.append(text if text[-1] in ".!?…" else text + ".")
    yield heading, blocks
