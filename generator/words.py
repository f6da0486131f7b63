"""Words as the checks compare them, and where a run of them stands in a source file."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

WORD = re.compile(r"\w+")
# WeasyPrint marks a hyphenation break with U+2010; text extraction keeps it
# and the line end, which together are no part of the word.
LINE_BREAK_HYPHEN = re.compile("\u2010[ \t]*\n[ \t]*")


def words(text: str) -> list[str]:
    """Lower-cased words, compatibility-normalised (ligatures and full-width forms unfolded)."""
    return WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def printed_words(extracted: str) -> list[str]:
    """Words of text extracted from a PDF, with line-break hyphenation undone."""
    return words(LINE_BREAK_HYPHEN.sub("", extracted))


@dataclass(frozen=True)
class SourceWords:
    """Every word of a source file with its line, to name the line of a run of words."""

    words: tuple[str, ...]
    lines: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> SourceWords:
        found, lines = [], []
        for number, line in enumerate(text.split("\n"), start=1):
            for word in words(line):
                found.append(word)
                lines.append(number)
        return cls(tuple(found), tuple(lines))

    def line_of(self, run: list[str]) -> int | None:
        """The line where `run` (or its first few words) first appears."""
        probe = list(run[:4])
        while probe:
            size = len(probe)
            for i in range(len(self.words) - size + 1):
                if list(self.words[i:i + size]) == probe:
                    return self.lines[i]
            probe = probe[:-1] if size > 1 else []
        return None
