"""`--fit N` and `fit: N`: a handout laid out on at most N pages, nothing cut.

The theme is stepped down in a fixed order, each step only when the ones before
it, at the theme's floor, are not enough: leading, then the space between
blocks, then the page margins, then the body's size. A step is a stylesheet
appended to the theme's: the theme's own declarations of that kind, read from
its CSS with tinycss2 and written again nearer the floor, so a project's own
theme is stepped from its own values. Within the step that fits, a bisection
finds the least change that does. The floors are the theme's theme.toml
(`min_body_pt`, `min_line_height`, `min_margin_mm`, and `min_text_pt`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import tinycss2

from . import themes

# Bisection rounds within the step that fits: the change found is within 1/16 of that step of the least.
ROUNDS = 4
# The space between blocks (paragraphs, headings, lists) never goes under this share of the theme's.
SPACING_FLOOR = 0.5
# A half-size page (a folded booklet's) starts from the theme's margins scaled as the page is.
HALF = 1 / math.sqrt(2)
# Where a theme (a project's own, with no parent) declares no floor.
DEFAULT_FLOORS = {"min_body_pt": 9.5, "min_line_height": 1.2, "min_margin_mm": 12.0}
MM = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, "px": 25.4 / 96, "pc": 25.4 / 6}
# Which value of a 1 to 4 value shorthand (margin: 22mm 34mm) is the top, right, bottom and left.
SHORTHAND = {1: (0, 0, 0, 0), 2: (0, 1, 0, 1), 3: (0, 1, 2, 1), 4: (0, 1, 2, 3)}
SPACING = ("margin", "margin-top", "margin-bottom", "padding", "padding-top", "padding-bottom")


@dataclass(frozen=True)
class Floors:
    """How far `--fit` may step a theme down."""

    body_pt: float
    line_height: float
    margin_mm: tuple[float, float, float, float]  # top, right, bottom, left

    @classmethod
    def of(cls, chain: list[themes.Theme]) -> Floors:
        def floor(key: str):
            found = themes.fit_floor(chain, key)
            return DEFAULT_FLOORS[key] if found is None else found
        margin = floor("min_margin_mm")
        sides = tuple(margin) if isinstance(margin, tuple) else (margin,) * 4
        return cls(max(floor("min_body_pt"), themes.smallest_text(chain) or 0), floor("min_line_height"), sides)


@dataclass(frozen=True)
class Declared:
    """One declaration of the theme's stylesheet: its rule's selector (or `@page ...`), the
    property, and its values (a length as (number, unit), a unitless number with unit "")."""

    rule: str
    name: str
    values: tuple[tuple[float, str] | str, ...]

    def lengths(self) -> list[tuple[float, str]] | None:
        """The values, if every one is a length or a number."""
        found = [value for value in self.values if isinstance(value, tuple)]
        return found if len(found) == len(self.values) else None


@dataclass(frozen=True)
class Step:
    """One kind of change, from none (0) to the floor (1): its stylesheet, and the words for it."""

    css: Callable[[float], str]
    told: Callable[[float], str]


@dataclass(frozen=True)
class Fitted:
    """The stylesheet that lays the handout out on `pages` pages, and what it changed."""

    css: str
    pages: int
    changes: tuple[str, ...] = ()


class Unfittable(Exception):
    """Every step at its floor still takes more pages than asked."""

    def __init__(self, pages: int, floors: Floors):
        super().__init__(pages)
        self.pages, self.floors = pages, floors


def fit(count_pages: Callable[[str], int], theme_css: str, floors: Floors, budget: int,
        half_size: bool = False) -> Fitted:
    """The least change that lays the handout out on `budget` pages or fewer.

    `count_pages(css)` lays the handout out with `css` after the theme's and counts its
    pages. Raises Unfittable with the pages reached when even the floors take more.
    """
    found = declarations(theme_css)
    settled = [margins(found, floors, HALF).css(0.0)] if half_size else []
    pages = count_pages("\n".join(settled))
    if pages <= budget:
        return Fitted("\n".join(settled), pages)
    changes: list[str] = []
    for step in steps(found, floors, HALF if half_size else 1.0):
        trial = settled + [step.css(1.0)]
        pages = count_pages("\n".join(trial))
        if pages > budget:
            settled, changes = trial, changes + [step.told(1.0)]
            continue
        fits, fails = 1.0, 0.0
        for _ in range(ROUNDS):
            middle = (fits + fails) / 2
            middle_pages = count_pages("\n".join(settled + [step.css(middle)]))
            if middle_pages <= budget:
                fits, pages = middle, middle_pages
            else:
                fails = middle
        return Fitted("\n".join(settled + [step.css(fits)]), pages, (*changes, step.told(fits)))
    raise Unfittable(pages, floors)


def steps(found: list[Declared], floors: Floors, margin_scale: float) -> Iterator[Step]:
    """The steps in the order they are taken; a step with nothing to change is left out."""
    for step in (leading(found, floors), spacing(found), margins(found, floors, margin_scale), body(found, floors)):
        if step.css(1.0) != step.css(0.0):
            yield step


def toward(value: float, floor: float, amount: float) -> float:
    """`value` moved `amount` (0 to 1) of the way down to `floor`; a value under its floor stays."""
    return value - amount * (value - floor) if value > floor else value


def as_length(value: tuple[float, str] | str) -> tuple[float, str]:
    """A declared value the callers' filters have found to be a length: (number, unit)."""
    if isinstance(value, str):
        raise ValueError(f"not a length: {value}")
    return value


def leading(found: list[Declared], floors: Floors) -> Step:
    heights = [d for d in found if d.name == "line-height" and not d.rule.startswith("@")
               and (d.lengths() or [(0, "?")])[0][1] == "" and len(d.values) == 1]

    def css(amount: float) -> str:
        return rules((d.rule, d.name, f"{toward(as_length(d.values[0])[0], floors.line_height, amount):.3g}")
                     for d in heights)

    def told(amount: float) -> str:
        main = next((d for d in heights if d.rule in ("html", ":root")), None)
        if main is None:
            return "line height lowered"
        value = as_length(main.values[0])[0]
        return f"line height {value:g} -> {toward(value, floors.line_height, amount):.2f}"
    return Step(css, told)


def spacing(found: list[Declared]) -> Step:
    spaced = [d for d in found if d.name in SPACING and not d.rule.startswith("@") and d.lengths()]

    def css(amount: float) -> str:
        share = 1 - amount * (1 - SPACING_FLOOR)
        return rules((d.rule, d.name, " ".join(length(v * share if vertical else v, unit) for (v, unit), vertical
                                               in zip(d.lengths() or [], vertical_sides(d), strict=False)))
                     for d in spaced)

    def told(amount: float) -> str:
        return f"space between blocks {1 - amount * (1 - SPACING_FLOOR):.0%} of the theme's"
    return Step(css, told)


def vertical_sides(declared: Declared) -> list[bool]:
    """Which of a margin or padding declaration's values are vertical (top or bottom)."""
    if not declared.name.endswith(("margin", "padding")):
        return [True]
    return {1: [True], 2: [True, False], 3: [True, False, True], 4: [True, False, True, False]}.get(
        len(declared.values), [False] * len(declared.values))


def page_margins(found: list[Declared]) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each @page rule's margins in mm (top, right, bottom, left), where all are in absolute units."""
    margins: dict[str, list[float | None]] = {}
    for d in found:
        lengths = d.lengths()
        if not d.rule.startswith("@page") or not d.name.startswith("margin") or not lengths:
            continue
        if any(unit not in MM and not (unit == "" and value == 0) for value, unit in lengths):
            continue
        mm = [value * MM.get(unit, 0) for value, unit in lengths]
        sides = margins.setdefault(d.rule, [None] * 4)
        if d.name == "margin" and len(mm) in SHORTHAND:
            sides[:] = [mm[index] for index in SHORTHAND[len(mm)]]
        elif d.name in ("margin-top", "margin-right", "margin-bottom", "margin-left") and len(mm) == 1:
            sides[("margin-top", "margin-right", "margin-bottom", "margin-left").index(d.name)] = mm[0]
    return [(rule, tuple(sides)) for rule, sides in margins.items() if None not in sides]  # type: ignore[misc]


def margins(found: list[Declared], floors: Floors, scale: float) -> Step:
    """The page margins, from the theme's (scaled as a half-size page is) down to the floors."""
    pages = page_margins(found)

    def sides(theirs: tuple[float, ...], amount: float) -> list[float]:
        start = [max(side * scale, min(side, floor)) for side, floor in zip(theirs, floors.margin_mm, strict=True)]
        return [toward(side, floor, amount) for side, floor in zip(start, floors.margin_mm, strict=True)]

    def css(amount: float) -> str:
        return rules((rule, "margin", " ".join(f"{side:.1f}mm" for side in sides(theirs, amount)))
                     for rule, theirs in pages)

    def told(amount: float) -> str:
        if not pages:
            return "margins narrowed"
        theirs = pages[0][1]
        return (f"margins {'/'.join(f'{side:.0f}' for side in theirs)} -> "
                f"{'/'.join(f'{side:.0f}' for side in sides(theirs, amount))} mm")
    return Step(css, told)


def body(found: list[Declared], floors: Floors) -> Step:
    sizes = [d for d in found if d.rule in ("html", ":root") and d.name == "font-size"
             and (d.lengths() or [(0, "?")])[0][1] in MM and len(d.values) == 1]
    size = as_length(sizes[-1].values[0]) if sizes else None

    def points(amount: float) -> float:
        value, unit = size or (0.0, "pt")
        return toward(value * MM[unit] / MM["pt"], floors.body_pt, amount)

    def css(amount: float) -> str:
        return rules([("html", "font-size", f"{points(amount):.2f}pt")]) if size else ""

    def told(amount: float) -> str:
        return f"body {points(0):g} -> {points(amount):.1f} pt"
    return Step(css, told)


def length(value: float, unit: str) -> str:
    return f"{value:.4g}{unit}" if value else "0"


def rules(declarations: Iterator[tuple[str, str, str]] | list[tuple[str, str, str]]) -> str:
    return "\n".join(f"{rule} {{ {name}: {value}; }}" for rule, name, value in declarations)


def declarations(css: str) -> list[Declared]:
    """The declarations of the stylesheet's top-level rules and @page rules, in order."""
    found = []
    for rule in tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True):
        if rule.type == "qualified-rule":
            selector = tinycss2.serialize(rule.prelude).strip()
        elif rule.type == "at-rule" and rule.lower_at_keyword == "page" and rule.content is not None:
            selector = f"@page {tinycss2.serialize(rule.prelude).strip()}".strip()
        else:
            continue
        for item in tinycss2.parse_declaration_list(rule.content, skip_whitespace=True, skip_comments=True):
            if item.type == "declaration" and not item.important:
                found.append(Declared(selector, item.lower_name, tuple(
                    value_of(token) for token in item.value if token.type not in ("whitespace", "comment"))))
    return found


def value_of(token) -> tuple[float, str] | str:
    if token.type == "dimension":
        return float(token.value), token.lower_unit
    if token.type == "number":
        return float(token.value), ""
    return tinycss2.serialize([token])
