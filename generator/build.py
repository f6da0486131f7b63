"""The one place that orders the stages: load, Markdown, template, PDF, write.

`build()` is the Python API the CLI calls. It loads every article, skips the
handouts whose inputs have not changed since the last build (manifest.py),
and typesets the others in parallel worker processes, each of which sets up
the template environment, fonts and settings once for all its articles. One
article's failure is recorded in its result and the others still build.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import ipaddress
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import fonts, sandbox, themes
from .article import Article
from .config import FILENAME as CONFIG_FILE, Config, load_config
from .diagnostics import Diagnostic
from .errors import ArticleError, HandoutError, OutputError, UsageError
from .load import EXTENSIONS, MEGABYTE, load_article
from .manifest import Manifest, article_digest, build_digest, diagnostics_of
from .printing import PrintOptions

# A worker process is replaced after this many handouts, so memory stays
# bounded however many articles a batch has.
TASKS_PER_WORKER = 25
# Settings the workers must share with the process that started them.
SHARED_ENVIRONMENT = ("SOURCE_DATE_EPOCH", "HANDOUT_CACHE_DIR", "XDG_CACHE_HOME")


@dataclass(frozen=True)
class BuildOptions:
    output_dir: Path = Path("output")
    theme: str | None = None
    paper: str | None = None
    # One more stylesheet, after the theme's (--css).
    extra_css: Path | None = None
    # The working project: its templates/ and themes/ add to the built-in
    # ones, and only its content, templates, themes and assets may be read.
    project_dir: Path = Path(".")
    # The project's handout.toml, read by build() when not given.
    config: Config | None = None
    # The network: off unless asked for; then never private addresses, except these.
    allow_remote: bool = False
    trusted_networks: tuple[str, ...] = ()
    # Worker processes; None: one per core.
    jobs: int | None = None
    # Build every handout, changed or not.
    force: bool = False
    # Delete the handouts whose articles are gone.
    prune: bool = False
    # For the print shop: also a booklet ("full" or "a5") and n-up sheets, beside each handout.
    booklet: str | None = None
    n_up: tuple[int, ...] = ()
    printing: PrintOptions = PrintOptions()


@dataclass(frozen=True)
class BuildResult:
    source: Path
    output: Path | None = None
    # built, unchanged (inputs as last time), failed, stale (article gone), pruned (stale, deleted)
    status: str = "built"
    pages: int = 0
    size: int = 0
    theme: str | None = None
    paper: str | None = None
    seconds: float = 0.0
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    error: HandoutError | None = None
    # Booklet and n-up files made beside the handout.
    extras: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Job:
    """One handout to typeset: plain data, sent to a worker process."""

    article: Article
    target: Path


@dataclass(frozen=True)
class Setup:
    """What every worker needs, once: plain data, sent when it starts."""

    options: BuildOptions
    config: Config
    policy: sandbox.ReadPolicy
    cwd: Path
    environment: dict[str, str]


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


def build(paths: list[Path], options: BuildOptions = BuildOptions(),
          progress: Callable[[BuildResult], None] | None = None) -> list[BuildResult]:
    """Build a handout for each article in `paths` (files or folders).

    Returns one result per article, in order, then one per stale handout
    (its article gone). `progress` is called with each result as it comes.
    """
    paths = [Path(p) for p in paths]
    articles = find_articles(paths)
    if not articles:
        raise UsageError(f"no articles ({', '.join(EXTENSIONS)}) in {', '.join(map(str, paths))}")
    config = options.config or load_config(options.project_dir)
    if options.extra_css and not options.extra_css.is_file():
        raise UsageError(f"no such stylesheet: {options.extra_css}")
    project_dir = options.project_dir.resolve()
    if options.theme:
        try:
            themes.lineage(themes.discover(project_dir), options.theme)
        except HandoutError as exc:
            raise UsageError(exc.problem) from None
    # The project's own settings may name files elsewhere: its logo, a --css file (the file, not its folder).
    extra_roots = [options.extra_css.resolve()] if options.extra_css else []
    extra_roots += [config.defaults.logo] if config.defaults.logo else []
    extra_roots += [options.printing.profile()] if options.printing.profile() else []
    policy = read_policy(options.project_dir, paths, extra_roots, options.allow_remote, options.trusted_networks)
    policy = dataclasses.replace(policy, max_pixels=int(config.limits.image_megapixels * 1_000_000))

    report = progress or (lambda result: None)
    manifest = Manifest(options.output_dir)
    shared = build_digest(
        themes.template_roots(project_dir),
        [options.project_dir / CONFIG_FILE, *([options.extra_css] if options.extra_css else [])],
        repr((options.theme, options.paper, options.allow_remote, options.trusted_networks,
              options.booklet, options.n_up, options.printing)),
    )
    results: dict[int, BuildResult] = {}
    jobs: dict[int, Job] = {}
    fingerprints: dict[int, str] = {}
    claimed: dict[Path, Path] = {}
    for index, source in enumerate(articles):
        try:
            check_source(source, policy)
            article = load_article(source, int(config.limits.article_mb * MEGABYTE))
            target = options.output_dir / f"{article.slug}.pdf"
            if target in claimed:
                raise OutputError(f"{claimed[target]} already makes {target}; rename one of them", source)
            claimed[target] = source
        except HandoutError as exc:
            results[index] = BuildResult(source=source, status="failed", error=exc)
            report(results[index])
            continue
        fingerprints[index] = article_digest(source, article.body + repr(article.meta), shared, policy)
        entry = None if options.force else manifest.unchanged(target, fingerprints[index])
        if entry:
            results[index] = BuildResult(source=source, output=target, status="unchanged", pages=entry.pages,
                                         size=entry.size, diagnostics=diagnostics_of(entry))
            report(results[index])
        else:
            jobs[index] = Job(article, target)

    setup = Setup(options, config, policy, Path.cwd(),
                  {name: os.environ[name] for name in SHARED_ENVIRONMENT if name in os.environ})
    for index, result in typeset_all(jobs, setup):
        results[index] = result
        if result.ok:
            manifest.record(result.output, result.source, fingerprints[index], result.pages, result.size,
                            result.diagnostics)
        report(result)

    built_targets = {result.output for result in results.values() if result.output}
    stale = stale_handouts(manifest, options, built_targets, {Path(p).resolve() for p in articles})
    for result in stale:
        report(result)
    manifest.save()
    return [results[index] for index in range(len(articles))] + stale


def typeset_all(jobs: dict[int, Job], setup: Setup):
    """(index, result) for each job, as each finishes: in this process for one job or one
    worker, else in a pool of worker processes."""
    if not jobs:
        return
    workers = min(setup.options.jobs or os.cpu_count() or 1, len(jobs))
    fonts.text_fonts()  # made once here, before the workers would each make them
    if workers == 1:
        start_worker(setup)
        for index, job in jobs.items():
            yield index, typeset_job(job)
        return
    from . import pool

    # Longest first, so no worker is left with a long article while the other idles.
    order = sorted(jobs, key=lambda index: -len(jobs[index].article.body))
    yield from pool.run({index: jobs[index] for index in order}, typeset_job, start_worker, setup, workers,
                        TASKS_PER_WORKER, lost=job_lost)


def job_lost(job: Job, why: str) -> BuildResult:
    return BuildResult(source=job.article.source, status="failed", error=ArticleError(why, job.article.source))


# One worker's state, set up once by start_worker and used for all its jobs.
worker: dict = {}


def start_worker(setup: Setup) -> None:
    from . import render  # Jinja2: only where handouts are made

    os.chdir(setup.cwd)
    os.environ.update(setup.environment)
    worker["setup"] = setup
    worker["renderer"] = render.Renderer(setup.options.project_dir, setup.config.defaults, setup.options.extra_css)
    fonts.text_fonts()


def typeset_job(job: Job) -> BuildResult:
    from . import imposition, markup, pdf  # Markdown, Pygments, WeasyPrint: only where handouts are made

    setup: Setup = worker["setup"]
    options, config, policy = setup.options, setup.config, setup.policy
    article, source = job.article, job.article.source
    started = time.perf_counter()
    diagnostics: list[Diagnostic] = list(article.diagnostics)
    try:
        body = markup.to_html(article, policy, config.limits)
        diagnostics.extend(body.diagnostics)
        variant = options.printing.variant or ""
        if variant.startswith("pdf/ua") and body.images_without_alt:
            raise ArticleError(f"{variant} needs alt text for every image; these have none: "
                               f"{', '.join(body.images_without_alt)}", source)
        page = worker["renderer"].render(article, body, options.theme, options.paper)
        with cycle_collection_paused():
            document = pdf.typeset(page, source, policy, config.limits.render_seconds, options.printing)
        diagnostics.extend(document.diagnostics)
        extras = {}
        if options.booklet:
            extras["booklet"] = imposition.booklet(document.data, options.booklet)
        for n in options.n_up:
            extras[f"{n}up"] = imposition.n_up(document.data, n)
        write_atomically(job.target, document.data, source)
        for suffix, data in extras.items():
            write_atomically(job.target.with_name(f"{job.target.stem}-{suffix}.pdf"), data, source)
    except HandoutError as exc:
        return BuildResult(source=source, status="failed", diagnostics=tuple(diagnostics), error=exc)
    return BuildResult(
        source=source, output=job.target, pages=document.pages, size=len(document.data),
        theme=page.theme, paper=page.paper, seconds=time.perf_counter() - started,
        diagnostics=tuple(diagnostics),
        extras=tuple(job.target.with_name(f"{job.target.stem}-{suffix}.pdf") for suffix in extras),
    )


@contextlib.contextmanager
def cycle_collection_paused():
    """Typeset with Python's cycle collector paused, and collect once after.

    WeasyPrint makes millions of objects while it typesets a handout, and the
    collector would scan the live ones again and again: a tenth of the time.
    All the handout's objects are still in the youngest generation after, so
    collecting that one frees what the handout left in reference cycles
    without scanning the rest of the process (16 ms a handout, not 41).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def stale_handouts(manifest: Manifest, options: BuildOptions, built: set[Path],
                   articles: set[Path]) -> list[BuildResult]:
    """Handouts in the manifest whose article is gone; deleted with --prune."""
    found = []
    for name, entry in list(manifest.entries.items()):
        target, source = options.output_dir / name, Path(entry.source)
        if target in built or source.resolve() in articles or source.exists():
            continue
        if options.prune:
            target.unlink(missing_ok=True)
            manifest.forget(target)
        found.append(BuildResult(source=source, output=target, status="pruned" if options.prune else "stale"))
    return found


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
