"""Errors a user can cause, each with a message written for them.

Every error names the file (and the line, where it is known) in the form
compilers use, ``path:line: error: message``, so editors and terminals can jump
to it. They derive from click.ClickException so the CLI prints the message and
exits without a traceback.
"""

from __future__ import annotations

from pathlib import Path

import click


def location(path: Path | str | None, line: int | None = None) -> str:
    """``path:line`` as users see it: relative to the working directory when inside it."""
    if path is None:
        return "handout"
    shown = display_path(path)
    return f"{shown}:{line}" if line else shown


def display_path(path: Path | str) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class HandoutError(click.ClickException):
    """A problem with the user's input or set-up; exit code 1."""

    exit_code = 1

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        self.path = Path(path) if path is not None else None
        self.line = line
        self.problem = message
        super().__init__(f"{location(path, line)}: error: {message}")

    def format_message(self) -> str:
        return self.message

    def __reduce__(self):
        # Batch builds send errors back from worker processes.
        return (self.__class__, (self.problem, self.path, self.line))

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


class UsageError(HandoutError):
    """The command line asks for something impossible; exit code 2 like click's own."""

    exit_code = 2
