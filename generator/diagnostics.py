"""Warnings found along the pipeline, each with a stable code.

Codes are stable so users can grep logs and scripts can count them; the README
lists them. Stages return diagnostics as data; only the CLI prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import location

# code -> one-line meaning, the table the README documents.
CODES = {
    "W101": "unknown front-matter key (the closest known key is suggested)",
    "W102": "web boilerplate removed from a plain-text article",
    "W103": "text appears truncated (the last sentence stops without end punctuation)",
    "W104": "the renderer reported a problem (for example an image it could not draw)",
}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    path: Path | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"undocumented diagnostic code {self.code}")

    def __str__(self) -> str:
        return f"{location(self.path, self.line)}: warning: {self.message} [{self.code}]"
