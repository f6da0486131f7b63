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
THEME_KEYS = {"name", "description", "parent", "min_text_pt"}


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
    if floor is not None and (isinstance(floor, bool) or not isinstance(floor, (int, float)) or not 0 < floor < 200):
        raise ThemeError("min_text_pt must be a size in points, as 18", path)
    return Theme(folder.name, data.get("description", ""), data.get("parent") or None, folder,
                 float(floor) if floor is not None else None)


def smallest_text(chain: list[Theme]) -> float | None:
    """The smallest text size a theme allows: its own floor, else its parent's..."""
    return next((theme.min_text_pt for theme in chain if theme.min_text_pt), None)


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
