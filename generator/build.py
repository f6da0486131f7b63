"""The one place that orders the stages: load, Markdown, template, PDF, write.

`build()` is the Python API the CLI calls. One article's failure is recorded in
its result and the others still build.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import fonts, markup, pdf, render, themes
from .config import Config, load_config
from .diagnostics import Diagnostic
from .errors import HandoutError, OutputError, UsageError
from .load import EXTENSIONS, load_article


@dataclass(frozen=True)
class BuildOptions:
    output_dir: Path = Path("output")
    theme: str | None = None
    paper: str | None = None
    # One more stylesheet, after the theme's (--css).
    extra_css: Path | None = None
    # The working project: its templates/ and themes/ add to the built-in
    # ones, and only files inside it may be read into a handout.
    project_dir: Path = Path(".")
    # The project's handout.toml, read by build() when not given.
    config: Config | None = None


@dataclass(frozen=True)
class BuildResult:
    source: Path
    output: Path | None = None
    pages: int = 0
    size: int = 0
    theme: str | None = None
    paper: str | None = None
    seconds: float = 0.0
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    error: HandoutError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def find_articles(paths: list[Path]) -> list[Path]:
    """Articles named, or found directly inside the folders named, in order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(
                p for p in path.iterdir()
                if p.suffix.lower() in EXTENSIONS and p.is_file() and not p.name.startswith(".")
            ))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"no such file or folder: {path}")
    return found


def build(paths: list[Path], options: BuildOptions = BuildOptions()) -> list[BuildResult]:
    """Build a handout for each article in `paths` (files or folders)."""
    articles = find_articles([Path(p) for p in paths])
    if not articles:
        raise UsageError(f"no articles ({', '.join(EXTENSIONS)}) in {', '.join(map(str, paths))}")
    config = options.config or load_config(options.project_dir)
    if options.extra_css and not options.extra_css.is_file():
        raise UsageError(f"no such stylesheet: {options.extra_css}")
    renderer = render.Renderer(options.project_dir, config.defaults, options.extra_css)
    if options.theme:
        try:
            renderer.check_theme(options.theme)
        except HandoutError as exc:
            raise UsageError(exc.problem) from None
    claimed: dict[Path, Path] = {}
    return [build_one(source, options, renderer, claimed) for source in articles]


def build_one(source: Path, options: BuildOptions, renderer: render.Renderer,
              claimed: dict[Path, Path]) -> BuildResult:
    started = time.perf_counter()
    diagnostics: list[Diagnostic] = []
    try:
        article = load_article(source)
        diagnostics.extend(article.diagnostics)
        target = options.output_dir / f"{article.slug}.pdf"
        if target in claimed:
            raise OutputError(f"{claimed[target]} already makes {target}; rename one of them", source)
        claimed[target] = source
        body = markup.to_html(article)
        page = renderer.render(article, body, options.theme, options.paper)
        document = pdf.typeset(page, source, allowed_roots(source, options))
        diagnostics.extend(document.diagnostics)
        write_atomically(target, document.data, source)
    except HandoutError as exc:
        return BuildResult(source=source, diagnostics=tuple(diagnostics), error=exc)
    return BuildResult(
        source=source, output=target, pages=document.pages, size=len(document.data),
        theme=page.theme, paper=page.paper, seconds=time.perf_counter() - started,
        diagnostics=tuple(diagnostics),
    )


def allowed_roots(source: Path, options: BuildOptions) -> list[Path]:
    extra = [options.extra_css.resolve().parent] if options.extra_css else []
    return [options.project_dir, source.parent, themes.builtin_templates(), *fonts.font_dirs(), *extra]


def write_atomically(target: Path, data: bytes, source: Path) -> None:
    """Write to a temporary file beside the target, then rename it into place.

    A reader never sees half a PDF, and a failed rebuild leaves the last
    good handout where it was.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write to {target.parent} ({exc.strerror})", source) from None
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a handout is for sharing
        os.replace(temporary, target)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {target} ({exc.strerror})", source) from None
        raise
