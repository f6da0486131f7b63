"""The project's own settings: handout.toml beside content/.

Each setting is declared once, in the manner of MkDocs' config_options: a
field of its section's dataclass with its kind (what the value must be), its
default and what it does. Validation, the defaults, the objects the stages
receive, the "did you mean" of an unknown key and the README's table of
settings all come from these declarations. Adding a setting is one line:

    max_grade: float = setting(number(30), 12.0, "hardest reading grade before a warning")

Every problem is collected and reported at once: an unknown key is a warning
with the closest known key, a value of the wrong kind is an error naming the file.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, did_you_mean
from .errors import HandoutError

FILENAME = "handout.toml"
MEGABYTE = 1024 * 1024
# What an email may carry: the budget `handout check` and `handout mail` hold a PDF to.
EMAIL_BUDGET_MB = 10.0
# The lowest resolution an image prints well at, in dots per inch.
MIN_DPI = 150.0
# How an SMTP connection is secured: STARTTLS on 587, TLS from the start on 465, or not (25).
SMTP_SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class Kind:
    """What a setting's value must be (`expected`, as errors and the README say it), and how
    the value as written becomes the value the stages take (`read`: ValueError if it cannot)."""

    expected: str
    read: Callable[[Any, Path], Any]


def accepting(expected: str, accepts: Callable[[Any], bool],
              convert: Callable[[Any], Any] = lambda value: value) -> Kind:
    def read(value: Any, project_dir: Path) -> Any:
        if not accepts(value):
            raise ValueError(f"must be {expected}")
        return convert(value)
    return Kind(expected, read)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


def number(maximum: float) -> Kind:
    """A positive number no larger than `maximum`: inf or 1e30 would overflow where the
    value is used (a timer, a byte count), or be no limit at all."""
    return accepting(f"a positive number up to {maximum:g}", lambda v: is_number(v) and 0 < v <= maximum, float)


def whole(low: int, high: int) -> Kind:
    return accepting(f"a whole number from {low} to {high}",
                     lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high)


def is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def text(what: str) -> Kind:
    return accepting(what, is_text)


def choice(*values: str) -> Kind:
    return accepting(" or ".join((", ".join(values[:-1]), values[-1])), lambda v: v in values)


def path(what: str) -> Kind:
    return accepting(what, is_text, Path)


FLAG = accepting("true or false", lambda v: isinstance(v, bool))
PHRASES = accepting("a list of phrases", lambda v: isinstance(v, list) and all(map(is_text, v)), tuple)


def front_matter(key: str, expected: str) -> Kind:
    """A value read as the same key of an article's front matter is: one rule for both."""
    def read(value: Any, project_dir: Path) -> Any:
        # Imported here: the loader takes its default size limit from this module.
        from .read.load import front_matter_value

        try:
            return front_matter_value(key, value, Path(FILENAME), None)
        except HandoutError as exc:
            raise ValueError(exc.problem.removeprefix(key).strip()) from None
    return Kind(expected, read)


def project_file(what: str) -> Kind:
    def read(value: Any, project_dir: Path) -> Path:
        if not is_text(value):
            raise ValueError(f"must be {what}")
        found = (project_dir / value).resolve()
        if not found.is_file():
            raise ValueError(f"names no such file: {found}")
        return found
    return Kind(what, read)


def setting(kind: Kind, default: Any, doc: str, *, key: str | None = None, env: str | None = None) -> Any:
    """Declare one handout.toml setting: a dataclass field with its kind, default and doc.
    `key` is its name in the file when that is not a Python name (`from`); `env` the
    environment variable that wins over it, where one does."""
    return field(default=default, metadata={"kind": kind, "doc": doc, "key": key, "env": env})


@dataclass(frozen=True)
class CheckSettings:
    """[check]: what `handout check` holds each handout to."""

    max_size_mb: float = setting(number(10_000), EMAIL_BUDGET_MB, "email budget per PDF, in MB (`--max-size`)")
    min_dpi: float = setting(number(10_000), MIN_DPI, "lowest resolution of a printed image (`--min-dpi`)")
    ad_phrases: tuple[str, ...] = setting(PHRASES, (), "your own advertising phrases, on top of the built-in list")
    # Plain-language limits (check/readability.py): off unless set.
    max_grade: float | None = setting(number(30), None, "reading grade over which a handout gets a warning (L320)")
    max_sentence_words: int | None = setting(whole(3, 1000), None, "words in a sentence before a warning (L321)")
    max_word_syllables: int | None = setting(whole(2, 50), None, "syllables in a word before a warning (L322)")


@dataclass(frozen=True)
class Defaults:
    """[defaults]: what an article's front matter does not say, the project does."""

    theme: str | None = setting(text("a theme name"), None, "the theme (else `handout`)")
    paper: str | None = setting(front_matter("paper", "a4 or letter"), None, "the paper size (else the system's)")
    author: str | None = setting(text("a name"), None, "the author")
    lang: str | None = setting(front_matter("lang", "a language tag"), None, "the language (else detected or en)")
    cover: bool | None = setting(FLAG, None, "a cover page before the text")
    toc: bool | None = setting(FLAG, None, "a table of contents")
    organisation: str | None = setting(text("a name"), None, "printed above the title")
    logo: Path | None = setting(project_file("the path of an image, relative to the project"), None,
                                "printed beside the organisation")


@dataclass(frozen=True)
class Limits:
    """[limits]: bounds on what one article may cost, so no article can stall a batch."""

    article_mb: float = setting(number(1_000), 5.0, "larger articles are refused")
    image_megapixels: float = setting(number(1_000), 50.0, "an image over it is refused from its header")
    nesting: int = setting(whole(2, 100), 20, "lists, quotes and '[' nested deeper are refused")
    render_seconds: float = setting(number(3_600), 60.0, "an article typeset for longer is stopped")

    @property
    def article_bytes(self) -> int:
        return int(self.article_mb * MEGABYTE)

    @property
    def image_pixels(self) -> int:
        return int(self.image_megapixels * 1_000_000)


@dataclass(frozen=True)
class MailSettings:
    """[mail]: how `handout mail` sends; the environment variables named win over the file."""

    smtp_host: str | None = setting(text("a host name"), None, "the SMTP server", env="HANDOUT_SMTP_HOST")
    smtp_port: int | None = setting(whole(1, 65_535), None, "its port (else 587, 465 for tls, 25 for none)",
                                    env="HANDOUT_SMTP_PORT")
    smtp_security: str = setting(choice(*SMTP_SECURITY), "starttls", "how the connection is secured",
                                 env="HANDOUT_SMTP_SECURITY")
    smtp_user: str | None = setting(text("a user name"), None, "the login (the password only from "
                                    "HANDOUT_SMTP_PASSWORD)", env="HANDOUT_SMTP_USER")
    sender: str | None = setting(text("an address, as Clinic <news@example.org>"), None, "the From address",
                                 key="from", env="HANDOUT_MAIL_FROM")
    rate_per_minute: float = setting(number(100_000), 60.0, "at most this many messages a minute")
    backoff_seconds: float = setting(number(3_600), 5.0, "wait before the first retry of a temporary failure")
    # RFC 5321 section 4.5.3.2: 5 minutes for most replies, 10 for the reply to a whole message.
    timeout_scale: float = setting(number(100), 1.0, "waits for the server's replies, as a share of RFC 5321's")
    template_seconds: float = setting(number(3_600), 10.0, "time a template may take for one recipient")
    max_size_mb: float = setting(number(10_000), EMAIL_BUDGET_MB, "email budget per attachment, in MB (`--max-size`)")
    recipients: Path | None = setting(path("the path of a CSV file"), None, "the recipients, for a bare `handout mail`")
    article: Path | None = setting(path("the path of an article"), None, "the article, for a bare `handout mail`")
    message: Path | None = setting(path("the path of a message template"), None,
                                   "the message, for a bare `handout mail`")


@dataclass(frozen=True)
class Config:
    check: CheckSettings = field(default_factory=CheckSettings)
    defaults: Defaults = field(default_factory=Defaults)
    limits: Limits = field(default_factory=Limits)
    mail: MailSettings = field(default_factory=MailSettings)
    diagnostics: tuple[Diagnostic, ...] = ()


# [section] -> its dataclass, in the order of Config.
SECTIONS: dict[str, type] = {f.name: f.default_factory for f in dataclasses.fields(Config)  # type: ignore[misc]
                             if f.default_factory is not dataclasses.MISSING}


def declared(section: type) -> Iterator[tuple[str, dataclasses.Field]]:
    """(key in handout.toml, field) for each setting of `section`."""
    for declaration in dataclasses.fields(section):
        yield declaration.metadata["key"] or declaration.name, declaration


def environment_names(section: type) -> dict[str, str]:
    """{field name: the environment variable that wins over it}."""
    return {f.name: f.metadata["env"] for f in dataclasses.fields(section) if f.metadata["env"]}


def load_config(project_dir: Path) -> Config:
    """handout.toml of `project_dir` (defaults where there is none); every error at once."""
    config_path = project_dir / FILENAME
    if not config_path.is_file():
        return Config()
    data = read_toml(config_path)
    warnings: list[Diagnostic] = []
    errors: list[str] = []
    sections = {}
    for name, values in data.items():
        if name not in SECTIONS:
            warnings.append(unknown_key(name, SECTIONS, config_path))
        elif not isinstance(values, dict):
            errors.append(f"[{name}] must be a table")
        else:
            sections[name] = read_section(name, SECTIONS[name], values, project_dir, warnings, errors)
    if errors:
        raise HandoutError("; ".join(errors), config_path)
    return Config(**sections, diagnostics=tuple(warnings))


def read_toml(config_path: Path) -> dict:
    try:
        return tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise HandoutError(f"broken {FILENAME}: {exc}", config_path) from None


def read_section(name: str, section: type, values: dict, project_dir: Path, warnings: list[Diagnostic],
                 errors: list[str]) -> Any:
    """[name] as its dataclass `section`, from its values as written; problems go to `warnings` and `errors`."""
    settings = dict(declared(section))
    given = {}
    for key, value in values.items():
        if key not in settings:
            warnings.append(unknown_key(f"{name}.{key}", [f"{name}.{known}" for known in settings],
                                        project_dir / FILENAME))
            continue
        try:
            given[settings[key].name] = settings[key].metadata["kind"].read(value, project_dir)
        except ValueError as exc:
            errors.append(f"{name}.{key} {exc}")
    return section(**given)


def unknown_key(key: str, known, config_path: Path) -> Diagnostic:
    return Diagnostic("W105", f"unknown key '{key}'{did_you_mean(key, known)}", config_path)


def settings_table(sections: dict[str, type] = SECTIONS) -> str:
    """The README's table of every setting, made from the declarations."""
    rows = ["| Setting | Default | Value | What it does |", "| --- | --- | --- | --- |"]
    for name, section in sections.items():
        for key, declaration in declared(section):
            default = "none" if declaration.default in (None, ()) else f"{declaration.default:g}" if isinstance(
                declaration.default, float) else str(declaration.default)
            env = f" (`{declaration.metadata['env']}` wins)" if declaration.metadata["env"] else ""
            rows.append(f"| `{name}.{key}` | {default} | {declaration.metadata['kind'].expected} "
                        f"| {declaration.metadata['doc']}{env} |")
    return "\n".join(rows)
