"""The fonts the themes use: made once, kept in the cache folder."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run, write
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from generator.build import (
    BuildOptions,
    Job,
    Setup,
    start_worker,
    typeset_job,
)
from generator.check.verify import CheckOptions, check
from generator.check.words import words
from generator.config import Config
from generator.read.load import load_article
from generator.sandbox import read_policy
from generator.typeset import fonts, pdf


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HANDOUT_CACHE_DIR", str(tmp_path))
    fonts.coverage.cache_clear()
    yield tmp_path / "fonts"
    fonts.coverage.cache_clear()


def test_a_fonts_coverage_is_its_character_map():
    for family in ("Noto Sans Hebrew", "Noto Sans SC", "DejaVu Sans"):
        font = next(f for f in fonts.packaged_fonts() if f.family == family)
        assert fonts.coverage(font.path) == frozenset(TTFont(font.path).getBestCmap()), family


EMOJI_ARTICLE = Path(__file__).parent / "corpus" / "emoji-symbols.md"


def handouts_own(font_name: str) -> bool:
    """Whether a PDF's font is one handout installs: a text family, or a cut of a fallback
    font (its family carries the cut's hash), not one of the machine's own."""
    return font_name.startswith(("Noto-", "JetBrains-Mono")) or bool(re.search(r"-[0-9a-f]{8}(-|$)", font_name))


def embedded_fonts(pdf: Path) -> set[str]:
    return {ref.get_object()["/BaseFont"].split("+", 1)[1] for page in PdfReader(pdf).pages
            for ref in page["/Resources"]["/Font"].values()}


def test_emoji_and_symbols_print_from_handouts_own_fonts_and_only_where_used(project):
    shutil.copy(EMOJI_ARTICLE, project / "content" / "emoji.md")
    write(project / "content" / "plain.md", "# Plain\n\nWash your hands -> often, 3 times a day #1.\n")
    assert run("build").exit_code == 0
    used = embedded_fonts(project / "output" / "emoji.pdf")
    # Every glyph from a font handout installs: none from whatever the machine has.
    assert all(map(handouts_own, used)), used
    for family in ("Noto-Emoji", "Noto-Sans-Symbols", *(f"Noto-Sans-{script}" for script in (
            "Armenian", "Georgian", "Gujarati", "Gurmukhi", "Kannada", "Malayalam", "Oriya", "Sinhala"))):
        assert any(name == family or name.startswith(family + "-") for name in used), family
    plain = embedded_fonts(project / "output" / "plain.pdf")
    assert not any("Emoji" in name or "Symbols" in name for name in plain), plain


@pytest.fixture
def fresh_font_configuration():
    # The fonts a configuration was given stay in it: an emoji font loaded by an earlier
    # handout in this process would still draw emoji.
    pdf.font_configuration.cache_clear()
    yield
    pdf.font_configuration.cache_clear()


def typeset_and_check(project: Path, source: Path, theme: str | None = None) -> list[str]:
    """`source` typeset in this process (with this process's fonts), then checked: its C203 messages."""
    config = Config()
    typesetter = start_worker(Setup(BuildOptions(config=config, theme=theme), config, read_policy(project, []),
                                    project, {}))
    target = project / "output" / theme / f"{source.stem}.pdf" if theme else project / "output" / f"{source.stem}.pdf"
    typeset = typeset_job(typesetter, Job(load_article(source), target))
    assert typeset.result.ok, typeset.result.error
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(dict(typeset.files)[target])
    (report,) = check([source], CheckOptions(output_dir=target.parent))
    return [d.message for d in report.diagnostics if d.code == "C203"]


def test_without_the_emoji_fallback_the_check_finds_the_boxes(project, monkeypatch, fresh_font_configuration):
    """The negative of the corpus tests: what the emoji font prevents, the check sees."""
    monkeypatch.setattr(fonts, "SYMBOL_FAMILIES", [f for f in fonts.SYMBOL_FAMILIES if f != fonts.EMOJI_FAMILY])
    monkeypatch.setattr(fonts, "emoji_fonts", lambda: ())
    source = write(project / "content" / "a.md", "Wave 👋 and party 🎉 at the clinic today.\n")
    assert "no font draws '👋' (U+1F44B): it prints as an empty box" in typeset_and_check(project, source)


@pytest.fixture
def no_machine_fonts(tmp_path, monkeypatch, fresh_font_configuration):
    """Fontconfig without the machine's fonts, as on a bare server: only handout's own fonts draw.

    WeasyPrint loads a fresh fontconfig configuration, from FONTCONFIG_FILE, for each
    font configuration it makes."""
    config = tmp_path / "fonts.conf"
    config.write_text('<?xml version="1.0"?>\n<fontconfig></fontconfig>\n')
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))


SIGNS_ARTICLE = Path(__file__).parent / "signs" / "symbol-classes.md"


@pytest.mark.parametrize("theme", ["handout", "two-column", "tufte", "large-print"])
def test_every_kind_of_sign_prints_from_handouts_own_fonts_in_every_theme(project, no_machine_fonts, theme):
    """Arrows, check marks and boxes, stars, warning signs, math, emoji sequences: no box,
    even where the machine has no fonts of its own."""
    assert typeset_and_check(project, SIGNS_ARTICLE, theme) == []


def test_without_dejavu_sans_the_check_finds_the_dingbats_boxes(project, no_machine_fonts, monkeypatch):
    monkeypatch.setattr(fonts, "SYMBOL_FAMILIES", [f for f in fonts.SYMBOL_FAMILIES if f != "DejaVu Sans"])
    boxes = typeset_and_check(project, SIGNS_ARTICLE)
    for sign in "☐☒✗✘✦➔⟹":
        assert f"no font draws '{sign}' (U+{ord(sign):04X}): it prints as an empty box" in boxes


def test_sequences_the_emoji_font_cannot_draw_lose_their_modifiers_only():
    kept = "👋🏽 👨\u200d👩\u200d👧 🇩🇪 1\ufe0f\u20e3 ⚠\ufe0f"
    assert fonts.shapeable(kept) == kept
    # No font draws a star in emoji form, nor a skin tone of a check mark: the base prints.
    assert fonts.shapeable("★\ufe0f ✓\U0001F3FD") == "★ ✓"
    # A script's own ZWJ (Devanagari, Sinhala) is no emoji's.
    assert fonts.shapeable("क्\u200dष ශ්\u200dර") == "क्\u200dष ශ්\u200dර"


def test_a_keycap_emoji_is_a_sign_not_a_word():
    # The PDF gives a keycap back as no text: its digit must not be missed by the check.
    assert words("press 1\ufe0f\u20e3 or #\ufe0f\u20e3, not 2 or #3") == ["press", "or", "not", "2", "or", "3"]


def test_the_text_fonts_are_made_static_whole_and_at_their_weight(empty_cache):
    fonts.text_fonts.cache_clear()
    try:
        made = fonts.text_fonts()
    finally:
        fonts.text_fonts.cache_clear()
    sources = {(f.family, f.style): f.path for f in fonts.packaged_fonts()}
    for font in made:
        static = TTFont(font.path)
        assert "fvar" not in static and "gvar" not in static, font
        assert set(static.getBestCmap()) == set(TTFont(sources[font.family, font.style]).getBestCmap()), font
    serif = {font.weight: TTFont(font.path) for font in made if (font.family, font.style) == ("Noto Serif", "normal")}
    # Bold is drawn bold: its stems are wider, so its 'a' is too.
    assert serif[700]["hmtx"]["a"][0] > serif[400]["hmtx"]["a"][0]


def test_a_cut_of_a_fallback_font_holds_its_characters_and_no_others(empty_cache):
    hebrew = next(f for f in fonts.packaged_fonts() if f.family == "Noto Sans Hebrew")
    cuts = fonts.cut_to(hebrew, "שלום")
    assert [cut.weight for cut in cuts] == list(fonts.STATIC_WEIGHTS)
    for cut in cuts:
        font = TTFont(cut.path)
        assert "fvar" not in font
        assert set(map(chr, font.getBestCmap())) == set("שלום \u00a0")


def test_nested_list_bullets_print_from_handouts_own_fonts(project, no_machine_fonts):
    """WeasyPrint draws the bullets of lists nested two and three deep (◦ ▪), which no
    article's text holds and the text fonts lack: on a bare machine they were empty boxes."""
    source = write(project / "content" / "steps.md",
                   "# Steps\n\n- Wash\n  - with soap\n    - for twenty seconds\n- Dry\n")
    assert typeset_and_check(project, source) == []
    assert all(map(handouts_own, embedded_fonts(project / "output" / "steps.pdf")))


def test_signs_in_latin_text_come_from_the_symbol_fonts_not_a_full_width_cjk_font(project):
    write(project / "content" / "signs.md", "# Signs\n\nWash → dry ★ done ◦ next ▪ end ✅.\n")
    write(project / "content" / "japanese.md", "---\nlang: ja\n---\n# 手洗い\n\n洗う → 乾かす ★\n")
    assert run("build").exit_code == 0
    latin = embedded_fonts(project / "output" / "signs.pdf")
    assert not any(name.startswith("Noto-Sans-SC") for name in latin), latin
    assert any(name.startswith(("Noto-Sans-Symbols", "DejaVu-Sans-")) for name in latin), latin
    # A sign Unicode shows as emoji by default still comes from the emoji font.
    assert any(name.startswith("Noto-Emoji") for name in latin), latin
    # Japanese text keeps its own full-width forms of the signs.
    assert any(name.startswith("Noto-Sans-JP") for name in embedded_fonts(project / "output" / "japanese.pdf"))


LOADED_LIBRARIES = """
import sys
events = []
sys.addaudithook(lambda event, args: events.append(args[0]) if event == "subprocess.Popen" else None)
{imports}
print(sorted(events))
mapped = {{line.split()[-1] for line in open("/proc/self/maps")}}
print(sorted(path for path in mapped if path.startswith(("/usr/lib", "/lib"))))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the library lookups are Linux's")
def test_weasyprint_loads_its_libraries_without_looking_them_up_in_other_programs():
    # WeasyPrint imported as handout imports it opens the same C libraries as a plain import,
    # without the ldconfig, gcc and ld runs that looked up names of other systems' libraries.
    def loaded(imports: str) -> tuple[str, str]:
        result = subprocess.run([sys.executable, "-c", LOADED_LIBRARIES.format(imports=imports)],
                                capture_output=True, text=True, check=True)
        programs, libraries = result.stdout.splitlines()
        return programs, libraries

    programs, libraries = loaded("import generator.typeset.engine")
    plain_programs, plain_libraries = loaded("import weasyprint")
    assert "libpango" in libraries and "libharfbuzz" in libraries
    assert libraries == plain_libraries
    assert programs == "[]"
    assert plain_programs != "[]"  # what is saved: a plain import runs them
    import ctypes.util

    import generator.typeset.engine  # noqa: F401 - imported: find_library is itself again
    assert ctypes.util.find_library("c")
