"""`handout import`: a plain-text article written out as Markdown for editing.

The Markdown is exactly what `handout build` renders for the text file, so the
only words that differ from the original are the removals the loader reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .build import write_atomically
from .diagnostics import Diagnostic
from .errors import OutputError, UsageError
from .load import TextLoader


@dataclass(frozen=True)
class ImportResult:
    source: Path
    output: Path
    diagnostics: tuple[Diagnostic, ...]


def import_text(source: Path, content_dir: Path = Path("content"), overwrite: bool = False) -> ImportResult:
    if source.suffix.lower() not in TextLoader.extensions:
        raise UsageError(f"import takes a plain-text article ({', '.join(TextLoader.extensions)})", source)
    article = TextLoader().load(source)
    target = content_dir / f"{article.slug}.md"
    if target.exists() and not overwrite:
        raise OutputError(f"{target} exists; pass --force to overwrite it", source)
    fields = {"title": article.meta.title, "author": article.meta.author, "date": article.meta.date,
              "lang": article.meta.lang}
    front_matter = yaml.safe_dump(
        {key: value for key, value in fields.items() if value}, allow_unicode=True, sort_keys=False, width=10_000
    )
    text = f"---\n# Imported from {source.name} by handout import.\n{front_matter}---\n\n{article.body}"
    write_atomically(target, text.encode("utf-8"), source)
    return ImportResult(source=source, output=target, diagnostics=article.diagnostics)
