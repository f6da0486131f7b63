"""The project's own settings: handout.toml beside content/.

Every problem is collected and reported at once, in the manner of MkDocs:
an unknown key is a warning with the closest known key, a value of the wrong
kind is an error naming the file.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic
from .errors import HandoutError

FILENAME = "handout.toml"


@dataclass(frozen=True)
class CheckSettings:
    max_size_mb: float = 10.0
    min_dpi: float = 150.0
    ad_phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    check: CheckSettings = field(default_factory=CheckSettings)
    diagnostics: tuple[Diagnostic, ...] = ()


# section -> key -> (type check, what the value must be)
SCHEMA = {
    "check": {
        "max_size_mb": (lambda v: isinstance(v, (int, float)) and v > 0, "a positive number"),
        "min_dpi": (lambda v: isinstance(v, (int, float)) and v > 0, "a positive number"),
        "ad_phrases": (lambda v: isinstance(v, list) and all(isinstance(p, str) and p.strip() for p in v),
                       "a list of phrases"),
    },
}


def load_config(project_dir: Path) -> Config:
    path = project_dir / FILENAME
    if not path.is_file():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise HandoutError(f"broken {FILENAME}: {exc}", path) from None

    warnings: list[Diagnostic] = []
    errors: list[str] = []

    def unknown(key: str, known) -> None:
        close = difflib.get_close_matches(key, list(known), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        warnings.append(Diagnostic("W105", f"unknown key '{key}'{hint}", path))

    sections = {}
    for name, values in data.items():
        if name not in SCHEMA:
            unknown(name, SCHEMA)
            continue
        if not isinstance(values, dict):
            errors.append(f"[{name}] must be a table")
            continue
        sections[name] = {}
        for key, value in values.items():
            if key not in SCHEMA[name]:
                unknown(f"{name}.{key}", (f"{name}.{k}" for k in SCHEMA[name]))
                continue
            valid, expected = SCHEMA[name][key]
            if not valid(value):
                errors.append(f"{name}.{key} must be {expected}")
                continue
            sections[name][key] = tuple(value) if isinstance(value, list) else value
    if errors:
        raise HandoutError("; ".join(errors), path)
    return Config(check=CheckSettings(**sections.get("check", {})), diagnostics=tuple(warnings))
