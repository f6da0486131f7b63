"""Errors a user can cause, each with a message written for them.

Every error names the file (and the line, where it is known) in the form
compilers use, ``path:line: error: message``, so editors and terminals can jump
to it. They derive from click.ClickException so the CLI prints the message and
exits without a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

# What could break a line of output or forge one: control characters (a newline, ESC
# of a terminal's escape codes) and the bidirectional overrides that reorder text.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with what a file name or front-matter value could use to forge a line shown
    as escapes (\\n, \\x1b, \\u202e): each error and warning stays one line."""
    return UNPRINTABLE.sub(lambda match: NAMED_ESCAPES.get(match.group()) or (
        f"\\x{ord(match.group()):02x}" if ord(match.group()) < 0x100 else f"\\u{ord(match.group()):04x}"), text)


def location(path: Path | str | None, line: int | None = None) -> str:
    """``path:line`` as users see it: relative to the working directory when inside it."""
    if path is None:
        return "handout"
    shown = display_path(path)
    return f"{shown}:{line}" if line else shown


def display_path(path: Path | str) -> str:
    """The path as users see it: relative to the working directory when inside it, and
    printable (a file name cannot forge a line of output)."""
    path = Path(path)
    try:
        return printable(str(path.resolve().relative_to(Path.cwd().resolve())))
    except ValueError:
        return printable(str(path))


class HandoutError(click.ClickException):
    """A problem with the user's input or set-up; exit code 1."""

    exit_code = 1

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None,
                 details: tuple[str, ...] = ()):
        self.path = Path(path) if path is not None else None
        self.line = line
        self.problem = message
        # Each of several problems found at once on a line of its own, below the error.
        self.details = tuple(details)
        super().__init__(f"{location(path, line)}: error: {printable(message)}"
                         + "".join(f"\n  {printable(detail)}" for detail in self.details))

    def format_message(self) -> str:
        return self.message

    def __reduce__(self):
        # Batch builds send errors back from worker processes.
        return (self.__class__, (self.problem, self.path, self.line, self.details))

    def show(self, file=None) -> None:
        click.echo(self.format_message(), err=True, file=file)


class ArticleError(HandoutError):
    """The article cannot be read: encoding, front matter, empty file, missing image."""


class ThemeError(HandoutError):
    """An unknown theme, or a broken template in a theme or a project override."""


class OutputError(HandoutError):
    """The handout cannot be written where it should go."""


class MailError(HandoutError):
    """A mail merge that cannot go on: bad recipients, a broken message, a refused login."""


class TemplateTimeout(MailError):
    """A message template slower than [mail] template_seconds: likely so for every row."""


class Refused(ValueError):
    """A resource the read policy does not allow, told as a warning: WeasyPrint leaves it out
    and goes on (a ValueError, which its URL fetcher turns into a logged warning).

    `code` is the warning that reports it: W106 for files, W107 for the network.
    """

    def __init__(self, message: str, code: str = "W107"):
        super().__init__(message)
        self.code = code


class UsageError(HandoutError):
    """The command line asks for something impossible; exit code 2 like click's own."""

    exit_code = 2


class TooDeep(ArticleError):
    """Brackets opened deeper than the Markdown parser's nesting limit; `line` counts from the
    body's start (markup/html.py names the article's own line when it reports it)."""
