"""Themes: folders of Jinja2 templates and CSS, described by a theme.toml.

A theme names the theme it extends (`parent`), and gives only what differs:
its article.html replaces the parent's if it has one, and its style.css is
added after the parent's. Built-in themes live in the package's templates/;
a project adds its own in themes/, and restyles any theme file by putting a
file of the same name in its templates/ folder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ThemeError

THEME_FILE = "theme.toml"
# The floors `--fit` steps a theme down to (fit.py): each a theme's own, else its parent's.
FIT_FLOORS = {"min_body_pt": "the body's size in points, as 9.5",
              "min_line_height": "a line height, as 1.2",
              "min_margin_mm": "the page margins in mm: one number, or four (top, right, bottom, left)"}
THEME_KEYS = {"name", "description", "parent", "min_text_pt", "footer_title_chars", *FIT_FLOORS}
# The handout's theme in its PDF's document information: the built-in article.html's
# <meta name="handout-theme">, as WeasyPrint's custom_metadata names it.
THEME_INFO_KEY = "/handouttheme"
# How long a title the footer holds on its one line, in narrow characters, where no theme says.
FOOTER_TITLE_CHARS = 60


def builtin_templates() -> Path:
    # Installed, the themes ship inside the package (see pyproject.toml);
    # in a source checkout they stand beside it.
    package = Path(__file__).parent.parent
    packaged = package / "templates"
    return packaged if packaged.is_dir() else package.parent / "templates"


@dataclass(frozen=True)
class Theme:
    name: str
    description: str
    parent: str | None
    folder: Path
    # No text of a handout in this theme may print smaller (points): `handout check` reads the sizes
    # from the PDF. None: the parent's, else no floor.
    min_text_pt: float | None = None
    # What `--fit` may step the theme down to, as declared (FIT_FLOORS); missing: the parent's.
    fit_floors: tuple[tuple[str, float | tuple[float, ...]], ...] = ()
    # The longest title the footer prints whole on its one line (narrow characters); None: the parent's.
    footer_title_chars: int | None = None


def template_roots(project_dir: Path) -> list[Path]:
    """Where template files are looked up, first match wins."""
    return [project_dir / "templates", project_dir / "themes", builtin_templates()]


def discover(project_dir: Path) -> dict[str, Theme]:
    """Every theme by name: the project's own (themes/) before the built-in ones."""
    themes: dict[str, Theme] = {}
    for root in (project_dir / "themes", builtin_templates()):
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            if (folder / THEME_FILE).is_file() and folder.name not in themes:
                themes[folder.name] = read_theme(folder)
    return themes


def read_theme(folder: Path) -> Theme:
    path = folder / THEME_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThemeError(f"broken {THEME_FILE}: {exc}", path) from None
    unknown = set(data) - THEME_KEYS
    if unknown:
        raise ThemeError(f"unknown keys {', '.join(sorted(unknown))} (known: {', '.join(sorted(THEME_KEYS))})", path)
    if data.get("name", folder.name) != folder.name:
        raise ThemeError(f"name '{data['name']}' differs from the folder's name '{folder.name}'", path)
    for key in ("description", "parent"):
        if not isinstance(data.get(key, ""), str):
            raise ThemeError(f"{key} must be a string", path)
    floor = data.get("min_text_pt")
    if floor is not None and not is_size(floor):
        raise ThemeError("min_text_pt must be a size in points, as 18", path)
    footer = data.get("footer_title_chars")
    if footer is not None and (isinstance(footer, bool) or not isinstance(footer, int) or not 10 <= footer <= 500):
        raise ThemeError("footer_title_chars must be a whole number of characters, as 60", path)
    return Theme(folder.name, data.get("description", ""), data.get("parent") or None, folder,
                 float(floor) if floor is not None else None, fit_floors(data, path), footer)


def is_size(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 200


def fit_floors(data: dict, path: Path) -> tuple[tuple[str, float | tuple[float, ...]], ...]:
    floors: list[tuple[str, float | tuple[float, ...]]] = []
    for key, expected in FIT_FLOORS.items():
        value = data.get(key)
        if value is None:
            continue
        if key == "min_margin_mm" and isinstance(value, list) and len(value) == 4 and all(map(is_size, value)):
            floors.append((key, tuple(float(side) for side in value)))
        elif is_size(value):
            floors.append((key, float(value)))
        else:
            raise ThemeError(f"{key} must be {expected}", path)
    return tuple(floors)


def fit_floor(chain: list[Theme], key: str) -> float | tuple[float, ...] | None:
    """A `--fit` floor of a theme: its own, else its parent's..., else None."""
    return next((dict(theme.fit_floors)[key] for theme in chain if key in dict(theme.fit_floors)), None)


def smallest_text(chain: list[Theme]) -> float | None:
    """The smallest text size a theme allows: its own floor, else its parent's..."""
    return next((theme.min_text_pt for theme in chain if theme.min_text_pt), None)


def footer_title_chars(chain: list[Theme]) -> int:
    return next((theme.footer_title_chars for theme in chain if theme.footer_title_chars), FOOTER_TITLE_CHARS)


def lineage(themes: dict[str, Theme], name: str, source: Path | None = None) -> list[Theme]:
    """The theme, its parent, its parent's parent... (unknown names and loops are errors)."""
    chain: list[Theme] = []
    next_name: str | None = name
    while next_name:
        name = next_name
        if name not in themes:
            if chain:
                raise ThemeError(f"theme '{chain[-1].name}' extends unknown theme '{name}'",
                                 chain[-1].folder / THEME_FILE)
            raise ThemeError(f"unknown theme '{name}' (known themes: {', '.join(sorted(themes))})", source)
        if themes[name] in chain:
            raise ThemeError(f"themes extend each other in a loop: {' -> '.join(t.name for t in chain)} -> {name}",
                             themes[name].folder / THEME_FILE)
        chain.append(themes[name])
        next_name = themes[name].parent
    return chain
