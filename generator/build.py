"""The one place that orders the stages: load, Markdown, template, PDF, write.

`build()` is the Python API the CLI calls. One article's failure is recorded in
its result and the others still build.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import fonts, markup, pdf, render, sandbox, themes
from .config import Config, load_config
from .diagnostics import Diagnostic
from .errors import ArticleError, HandoutError, OutputError, UsageError
from .load import EXTENSIONS, MEGABYTE, load_article


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
    # The network: off unless asked for; then never private addresses, except these.
    allow_remote: bool = False
    trusted_networks: tuple[str, ...] = ()


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
    # The project's own settings may name files elsewhere: its logo, a --css file's folder.
    extra_roots = [options.extra_css.resolve().parent] if options.extra_css else []
    extra_roots += [config.defaults.logo] if config.defaults.logo else []
    policy = read_policy(options.project_dir, [Path(p) for p in paths], extra_roots,
                         options.allow_remote, options.trusted_networks)
    claimed: dict[Path, Path] = {}
    return [build_one(source, options, renderer, policy, config, claimed) for source in articles]


def read_policy(project_dir: Path, paths: list[Path], extra_roots: list[Path] = (),
                allow_remote: bool = False, trusted_networks: tuple[str, ...] = ()) -> sandbox.ReadPolicy:
    """What a build may read: the project's content, templates, themes and assets folders,
    the folders named on the command line, the built-in themes and fonts, and `extra_roots`."""
    try:
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in trusted_networks)
    except ValueError as exc:
        raise UsageError(f"--trust-network: {exc}") from None
    project_folders = [project_dir / name for name in ("content", "templates", "themes", "assets")]
    return sandbox.ReadPolicy(
        roots=tuple([*project_folders, *(p for p in paths if p.is_dir()), themes.builtin_templates(),
                     *fonts.font_dirs(), *extra_roots]),
        allow_remote=allow_remote,
        trusted_networks=networks,
    )


def build_one(source: Path, options: BuildOptions, renderer: render.Renderer, policy: sandbox.ReadPolicy,
              config: Config, claimed: dict[Path, Path]) -> BuildResult:
    started = time.perf_counter()
    diagnostics: list[Diagnostic] = []
    try:
        check_source(source, policy)
        article = load_article(source, int(config.limits.article_mb * MEGABYTE))
        diagnostics.extend(article.diagnostics)
        target = options.output_dir / f"{article.slug}.pdf"
        if target in claimed:
            raise OutputError(f"{claimed[target]} already makes {target}; rename one of them", source)
        claimed[target] = source
        body = markup.to_html(article, policy, config.limits)
        diagnostics.extend(body.diagnostics)
        page = renderer.render(article, body, options.theme, options.paper)
        document = pdf.typeset(page, source, policy, config.limits.render_seconds)
        diagnostics.extend(document.diagnostics)
        write_atomically(target, document.data, source)
    except HandoutError as exc:
        return BuildResult(source=source, diagnostics=tuple(diagnostics), error=exc)
    return BuildResult(
        source=source, output=target, pages=document.pages, size=len(document.data),
        theme=page.theme, paper=page.paper, seconds=time.perf_counter() - started,
        diagnostics=tuple(diagnostics),
    )


def check_source(source: Path, policy: sandbox.ReadPolicy) -> None:
    """An article is read where it is named, never through a link out of the project."""
    if source.is_symlink() and not policy.allows_path(source):
        raise ArticleError(f"is a link to {source.resolve()}, outside the project; not read", source)


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
