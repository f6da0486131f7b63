"""The fonts the built-in themes use, installed from PyPI with handout itself.

A handout must look the same, and hold every glyph, on any machine: so the
themes do not ask for whatever the system happens to have. Each family here
comes from a font package that is one of handout's dependencies (OFL
licensed), and is declared to WeasyPrint with @font-face rules.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

# family -> (package, file for upright, file for italic or None)
FAMILIES = {
    "Noto Serif": ("fontpkg_noto_serif", "files/NotoSerif[wdth,wght].ttf", "files/NotoSerif-Italic[wdth,wght].ttf"),
    "Noto Sans": ("fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf", "files/NotoSans-Italic[wdth,wght].ttf"),
    "JetBrains Mono": ("fontpkg_jetbrains_mono", "files/JetBrainsMono[wght].ttf", "files/JetBrainsMono-Italic[wght].ttf"),
    "Noto Sans SC": ("justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf", None),
    "Noto Sans TC": ("justmytype_intl_cjk", "fonts/ofl/notosanstc/NotoSansTC[wght].ttf", None),
    "Noto Sans JP": ("justmytype_intl_cjk", "fonts/ofl/notosansjp/NotoSansJP[wght].ttf", None),
    "Noto Sans KR": ("justmytype_intl_cjk", "fonts/ofl/notosanskr/NotoSansKR[wght].ttf", None),
}
# Han characters are drawn differently in each region: the article's
# language picks which CJK family is asked first.
CJK_BY_LANGUAGE = {"ja": "Noto Sans JP", "ko": "Noto Sans KR"}
TRADITIONAL_CHINESE = {"hant", "tw", "hk", "mo"}
CJK_FAMILIES = ["Noto Sans SC", "Noto Sans JP", "Noto Sans KR", "Noto Sans TC"]
# Hangul Jamo, CJK radicals to ideographs (with kana and CJK punctuation),
# Hangul syllables, compatibility ideographs and forms, full-width forms,
# and the supplementary ideograph planes.
CJK_TEXT = re.compile(
    "[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff"
    "\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
)


@dataclass(frozen=True)
class FontFile:
    family: str
    style: str
    path: Path


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


def font_dirs() -> list[Path]:
    """Folders the renderer may read fonts from."""
    return sorted({font.path.parent for font in packaged_fonts()})


def font_face_css(text: str) -> str:
    """@font-face rules for the fonts `text` needs.

    The CJK fonts are large (tens of MB, read on every render), so they are
    declared only for a text that has CJK characters.
    """
    cjk = bool(CJK_TEXT.search(text))
    return "\n".join(
        f'@font-face {{ font-family: "{font.family}"; font-style: {font.style};'
        f' src: url("{font.path.as_uri()}"); }}'
        for font in packaged_fonts() if cjk or font.family not in CJK_FAMILIES
    )


def cjk_stack(lang: str) -> str:
    """The CJK families, for a CSS font-family list, the article's region first."""
    language, *subtags = lang.lower().split("-")
    first = CJK_BY_LANGUAGE.get(language)
    if language == "zh" and TRADITIONAL_CHINESE & set(subtags):
        first = "Noto Sans TC"
    ordered = [first] + [f for f in CJK_FAMILIES if f != first] if first else CJK_FAMILIES
    return ", ".join(f'"{family}"' for family in ordered)
