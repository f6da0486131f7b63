"""The project's own settings: handout.toml beside content/.

Every problem is collected and reported at once, in the manner of MkDocs:
an unknown key is a warning with the closest known key, a value of the wrong
kind is an error naming the file.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic
from .errors import HandoutError
from .read.load import front_matter_value

FILENAME = "handout.toml"


@dataclass(frozen=True)
class CheckSettings:
    max_size_mb: float = 10.0
    min_dpi: float = 150.0
    ad_phrases: tuple[str, ...] = ()
    # Plain-language limits (check/readability.py); None: not checked.
    max_grade: float | None = None
    max_sentence_words: int | None = None
    max_word_syllables: int | None = None


@dataclass(frozen=True)
class Defaults:
    """What an article's front matter does not say, the project does."""

    theme: str | None = None
    paper: str | None = None
    author: str | None = None
    lang: str | None = None
    cover: bool | None = None
    toc: bool | None = None
    organisation: str | None = None
    logo: Path | None = None


@dataclass(frozen=True)
class Limits:
    """Bounds on what one article may cost, so no article can stall a batch."""

    article_mb: float = 5.0
    image_megapixels: float = 50.0
    nesting: int = 20
    render_seconds: float = 60.0


@dataclass(frozen=True)
class Config:
    check: CheckSettings = field(default_factory=CheckSettings)
    defaults: Defaults = field(default_factory=Defaults)
    limits: Limits = field(default_factory=Limits)
    # [mail], as written: mail.smtp_settings() reads it, with the environment winning.
    mail: dict = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()


def positive_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < math.inf


def up_to(maximum: float):
    """A positive number no larger than `maximum`: inf or 1e30 would overflow where the
    limit is used (a timer, a byte count), or be no limit at all."""
    return (lambda value: positive_number(value) and value <= maximum, f"a positive number up to {maximum:g}")


def text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


# section -> key -> (check, what the value must be)
SCHEMA = {
    "check": {
        "max_size_mb": up_to(10_000),
        "min_dpi": up_to(10_000),
        "ad_phrases": (lambda v: isinstance(v, list) and all(map(text, v)), "a list of phrases"),
        "max_grade": up_to(30),
        "max_sentence_words": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 3 <= v <= 1000,
                               "a whole number from 3 to 1000"),
        "max_word_syllables": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 2 <= v <= 50,
                               "a whole number from 2 to 50"),
    },
    "limits": {
        "article_mb": up_to(1_000),
        "image_megapixels": up_to(1_000),
        "nesting": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 2 <= v <= 100,
                    "a whole number from 2 to 100"),
        "render_seconds": up_to(3_600),
    },
    "mail": {
        "smtp_host": (text, "a host name"),
        "smtp_port": (lambda v: isinstance(v, int) and 0 < v < 65536, "a port number"),
        "smtp_security": (lambda v: v in ("starttls", "tls", "none"), "starttls, tls or none"),
        "smtp_user": (text, "a user name"),
        "from": (text, "an address, as Clinic <news@example.org>"),
        "rate_per_minute": (positive_number, "a positive number"),
        "backoff_seconds": (positive_number, "a positive number"),
        # How long to wait for each SMTP reply, as a share of RFC 5321's waits (section 4.5.3.2:
        # 5 minutes for most, 10 for the reply to a whole message); default 1.
        "timeout_scale": (positive_number, "a positive number (1: the waits RFC 5321 asks for)"),
        # How long a message template (or a personal article) may take to fill in, per recipient; default 10.
        "template_seconds": (positive_number, "a positive number of seconds"),
        "max_size_mb": (positive_number, "a positive number"),
        "recipients": (text, "the path of a CSV file"),
        "article": (text, "the path of an article"),
        "message": (text, "the path of a message template"),
    },
    "defaults": {
        "theme": (text, "a theme name"),
        "paper": (text, "a4 or letter"),
        "author": (text, "a name"),
        "lang": (text, "a language tag"),
        "cover": (lambda v: isinstance(v, bool), "true or false"),
        "toc": (lambda v: isinstance(v, bool), "true or false"),
        "organisation": (text, "a name"),
        "logo": (text, "the path of an image, relative to the project"),
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

    sections: dict[str, dict] = {name: {} for name in SCHEMA}
    for name, values in data.items():
        if name not in SCHEMA:
            unknown(name, SCHEMA)
            continue
        if not isinstance(values, dict):
            errors.append(f"[{name}] must be a table")
            continue
        for key, value in values.items():
            if key not in SCHEMA[name]:
                unknown(f"{name}.{key}", (f"{name}.{k}" for k in SCHEMA[name]))
                continue
            valid, expected = SCHEMA[name][key]
            if not valid(value):
                errors.append(f"{name}.{key} must be {expected}")
                continue
            sections[name][key] = tuple(value) if isinstance(value, list) else value
    defaults = sections["defaults"]
    for key in ("paper", "lang"):
        if key in defaults:
            try:
                defaults[key] = front_matter_value(key, defaults[key], path, None)
            except HandoutError as exc:
                errors.append(f"defaults.{exc.problem}")
    if "logo" in defaults:
        defaults["logo"] = (project_dir / defaults["logo"]).resolve()
        if not defaults["logo"].is_file():
            errors.append(f"defaults.logo: no such file {defaults['logo']}")
    if errors:
        raise HandoutError("; ".join(errors), path)
    return Config(
        check=CheckSettings(**sections["check"]),
        defaults=Defaults(**defaults),
        limits=Limits(**sections["limits"]),
        mail=sections["mail"],
        diagnostics=tuple(warnings),
    )
