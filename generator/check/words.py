"""Words as the checks compare them, and where a run of them stands in a source file."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

WORD = re.compile(r"\w+")
# WeasyPrint marks a hyphenation break with U+2010; text extraction keeps it
# and the line end, which together are no part of the word.
LINE_BREAK_HYPHEN = re.compile("\u2010[ \t]*\n[ \t]*")


# Scripts whose letters change shape and order when typeset (Arabic, the Indic
# scripts, Thai, Lao, Myanmar, Khmer): the text a PDF keeps of them cannot be
# read back letter for letter, so their words are left out of the comparison.
SHAPED_SCRIPTS = re.compile(
    "[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
    "\u0900-\u0dff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]"
)


# A keycap emoji (1️⃣, #️⃣) prints as one sign, which the PDF gives back as no text:
# its digit is no word.
KEYCAP = re.compile("[#*0-9]\uFE0F?\u20E3")


def words(text: str) -> list[str]:
    """Lower-cased words, compatibility-normalised (ligatures and full-width forms unfolded).

    Words in shaped scripts are left out (see SHAPED_SCRIPTS); unreadable_words counts them.
    """
    text = unicodedata.normalize("NFKC", KEYCAP.sub(" ", text)).casefold()
    return [w for w in WORD.findall(text) if not SHAPED_SCRIPTS.search(w)]


def unreadable_words(text: str) -> int:
    """How many words of `text` are in scripts a PDF cannot give back letter for letter."""
    return sum(bool(SHAPED_SCRIPTS.search(w)) for w in text.split())


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


# Length of the word groups that pin the two texts together: long enough to be
# unique in a real article, and in long runs of a small vocabulary too.
ANCHOR = 8
# A gap between anchors is compared letter by letter up to this many letter
# pairs, else word by word; past this many word pairs it is two different
# texts, not a few lost words, and is reported missing whole.
LARGEST_GAP = 4_000_000


def missing_runs(expected: list[str], printed: list[str]) -> list[list[str]]:
    """Runs of `expected` words not found, in order, among the `printed` ones.

    The two are nearly the same sequence, with words added in print (list
    numbers, printed link addresses) and perhaps some lost. Word groups that
    occur once in each text pin them together (as patience diff does), and
    only the short gaps between those pins are diffed, so a 300-page article
    compares in a moment. A word the PDF broke without a hyphen (a long URL
    wrapped anywhere, CJK text) comes back in pieces: pieces that join to the
    expected word count as found, and so do two expected words printed as one.
    """
    runs: list[list[str]] = []
    e0 = p0 = 0
    for e, p in anchors(expected, printed) + [(len(expected), len(printed))]:
        runs.extend(gap_runs(expected[e0:e], printed[p0:p]))
        e0, p0 = e + ANCHOR, p + ANCHOR
    return runs


def anchors(expected: list[str], printed: list[str]) -> list[tuple[int, int]]:
    """(expected, printed) positions of word groups unique in both, in order, not overlapping."""
    def unique_groups(seq: list[str]) -> dict[tuple[str, ...], int]:
        counts = Counter(tuple(seq[i:i + ANCHOR]) for i in range(len(seq) - ANCHOR + 1))
        return {tuple(seq[i:i + ANCHOR]): i for i in range(len(seq) - ANCHOR + 1)
                if counts[tuple(seq[i:i + ANCHOR])] == 1}

    in_printed = unique_groups(printed)
    pairs = sorted((e, in_printed[group]) for group, e in unique_groups(expected).items() if group in in_printed)
    kept: list[tuple[int, int]] = []
    for e, p in increasing_subsequence(pairs):
        if not kept or (e >= kept[-1][0] + ANCHOR and p >= kept[-1][1] + ANCHOR):
            kept.append((e, p))
    return kept


def increasing_subsequence(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of pairs whose second items increase too (patience sorting)."""
    tails: list[int] = []  # second item ending the best run of each length
    tail_index: list[int] = []
    previous = [-1] * len(pairs)
    for k, (_, p) in enumerate(pairs):
        length = bisect.bisect_left(tails, p)
        if length == len(tails):
            tails.append(p)
            tail_index.append(k)
        else:
            tails[length], tail_index[length] = p, k
        previous[k] = tail_index[length - 1] if length else -1
    chain, k = [], tail_index[-1] if tail_index else -1
    while k != -1:
        chain.append(pairs[k])
        k = previous[k]
    return chain[::-1]


def gap_runs(expected: list[str], printed: list[str]) -> list[list[str]]:
    if not expected:
        return []
    if sum(map(len, expected)) * sum(map(len, printed)) <= LARGEST_GAP:
        return unmatched_words(expected, printed)
    if len(expected) * len(printed) > LARGEST_GAP:
        return [expected]
    runs = []
    matcher = SequenceMatcher(None, expected, printed, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("delete", "replace"):
            runs.extend(unmatched_words(expected[i1:i2], printed[j1:j2]))
    return runs


def unmatched_words(expected: list[str], printed: list[str]) -> list[list[str]]:
    """Runs of `expected` words whose letters are not all found, in order, in `printed`.

    Where the words differ, compare letters: a cell as narrow as a few
    letters breaks "07:30–19:00" into "07:3", "0–", "19:0", "0", which are
    other words but the same letters.
    """
    letters = "".join(expected)
    matched = bytearray(len(letters))
    for block in SequenceMatcher(None, letters, "".join(printed), autojunk=False).get_matching_blocks():
        matched[block.a:block.a + block.size] = b"\x01" * block.size
    runs: list[list[str]] = []
    run: list[str] = []
    start = 0
    for word in expected:
        if all(matched[start:start + len(word)]):
            if run:
                runs.append(run)
            run = []
        else:
            run.append(word)
        start += len(word)
    return runs + ([run] if run else [])
