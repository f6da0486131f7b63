"""The fonts the built-in themes use, installed from PyPI with handout itself.

A handout must look the same, and hold every glyph, on any machine: so the
themes do not ask for whatever the system happens to have. Each family here
comes from a font package that is one of handout's dependencies (OFL
licensed), and is declared to WeasyPrint with @font-face rules.

The packages ship variable fonts. WeasyPrint turns a variable font into a
static one for every PDF that uses it, which took most of a build's time; so
the text families are made static once per weight, with fontTools, into a
cache folder that all later builds share (HANDOUT_CACHE_DIR, else the user's
cache folder). The fonts for other scripts (CJK ones are 10 MB and more) are
cut down to the characters an article uses and made static, also cached; each
cut gets a family name of its own, which the theme's font lists then name.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib.util
import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..article import language_of

# fontTools is imported where fonts are made: a build with nothing to make never loads it.

# family -> (package, file for upright, file for italic or None)
FAMILIES = {
    "Noto Serif": ("fontpkg_noto_serif", "files/NotoSerif[wdth,wght].ttf", "files/NotoSerif-Italic[wdth,wght].ttf"),
    "Noto Sans": ("fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf", "files/NotoSans-Italic[wdth,wght].ttf"),
    "JetBrains Mono": ("fontpkg_jetbrains_mono", "files/JetBrainsMono[wght].ttf",
                       "files/JetBrainsMono-Italic[wght].ttf"),
    "Noto Sans SC": ("justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf", None),
    "Noto Sans TC": ("justmytype_intl_cjk", "fonts/ofl/notosanstc/NotoSansTC[wght].ttf", None),
    "Noto Sans JP": ("justmytype_intl_cjk", "fonts/ofl/notosansjp/NotoSansJP[wght].ttf", None),
    "Noto Sans KR": ("justmytype_intl_cjk", "fonts/ofl/notosanskr/NotoSansKR[wght].ttf", None),
    "Noto Sans Arabic": ("justmytype_intl_rtl", "fonts/ofl/notosansarabic/NotoSansArabic[wdth,wght].ttf", None),
    "Noto Sans Hebrew": ("justmytype_intl_rtl", "fonts/ofl/notosanshebrew/NotoSansHebrew[wdth,wght].ttf", None),
    "Noto Sans Devanagari": ("fontpkg_noto_sans_devanagari", "files/NotoSansDevanagari[wdth,wght].ttf", None),
    "Noto Sans Thai": ("fontpkg_noto_sans_thai", "files/NotoSansThai[wdth,wght].ttf", None),
    "Noto Sans Bengali": ("justmytype_intl_south_asia", "fonts/ofl/notosansbengali/NotoSansBengali[wdth,wght].ttf",
                          None),
    "Noto Sans Tamil": ("justmytype_intl_south_asia", "fonts/ofl/notosanstamil/NotoSansTamil[wdth,wght].ttf", None),
    "Noto Sans Telugu": ("justmytype_intl_south_asia", "fonts/ofl/notosanstelugu/NotoSansTelugu[wdth,wght].ttf", None),
    "Noto Sans Lao": ("justmytype_intl_sea", "fonts/ofl/notosanslao/NotoSansLao[wdth,wght].ttf", None),
    "Noto Sans Khmer": ("justmytype_intl_sea", "fonts/ofl/notosanskhmer/NotoSansKhmer[wdth,wght].ttf", None),
    "Noto Sans Myanmar": ("justmytype_intl_sea", "fonts/ofl/notosansmyanmar/NotoSansMyanmar[wdth,wght].ttf", None),
    "Noto Sans Ethiopic": ("justmytype_intl_africa", "fonts/ofl/notosansethiopic/NotoSansEthiopic[wdth,wght].ttf",
                           None),
    **{f"Noto Sans {script}": ("manimgx_fonts", f"NotoSans{script}[wght].ttf", None) for script in (
        "Armenian", "Georgian", "Gujarati", "Gurmukhi", "Kannada", "Malayalam", "Oriya", "Sinhala", "Symbols")},
    "Noto Emoji": ("manimgx_fonts", "NotoEmoji[wght].ttf", None),
}
# Han characters are drawn differently in each region: the article's
# language picks which CJK family is asked first.
CJK_BY_LANGUAGE = {"ja": "Noto Sans JP", "ko": "Noto Sans KR", "zh-hant": "Noto Sans TC"}
CJK_FAMILIES = ["Noto Sans SC", "Noto Sans JP", "Noto Sans KR", "Noto Sans TC"]
# Scripts the text families do not draw, each from a family of its own.
SCRIPT_FAMILIES = [
    "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans Devanagari", "Noto Sans Bengali", "Noto Sans Tamil",
    "Noto Sans Telugu", "Noto Sans Thai", "Noto Sans Lao", "Noto Sans Khmer", "Noto Sans Myanmar",
    "Noto Sans Ethiopic", "Noto Sans Armenian", "Noto Sans Georgian", "Noto Sans Gujarati", "Noto Sans Gurmukhi",
    "Noto Sans Kannada", "Noto Sans Malayalam", "Noto Sans Oriya", "Noto Sans Sinhala",
]
# Signs no text family draws (arrows, dingbats), then emoji, monochrome as print wants them:
# last, so that a character with a text form (a digit, '#', a heart) keeps it.
SYMBOL_FAMILIES = ["Noto Sans Symbols", "Noto Emoji"]
EMOJI_FAMILY = "Noto Emoji"
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
    found = []
    for family, (package, upright, italic) in FAMILIES.items():
        root = package_dir(package)
        if root is None:
            continue
        for style, name in (("normal", upright), ("italic", italic)):
            if name and (root / name).is_file():
                found.append(FontFile(family, style, root / name))
    return tuple(found)


def cache_dir() -> Path:
    if os.environ.get("HANDOUT_CACHE_DIR"):
        return Path(os.environ["HANDOUT_CACHE_DIR"]) / "fonts"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "handout" / "fonts"


def instance_path(font: FontFile, weight: int) -> Path:
    import fontTools

    stat = font.path.stat()
    key = hashlib.sha256(f"{font.path}|{stat.st_size}|{stat.st_mtime_ns}|{weight}|{fontTools.version}".encode())
    return cache_dir() / f"{font.family.replace(' ', '')}-{font.style}-{weight}-{key.hexdigest()[:12]}.ttf"


def make_instance(source: Path, weight: int, target: Path) -> None:
    """Write `source` at `weight` as a static font (a few seconds a font)."""
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    variable = TTFont(source, recalcTimestamp=False)  # the same bytes on every machine
    axes = {axis.axisTag for axis in variable["fvar"].axes}
    location = {"wght": weight, **({"wdth": 100} if "wdth" in axes else {})}
    save_atomically(instancer.instantiateVariableFont(variable, location, static=True, updateFontNames=True), target)


@functools.cache
def text_fonts() -> tuple[FontFile, ...]:
    """The text families as static fonts at each weight the themes use.

    The first build on a machine makes them (about 30 s of work, spread over
    the cores); every later build finds them in the cache.
    """
    wanted = [
        (font, weight, instance_path(font, weight))
        for font in packaged_fonts() if font.family not in FALLBACK_FAMILIES
        for weight in STATIC_WEIGHTS
    ]
    missing = [(font.path, weight, path) for font, weight, path in wanted if not path.is_file()]
    if len(missing) > 1:
        import concurrent.futures

        with concurrent.futures.ProcessPoolExecutor(min(len(missing), os.cpu_count() or 1)) as pool:
            list(pool.map(make_instance, *zip(*missing, strict=True)))
    elif missing:
        make_instance(*missing[0])
    return tuple(FontFile(font.family, font.style, path, weight) for font, weight, path in wanted)


def font_dirs() -> list[Path]:
    """Folders the renderer may read fonts from."""
    return sorted({font.path.parent for font in packaged_fonts()} | {cache_dir()})


def fallback_fonts(text: str, lang: str) -> list[FontFile]:
    """Static fonts holding just the characters of `text` the text families cannot draw.

    Each character comes from the first fallback family, in the language's
    order, that has it: Chinese text from one font, Hangul from the Korean
    one, Arabic, Hebrew, Devanagari and Thai from theirs. Every character of
    an emoji sequence comes from the emoji font, which shapes the sequence
    (a keycap's digit too: the text font still draws the other digits).
    `text` is one that `shapeable` returned.
    """
    sources = {font.family: font for font in packaged_fonts() if font.family in FALLBACK_FAMILIES}
    text_font = next((f.path for f in packaged_fonts() if f.family == TEXT_FAMILY and f.style == "normal"), None)
    drawn_already = coverage(text_font) if text_font else frozenset()
    characters = {c for c in set(text) if ord(c) > 0x7F and ord(c) not in drawn_already and not c.isspace()}
    in_sequences = set("".join(EMOJI_SEQUENCE.findall(text)))
    characters |= in_sequences
    found = []
    for family in fallback_order(lang):
        if not characters or family not in sources:
            continue
        drawn = {c for c in characters if ord(c) in coverage(sources[family].path)}
        if family != EMOJI_FAMILY:
            drawn -= in_sequences
        characters -= drawn
        if drawn:
            found += cut_to(sources[family], "".join(sorted(drawn)))
    return found


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

    Reading a font's character map with fontTools takes about 50 ms, and
    every build (every batch worker) asks for nine fonts; so the map is
    kept in the cache folder as ranges, read back in well under a millisecond.
    """
    stat = path.stat()
    key = hashlib.sha256(f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    cached = cache_dir() / f"coverage-{key}.txt"
    try:
        return frozenset(
            code for line in cached.read_text().split()
            for start, end in [line.split("-")] for code in range(int(start, 16), int(end, 16) + 1)
        )
    except (OSError, ValueError):
        pass
    from fontTools.ttLib import TTFont

    codes = frozenset(TTFont(path, lazy=True).getBestCmap())
    save_atomically(code_ranges(codes), cached)
    return codes


def code_ranges(codes: frozenset[int]) -> bytes:
    """Code points as runs, one "start-end" line (hexadecimal) each."""
    runs: list[list[int]] = []
    for code in sorted(codes):
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(f"{start:x}-{end:x}\n" for start, end in runs).encode()


def cut_to(font: FontFile, characters: str) -> list[FontFile]:
    """`font` cut down to `characters`, at each weight, static: a moment's work, cached."""
    import fontTools
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    # Spaces too: between CJK runs the renderer may take them from the same font; and
    # the parts of composed characters, which shaping may draw apart (Thai SARA AM).
    characters += " \u00a0\u3000" + unicodedata.normalize("NFKD", characters)
    key = hashlib.sha256(f"{font.path}|{font.path.stat().st_size}|{characters}|{fontTools.version}".encode())
    targets = {weight: cache_dir() / f"{font.family.replace(' ', '')}-{weight}-{key.hexdigest()[:16]}.ttf"
               for weight in STATIC_WEIGHTS}
    if not all(path.is_file() for path in targets.values()):
        cut = TTFont(font.path, recalcTimestamp=False)
        options = subset.Options()
        options.layout_features, options.name_IDs, options.notdef_outline = ["*"], ["*"], True
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=characters)
        subsetter.subset(cut)
        axes = {axis.axisTag for axis in cut["fvar"].axes}
        for weight, target in targets.items():
            location = {"wght": weight, **({"wdth": 100} if "wdth" in axes else {})}
            save_atomically(instancer.instantiateVariableFont(copy.deepcopy(cut), location, static=True), target)
    # A name of its own: two articles' cuts of one family, in one worker, must not pass for
    # one font (the renderer would draw one's glyphs with the other's file: empty boxes).
    family = f"{font.family} {key.hexdigest()[:8]}"
    return [FontFile(family, font.style, path, weight) for weight, path in targets.items()]


def save_atomically(content, target: Path) -> None:
    """Write a font (or bytes) to the cache.

    Parallel builds may make the same file at once: each writes its own, then renames.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as stream:
        if isinstance(content, bytes):
            stream.write(content)
        else:
            content.save(stream)
    os.replace(temporary, target)


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


def fallback_stack(lang: str, cuts: Sequence[FontFile] = ()) -> str:
    """The fallback families, for a CSS font-family list after the theme's own family.

    With `cuts` (fallback_fonts of an article), their families; without, the
    families in the language's order, for characters no packaged font draws.
    """
    families = dict.fromkeys(font.family for font in cuts) or fallback_order(lang)
    return ", ".join(f'"{family}"' for family in families)
