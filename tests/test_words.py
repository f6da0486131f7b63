"""Comparing the article's words with the printed ones."""

from __future__ import annotations

import random

import pytest

from generator.check.words import SourceWords, missing_runs, printed_words, words

TEXT = "wash your hands with soap and water for twenty seconds before every meal and after the toilet".split()


def test_words_fold_case_ligatures_and_full_width_forms():
    assert words("Ｆｕｌｌ ﬁne Straße, N-methyl") == ["full", "fine", "strasse", "n", "methyl"]


def test_printed_words_join_line_break_hyphens_only():
    assert printed_words("veterin\u2010\nary N-\nmethyl") == ["veterinary", "n", "methyl"]


@pytest.mark.parametrize("printed, missing", [
    (TEXT, []),
    (["page", "1", "of", "2"] + TEXT[:8] + ["footer", "text"] + TEXT[8:], []),  # extra words are fine
    (TEXT[:5] + TEXT[9:], [TEXT[5:9]]),                                     # a dropped run
    (TEXT[:-3], [TEXT[-3:]]),                                               # a lost ending
    (TEXT[3:], [TEXT[:3]]),                                                 # a lost beginning
    (TEXT[:4] + ["wa", "ter"] + TEXT[5:], [TEXT[4:5]]),                     # pieces that do not join to "soap"
    ([], [TEXT]),
])
def test_missing_runs(printed, missing):
    assert missing_runs(TEXT, printed) == missing


def test_a_word_broken_without_hyphen_and_two_words_printed_as_one_are_found():
    expected = ["see", "https", "example", "org", "averyverylongpath", "now", "27", "looking", "after"]
    printed = ["see", "https", "example", "org", "averyve", "rylongpa", "th", "now", "27looking", "after"]
    assert missing_runs(expected, printed) == []


def test_repetitive_text_with_a_gap_is_aligned_in_linear_time():
    rng = random.Random(4)
    expected = [rng.choice(["the", "nurse", "checks", "wound", "daily"]) for _ in range(60_000)]
    printed = expected[:30_000] + expected[30_500:]
    runs = missing_runs(expected, printed)
    assert sum(map(len, runs)) == 500


def test_source_words_name_the_line_of_a_run():
    source = SourceWords.of("Title\n\nFirst line here.\nSecond line, with words.\n")
    assert source.line_of(["second", "line", "with"]) == 4
    assert source.line_of(["line", "here", "nowhere"]) == 3  # the longest prefix found
    assert source.line_of(["absent"]) is None


def test_right_to_left_glyphs_are_read_back_in_reading_order():
    from generator.check.pdfscan import reading_order

    drawn = list("hello ") + list("םולש") + list(" world")
    assert reading_order(drawn) == "hello שלום world"
    assert reading_order(list("םלוע םולש")) == "שלום עולם"
    assert reading_order(["لا", "ب"]) == "بلا"  # a ligature's letters stay in their order
    # A telephone number in Hebrew or Arabic text: its groups are drawn right to left,
    # each group's digits left to right.
    assert reading_order(list("םלוע 0958 7946 020 םולש")) == "שלום 020 7946 0958 עולם"
    # The document's direction, from its language, decides which end a line starts at:
    # in an English handout, "Hello: שלום עולם" starts at the left though most of it is Hebrew.
    drawn = list("Hello: םלוע םולש")
    assert reading_order(drawn, right_to_left=False) == "Hello: שלום עולם"
    assert reading_order(drawn) == "שלום עולם Hello:"


def test_words_in_shaped_scripts_are_counted_apart():
    from generator.check.words import unreadable_words

    text = "Wash hands: اغسل يديك and हाथ धोएं."
    assert words(text) == ["wash", "hands", "and"]
    assert unreadable_words(text) == 4
