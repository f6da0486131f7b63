"""The data that flows from the loaders to the renderer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic

PAPER_SIZES = ("a4", "letter")
# Languages written from right to left: their handouts are laid out from the right.
RIGHT_TO_LEFT = {"ar", "he", "fa", "ur", "ps", "yi", "dv", "ckb", "sd", "ug", "syr", "iw"}
# Subtags of a zh tag for Chinese written in traditional characters.
TRADITIONAL_CHINESE = {"hant", "tw", "hk", "mo"}


# A BCP-47 language tag as handout accepts one: "en", "de-DE", "pt-BR", "zh-Hant".
LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


def language_of(lang: str) -> str:
    """A language tag's language, lower case: "ar-EG" is "ar"; traditional Chinese
    ("zh-TW", "zh-Hant") is "zh-hant", as it takes other fonts and words."""
    language, *subtags = lang.lower().split("-")
    return "zh-hant" if language == "zh" and TRADITIONAL_CHINESE & set(subtags) else language


def text_direction(lang: str) -> str:
    """"rtl" or "ltr", from a language tag such as ar-EG."""
    return "rtl" if language_of(lang) in RIGHT_TO_LEFT else "ltr"


@dataclass(frozen=True)
class Metadata:
    """Front matter, checked and normalised (strings, keywords as a tuple)."""

    title: str
    subtitle: str | None = None
    author: str | None = None
    date: str | None = None
    lang: str | None = None  # None: the project's default language, else English
    source_url: str | None = None
    summary: str | None = None
    keywords: tuple[str, ...] = ()
    theme: str | None = None
    paper: str | None = None
    cover: bool | None = None
    toc: bool | None = None
    # A line for one recipient ("Prepared for {{ recipient.name }}"), printed in the theme's
    # personal area; filled in by `handout mail`, left out of a plain build.
    personal: str | None = None
    fit: int | None = None  # at most this many pages (typeset/fit.py)


@dataclass(frozen=True)
class Removal:
    """A block of a web page left out of the article: its kind (menu, share,
    related...), the line it began on in the source file, and its whole text,
    so `handout import` can show the user what to put back; and where to put it
    back: `after`, how many of the body's blocks (its parts between blank lines)
    came before it, or None when that is not known (then it goes at the end)."""

    kind: str
    line: int
    text: str
    after: int | None = None


@dataclass(frozen=True)
class Article:
    """One article, read and cleaned, with its body as Markdown.

    Plain-text articles are turned into Markdown by their loader, so every
    article reaches the renderer in one form, and `handout import` writes
    exactly what `handout build` renders.
    """

    source: Path
    slug: str
    meta: Metadata
    body: str
    # Line in the source file where `body` begins, so later stages can name
    # the source line of a problem they find in the body.
    body_first_line: int = 1
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    removed: tuple[Removal, ...] = field(default=())
