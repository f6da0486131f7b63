"""The fonts the themes use: made once, kept in the cache folder."""

from __future__ import annotations

import pytest
from fontTools.ttLib import TTFont

from generator import fonts


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDOUT_CACHE_DIR", str(tmp_path))
    fonts.coverage.cache_clear()
    yield tmp_path / "fonts"
    fonts.coverage.cache_clear()


def test_a_fonts_character_map_is_read_once_then_from_the_cache(empty_cache):
    font = next(f for f in fonts.packaged_fonts() if f.family == "Noto Sans Hebrew")
    first = fonts.coverage(font.path)
    assert first == frozenset(TTFont(font.path).getBestCmap())
    (cached,) = empty_cache.glob("coverage-*.txt")
    fonts.coverage.cache_clear()
    assert fonts.coverage(font.path) == first
    # What a later build reads is the cache file, not the font.
    cached.write_text("5d0-5d1\n")
    fonts.coverage.cache_clear()
    assert fonts.coverage(font.path) == {0x5D0, 0x5D1}
