"""What the print shop and an accessibility review ask of a handout's PDF."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

VARIANTS = ("pdf/ua-1", "pdf/a-3b", "pdf/x-4")
# Sheets imposition.py makes beside a handout: a booklet of half-size pages on sheets of the handout's
# paper (A5 on A4, what an office printer prints: `--booklet` alone) or of full-size pages on sheets
# twice as large (A4 on A3, Letter on Tabloid: `--booklet full`), and 2 or 4 pages a sheet.
BOOKLETS = ("a5", "full")
DEFAULT_BOOKLET = "a5"
# Each paper's width and height in points.
PAPER_POINTS = {"a4": (595.276, 841.89), "letter": (612.0, 792.0)}
# Where the paper in a drawer is US Letter (the territory of glibc's locales that print on it):
# anywhere else it is A4.
LETTER_TERRITORIES = {"US", "CA", "PR", "MX", "GT", "SV", "NI", "CR", "PA", "CO", "VE", "CL", "BO", "PH"}
# The territory of a locale name: en_US.UTF-8, fr_CA@euro.
TERRITORY = re.compile(r"^[A-Za-z]{2,3}_([A-Za-z]{2})\b")
N_UP = (2, 4)
MARKS = ("crop", "cross", "crop cross")
# An ICC profile names its colour space at bytes 16 to 20 of its header.
PROFILE_CHANNELS = {b"RGB ": ("r", "g", "b"), b"CMYK": ("c", "m", "y", "k"), b"GRAY": ("gray",)}


@dataclass(frozen=True)
class PrintOptions:
    """What the print shop and accessibility review ask of the PDF itself."""

    bleed: str | None = None  # a CSS length, as "3mm"
    marks: str | None = None  # crop, cross, or both
    variant: str | None = None  # pdf/ua-1, pdf/a-3b, pdf/x-4, ... (WeasyPrint's PDF variants)
    # The print shop's ICC profile, for PDF/X's output intent.
    output_profile: Path | None = None
    # Images with more pixels than this many per inch, at the size they print, are
    # scaled down to it: a phone's photo would otherwise make the PDF too big to email.
    # 0 keeps every image as it is.
    image_dpi: int = 300

    def profile(self) -> Path | None:
        """The output intent's profile: the print shop's, else for PDF/X WeasyPrint's sRGB one."""
        if self.output_profile or not (self.variant or "").startswith("pdf/x"):
            return self.output_profile
        weasyprint = importlib.util.find_spec("weasyprint")
        assert weasyprint and weasyprint.submodule_search_locations  # a dependency: installed as a package
        return Path(list(weasyprint.submodule_search_locations)[0]) / "pdf" / "sRGB2014.icc"

    def stylesheet(self) -> str:
        rules = ([f"bleed: {self.bleed};"] if self.bleed else []) + ([f"marks: {self.marks};"] if self.marks else [])
        css = f"@page {{ {' '.join(rules)} }}" if rules else ""
        profile = self.profile()
        if profile:
            channels = ", ".join(PROFILE_CHANNELS.get(profile.read_bytes()[16:20], ("r", "g", "b")))
            css += (f'\n@color-profile --output-intent {{ src: url("{profile.resolve().as_uri()}");'
                    f" components: {channels}; }}")
        return css


def system_paper(environment: Mapping[str, str] = os.environ) -> str:
    """The paper of this system's locale: LC_PAPER, else LC_ALL, else LANG; letter in the US,
    Canada and the other territories that print on it, A4 anywhere else (and in the C locale)."""
    locale = next((environment[name] for name in ("LC_PAPER", "LC_ALL", "LANG") if environment.get(name)), "")
    territory = TERRITORY.match(locale)
    return "letter" if territory and territory.group(1).upper() in LETTER_TERRITORIES else "a4"
