"""The fonts the built-in themes use, installed from PyPI with handout itself.

A handout must look the same, and hold every glyph, on any machine: so the
themes do not ask for whatever the system happens to have. Each family here
comes from a font package that is one of handout's dependencies (OFL
licensed), and is declared to WeasyPrint with @font-face rules.

The packages ship variable fonts. WeasyPrint turns a variable font into a
static one for every PDF that uses it, which took most of a build's time; so
the text families are made static once per weight, with HarfBuzz, into a
cache folder that all later builds share (HANDOUT_CACHE_DIR, else the user's
cache folder). The fonts for other scripts (CJK ones are 10 MB and more) are
cut down to the characters an article uses and made static, also cached; each
cut gets a family name of its own, which the theme's font lists then name. The
emoji font is made static whole, as the text families are (see EMOJI_FAMILY).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..article import language_of
from ..output.files import cache_root, write_atomically

# HarfBuzz and fontTools are imported where fonts are made or read: a build with nothing to
# make never loads them.

# family -> (package, file for upright, file for italic or None)
FAMILIES = {
    "Noto Serif": ("fontpkg_noto_serif", "files/NotoSerif[wdth,wght].ttf", "files/NotoSerif-Italic[wdth,wght].ttf"),
    "Noto Sans": ("fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf", "files/NotoSans-Italic[wdth,wght].ttf"),
    "JetBrains Mono": (
        "fontpkg_jetbrains_mono", "files/JetBrainsMono[wght].ttf", "files/JetBrainsMono-Italic[wght].ttf"),
    "Noto Sans SC": ("justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf", None),
    "Noto Sans TC": ("justmytype_intl_cjk", "fonts/ofl/notosanstc/NotoSansTC[wght].ttf", None),
    "Noto Sans JP": ("justmytype_intl_cjk", "fonts/ofl/notosansjp/NotoSansJP[wght].ttf", None),
    "Noto Sans KR": ("justmytype_intl_cjk", "fonts/ofl/notosanskr/NotoSansKR[wght].ttf", None),
    "Noto Sans Arabic": ("justmytype_intl_rtl", "fonts/ofl/notosansarabic/NotoSansArabic[wdth,wght].ttf", None),
    "Noto Sans Hebrew": ("justmytype_intl_rtl", "fonts/ofl/notosanshebrew/NotoSansHebrew[wdth,wght].ttf", None),
    "Noto Sans Devanagari": ("fontpkg_noto_sans_devanagari", "files/NotoSansDevanagari[wdth,wght].ttf", None),
    "Noto Sans Thai": ("fontpkg_noto_sans_thai", "files/NotoSansThai[wdth,wght].ttf", None),
    "Noto Sans Bengali": (
        "justmytype_intl_south_asia", "fonts/ofl/notosansbengali/NotoSansBengali[wdth,wght].ttf", None),
    "Noto Sans Tamil": ("justmytype_intl_south_asia", "fonts/ofl/notosanstamil/NotoSansTamil[wdth,wght].ttf", None),
    "Noto Sans Telugu": ("justmytype_intl_south_asia", "fonts/ofl/notosanstelugu/NotoSansTelugu[wdth,wght].ttf", None),
    "Noto Sans Lao": ("justmytype_intl_sea", "fonts/ofl/notosanslao/NotoSansLao[wdth,wght].ttf", None),
    "Noto Sans Khmer": ("justmytype_intl_sea", "fonts/ofl/notosanskhmer/NotoSansKhmer[wdth,wght].ttf", None),
    "Noto Sans Myanmar": ("justmytype_intl_sea", "fonts/ofl/notosansmyanmar/NotoSansMyanmar[wdth,wght].ttf", None),
    "Noto Sans Ethiopic": (
        "justmytype_intl_africa", "fonts/ofl/notosansethiopic/NotoSansEthiopic[wdth,wght].ttf", None),
    **{f"Noto Sans {script}": ("manimgx_fonts", f"NotoSans{script}[wght].ttf", None) for script in (
        "Armenian", "Georgian", "Gujarati", "Gurmukhi", "Kannada", "Malayalam", "Oriya", "Sinhala", "Symbols")},
    "Noto Emoji": ("manimgx_fonts", "NotoEmoji[wght].ttf", None),
    # Dingbats and math signs no Noto package on PyPI has (Noto Sans Symbols 2, Noto Sans
    # Math): ☐ ☒ ✗ ✘ ✦ ✩ ➔ ⟹ ...; DejaVu as matplotlib ships it (Bitstream Vera licence).
    "DejaVu Sans": ("matplotlib", "mpl-data/fonts/ttf/DejaVuSans.ttf", None),
}
# Families shipped as a static font (one weight), not a variable one.
STATIC_FAMILIES = {"DejaVu Sans": 400}
# Han characters are drawn differently in each region: the article's
# language picks which CJK family is asked first.
CJK_BY_LANGUAGE = {"ja": "Noto Sans JP", "ko": "Noto Sans KR", "zh-hant": "Noto Sans TC"}
CJK_LANGUAGES = {"zh", *CJK_BY_LANGUAGE}
CJK_FAMILIES = ["Noto Sans SC", "Noto Sans JP", "Noto Sans KR", "Noto Sans TC"]
# Scripts the text families do not draw, each from a family of its own.
SCRIPT_FAMILIES = [
    "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans Devanagari", "Noto Sans Bengali", "Noto Sans Tamil",
    "Noto Sans Telugu", "Noto Sans Thai", "Noto Sans Lao", "Noto Sans Khmer", "Noto Sans Myanmar",
    "Noto Sans Ethiopic", "Noto Sans Armenian", "Noto Sans Georgian", "Noto Sans Gujarati", "Noto Sans Gurmukhi",
    "Noto Sans Kannada", "Noto Sans Malayalam", "Noto Sans Oriya", "Noto Sans Sinhala",
]
# Signs no text family draws (arrows, dingbats), then emoji, monochrome as print wants them:
# after the text fonts, so that a character with a text form (a digit, '#', a heart) keeps
# it; then DejaVu Sans for the signs no Noto font draws.
SYMBOL_FAMILIES = ["Noto Sans Symbols", "Noto Emoji", "DejaVu Sans"]
# Never cut, and declared for every handout: Pango takes an emoji run (an emoji-presentation
# character such as ✅, a sequence, a sign with VS16) from the family "emoji", fontconfig's
# name for the emoji fonts it knows ("Noto Emoji" among them), not from the theme's font
# list. With a cut per article, a worker held one "Noto Emoji" per article it had typeset,
# and the next article's emoji came from the first of them: its PDF's bytes (and a keycap
# drawn from two fonts) depended on what the worker typeset before. Whole and declared by
# every handout, it is the one "Noto Emoji" of every worker, whatever it typeset before.
EMOJI_FAMILY = "Noto Emoji"
# For signs Unicode shows as text by default: drawn at a text's width (the emoji font
# draws every sign a square em, a list's ▪ too).
TEXT_SIGN_FAMILIES = ["Noto Sans Symbols", "DejaVu Sans", EMOJI_FAMILY]
# An emoji with what changes it: the emoji form (VS16), a keycap, a skin tone, a tag
# sequence (a region's flag), another emoji joined with ZWJ. The emoji font shapes such
# a sequence into one glyph if it draws every character of it; the renderer must then
# take all of them from that font. (Where an emoji may start: ASCII keycaps, the symbol
# blocks, the emoji planes; not letters, whose ZWJ is the script's own.)
EMOJI = "[#*0-9\u00A9\u00AE\u2000-\u2BFF\u3030\u303D\u3297\u3299\U0001F000-\U0001FAFF]"
MODIFIER = "[\uFE0F\U0001F3FB-\U0001F3FF\U000E0020-\U000E007F]"
EMOJI_SEQUENCE = re.compile(f"{EMOJI}(?:{MODIFIER}|\u20E3|\u200D{EMOJI})+")
# What shapes a sequence but draws nothing of its own.
INVISIBLE_MODIFIERS = re.compile(f"{MODIFIER}|\u200D")
FALLBACK_FAMILIES = CJK_FAMILIES + SCRIPT_FAMILIES + SYMBOL_FAMILIES
TEXT_FAMILY = "Noto Serif"  # what it draws needs no fallback


# The weights the themes set: normal and bold.
STATIC_WEIGHTS = (400, 700)


@functools.cache
def emoji_presentation() -> re.Pattern:
    """Signs Unicode shows as emoji by default (Unicode's Emoji_Presentation property, which the
    standard library's re does not know); the regex module is imported only to typeset."""
    import regex

    return regex.compile(r"\p{Emoji_Presentation}")


@dataclass(frozen=True)
class FontFile:
    family: str
    style: str
    path: Path
    weight: int | None = None  # None: a variable font, any weight


def font_packages() -> list[str]:
    """The installed packages the fonts come from: a new version of one makes new handouts."""
    return sorted({package for package, _, _ in FAMILIES.values() if package_dir(package)})


def package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


@functools.cache
def packaged_fonts() -> tuple[FontFile, ...]:
    found: list[FontFile] = []
    for family, (package, upright, italic) in FAMILIES.items():
        root = package_dir(package)
        if root is None:
            continue
        for style, name in (("normal", upright), ("italic", italic)):
            if name and (root / name).is_file():
                found.append(FontFile(family, style, root / name, STATIC_FAMILIES.get(family)))
    return tuple(found)


def cache_dir() -> Path:
    return cache_root() / "fonts"


def instance_path(font: FontFile, weight: int) -> Path:
    stat = font.path.stat()
    key = hashlib.sha256(f"{font.path}|{stat.st_size}|{stat.st_mtime_ns}|{weight}|{hb_version()}".encode())
    return cache_dir() / f"{font.family.replace(' ', '')}-{font.style}-{weight}-{key.hexdigest()[:12]}.ttf"


def hb_version() -> str:
    """The HarfBuzz that makes the static fonts: a new one may make other bytes."""
    import uharfbuzz

    return uharfbuzz.__version__


def make_static(source: Path, weight: int, target: Path, characters: str | None = None) -> None:
    """Write `source` at `weight` as a static font, cut down to `characters` (else whole).

    HarfBuzz's instancer, in C, does in milliseconds what fontTools' took
    seconds for (a whole text font: about 10 s), so a first build has nothing
    to wait for. A static font is only cut.
    """
    import uharfbuzz as hb

    face = hb.Face(hb.Blob.from_file_path(str(source)))
    request = hb.SubsetInput()
    request.keep_everything()  # every layout feature, name and table; the same bytes on every machine
    if characters is not None:
        request.unicode_set.clear()
        request.unicode_set.update(map(ord, characters))
        request.glyph_set.clear()
    if face.axis_infos:
        request.pin_all_axes_to_default(face)
        request.pin_axis_location(face, "wght", weight)
    static = hb.subset(face, request)
    if static is None:
        raise RuntimeError(f"HarfBuzz could not make a static font of {source}")
    # Parallel builds may make the same file at once: each renames a whole copy into place.
    write_atomically(target, static.blob.data)


@functools.cache
def text_fonts() -> tuple[FontFile, ...]:
    """The text families as static fonts at each weight the themes use.

    The first build on a machine makes them (well under a second); every
    later build finds them in the cache.
    """
    return tuple(static for font in packaged_fonts() if font.family not in FALLBACK_FAMILIES
                 for static in whole_static(font))


@functools.cache
def emoji_fonts() -> tuple[FontFile, ...]:
    """The emoji font, whole and static at each weight (see EMOJI_FAMILY)."""
    return tuple(static for font in packaged_fonts() if font.family == EMOJI_FAMILY for static in whole_static(font))


def shared_fonts() -> tuple[FontFile, ...]:
    """The fonts every handout declares, before any font of its own: the text families, and
    the emoji font, which Pango may take for any article (see EMOJI_FAMILY)."""
    return text_fonts() + emoji_fonts()


def whole_static(font: FontFile) -> list[FontFile]:
    """`font` whole and static at each weight the themes use (a static font as it is): made
    once per machine, in milliseconds, into the cache."""
    if font.weight:
        return [font]
    made = []
    for weight in STATIC_WEIGHTS:
        path = instance_path(font, weight)
        if not path.is_file():
            make_static(font.path, weight, path)
        made.append(FontFile(font.family, font.style, path, weight))
    return made


def font_dirs() -> list[Path]:
    """Folders the renderer may read fonts from."""
    return sorted({font.path.parent for font in packaged_fonts()} | {cache_dir()})


def fallback_fonts(text: str, lang: str) -> list[FontFile]:
    """Static fonts holding the characters of `text` the text families cannot draw.

    Each character comes from the first fallback family, in the language's
    order, that has it: Chinese text from one font, Hangul from the Korean
    one, Arabic, Hebrew, Devanagari and Thai from theirs. Outside Chinese,
    Japanese and Korean text, signs come from the symbol families first (a
    CJK font draws them a full em wide): the emoji font for those Unicode
    shows as emoji by default (✅), else a text font of signs (▪ → ★). Every
    character of an emoji sequence comes from the emoji font, which shapes the
    sequence (a keycap's digit too: the text font still draws the other
    digits); the emoji font comes whole (see EMOJI_FAMILY). `text` is one
    that `shapeable` returned.
    """
    sources = {font.family: font for font in packaged_fonts() if font.family in FALLBACK_FAMILIES}
    text_font = next((f.path for f in packaged_fonts() if f.family == TEXT_FAMILY and f.style == "normal"), None)
    drawn_already = coverage(text_font) if text_font else frozenset()
    characters = {c for c in set(text) if ord(c) > 0x7F and ord(c) not in drawn_already and not c.isspace()}
    in_sequences = set("".join(EMOJI_SEQUENCE.findall(text)))
    characters |= in_sequences
    order = fallback_order(lang)
    signs = set() if language_of(lang) in CJK_LANGUAGES else {
        c for c in characters if unicodedata.category(c)[0] in "SP"}
    emoji = {c for c in signs if emoji_presentation().match(c)}
    drawn_by: dict[str, set[str]] = {}
    for wanted, families in ((emoji, [EMOJI_FAMILY, *order]), (signs - emoji, TEXT_SIGN_FAMILIES + order),
                             (characters - signs, order)):
        for family in families:
            if not wanted or family not in sources:
                continue
            drawn = {c for c in wanted if ord(c) in coverage(sources[family].path)}
            if family != EMOJI_FAMILY:
                drawn -= in_sequences
            wanted -= drawn
            if drawn:
                drawn_by.setdefault(family, set()).update(drawn)
    return [font for family in order if family in drawn_by
            for font in (emoji_fonts() if family == EMOJI_FAMILY else
                         cut_to(sources[family], "".join(sorted(drawn_by[family]))))]


def shapeable(text: str) -> str:
    """`text` without the modifiers of emoji sequences the emoji font cannot draw whole.

    The renderer takes a sequence from one font: where the emoji font lacks a
    character of it (a star asked for in emoji form), it looks further and may
    find no font (an empty box) or one of the machine's own. Without its
    modifiers (VS16, a skin tone, ZWJ) the base prints from handout's fonts.
    One pass, linear in the text.
    """
    if not EMOJI_SEQUENCE.search(text):
        return text
    emoji_font = next((f.path for f in packaged_fonts() if f.family == EMOJI_FAMILY), None)
    drawn = coverage(emoji_font) if emoji_font else frozenset()

    def printable(sequence: re.Match) -> str:
        if all(ord(c) in drawn for c in sequence[0]):
            return sequence[0]
        return INVISIBLE_MODIFIERS.sub("", sequence[0])

    return EMOJI_SEQUENCE.sub(printable, text)


@functools.cache
def coverage(path: Path) -> frozenset[int]:
    """The code points a font draws.

    HarfBuzz reads a font's character map in about a millisecond (fontTools took
    50 ms to 200 ms a font, seconds for a first build that asked many fonts).
    """
    import uharfbuzz as hb

    return frozenset(hb.Face(hb.Blob.from_file_path(str(path))).unicodes)


def cut_to(font: FontFile, characters: str) -> list[FontFile]:
    """`font` cut down to `characters`, at each weight, static: milliseconds, cached."""
    # Spaces too: between CJK runs the renderer may take them from the same font; and
    # the parts of composed characters, which shaping may draw apart (Thai SARA AM).
    characters += " \u00a0\u3000" + unicodedata.normalize("NFKD", characters)
    key = hashlib.sha256(f"{font.path}|{font.path.stat().st_size}|{characters}|{hb_version()}".encode())
    targets = {weight: cache_dir() / f"{font.family.replace(' ', '')}-{weight}-{key.hexdigest()[:16]}.ttf"
               for weight in ((font.weight,) if font.weight else STATIC_WEIGHTS)}
    for weight, target in targets.items():
        if not target.is_file():
            make_static(font.path, weight, target, characters)
    # A name of its own: two articles' cuts of one family, in one worker, must not pass for
    # one font (the renderer would draw one's glyphs with the other's file: empty boxes).
    family = f"{font.family} {key.hexdigest()[:8]}"
    return [FontFile(family, font.style, path, weight) for weight, path in targets.items()]


def font_face_css(fonts: tuple[FontFile, ...] | list[FontFile]) -> str:
    """@font-face rules that declare `fonts` to the renderer."""
    return "\n".join(
        f'@font-face {{ font-family: "{font.family}"; font-style: {font.style};'
        f' font-weight: {font.weight}; src: url("{font.path.as_uri()}"); }}'
        for font in fonts
    )


def fallback_order(lang: str) -> list[str]:
    """The fallback families, the CJK one of the article's region first."""
    first = CJK_BY_LANGUAGE.get(language_of(lang))
    cjk = [first] + [f for f in CJK_FAMILIES if f != first] if first else CJK_FAMILIES
    return cjk + SCRIPT_FAMILIES + SYMBOL_FAMILIES


def fallback_stack(cuts: Sequence[FontFile] = ()) -> str:
    """The fallback families for a CSS font-family list after the theme's own family: the
    article's cuts (fallback_fonts), then the text family, which draws what the sans and
    monospaced families lack (no font of the machine's own: a handout prints alike anywhere)."""
    families = [*dict.fromkeys(font.family for font in cuts), TEXT_FAMILY]
    return ", ".join(f'"{family}"' for family in families)
