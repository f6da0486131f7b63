"""TeX math ($x^2$, $$\\frac{1}{2}$$, a ```math block) drawn as a picture, as GitHub and pandoc print it.

matplotlib's mathtext draws it (matplotlib is a dependency already, for its
DejaVu fonts): a subset of TeX, with fractions, roots, sums, integrals,
accents and Greek, in DejaVu Serif beside the handout's serif text. Each
formula becomes an SVG picture whose size is in em, so it follows the size of
the text around it, and whose description is its TeX. What mathtext cannot
draw (an `align` environment, a macro it does not know) prints as its TeX
source, word for word, with a warning: nothing is lost. The SVG has no date
and fixed ids, so a handout's bytes are the same run after run.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import re
from dataclasses import dataclass

# mathtext draws at this size in points; the picture is then sized in em of the text around it.
DRAWN_PT = 10.0
# Longer TeX is no formula of a handout; and mathtext's parser is not made for hostile input.
MAX_TEX = 2000
# The TeX an article may have drawn in all: mathtext takes up to half a millisecond a
# character, and `handout check` reads the article without the build's time limit. Past it,
# the rest of the article's math prints as TeX.
MAX_DRAWN_TEX = 10_000
# A formula on its own is drawn this much larger than one in a line, and its fractions as
# \dfrac: mathtext has no display style of its own.
DISPLAY_SCALE = 1.1
TEXT_FRACTION = re.compile(r"\\frac(?![A-Za-z])")


@dataclass(frozen=True)
class Formula:
    """A formula drawn: the SVG, and its size in em (depth: how far it reaches below the baseline)."""

    svg: bytes
    width: float
    height: float
    depth: float


@functools.lru_cache(maxsize=512)
def drawn(tex: str) -> Formula | None:
    """The formula drawn by mathtext; None where it cannot draw it (or it is too long to try)."""
    if len(tex) > MAX_TEX or not tex.strip():
        return None
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser

    source = f"${tex}$"
    font = FontProperties(size=DRAWN_PT, math_fontfamily="dejavuserif")
    try:
        width, height, depth, _, _ = MathTextParser("path").parse(source, dpi=72, prop=font)
    except (ValueError, RecursionError):  # ParseFatalException: what it cannot read; or nesting too deep
        return None
    figure = Figure(figsize=(width / 72, height / 72))
    figure.text(0, depth / height, source, fontproperties=font)
    data = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "handout", "svg.fonttype": "path"}):
        figure.savefig(data, format="svg", metadata={"Date": None}, transparent=True)
    return Formula(data.getvalue(), width / DRAWN_PT, height / DRAWN_PT, depth / DRAWN_PT)


def math_html(tex: str, display: bool) -> str | None:
    """The formula as HTML: a picture on the line, or centred in a paragraph of its own
    (`display`); None where mathtext cannot draw it."""
    one_line = " ".join(tex.split())
    formula = drawn(TEXT_FRACTION.sub(r"\\dfrac", one_line) if display else one_line)
    if formula is None:
        return None
    source = base64.b64encode(formula.svg).decode()
    scale = DISPLAY_SCALE if display else 1.0
    picture = (f'<img class="math" alt="{html.escape(tex.strip())}" src="data:image/svg+xml;base64,{source}"'
               f' style="width: {formula.width * scale:.3f}em; height: {formula.height * scale:.3f}em;'
               f' vertical-align: -{formula.depth * scale:.3f}em">')
    return f'<p class="math-display">{picture}</p>\n' if display else picture


def tex_html(tex: str, display: bool) -> str:
    """The formula's TeX as it is written, where it cannot be drawn."""
    code = f'<code class="math">{html.escape(tex.strip())}</code>'
    return f'<pre class="math">{code}</pre>\n' if display else code
