"""What the print shop and an accessibility review ask of a handout's PDF."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

VARIANTS = ("pdf/ua-1", "pdf/a-3b", "pdf/x-4")
# Sheets imposition.py makes beside a handout: a booklet of A4 pages (on A3) or of A5 pages (on A4),
# and 2 or 4 pages a sheet.
BOOKLETS = ("full", "a5")
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
