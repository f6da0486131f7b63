"""The one place that orders the stages: load, Markdown, template, PDF, write.

`build()` is the Python API the CLI calls. It loads every article, skips the
handouts whose inputs have not changed since the last build (manifest.py),
and typesets the others in parallel worker processes, each of which sets up
the template environment, fonts and settings once for all its articles. One
article's failure is recorded in its result and the others still build.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from . import sandbox
from .article import Article
from .config import FILENAME as CONFIG_FILE
from .config import Config, load_config
from .diagnostics import Diagnostic
from .errors import ArticleError, HandoutError, OutputError, ThemeError, UsageError, display_path
from .output.files import KINDS, output_lock, output_path, write_atomically
from .output.manifest import Manifest, article_digest, build_digest, diagnostics_of
from .output.printing import PAPER_POINTS, PrintOptions, system_paper
from .read.load import (
    EXTENSIONS,
    find_articles,
    load_article,
    superseded,
)
from .typeset import fonts, themes

if TYPE_CHECKING:
    from .typeset import fit, render

# A worker process is replaced after this many handouts, so memory stays
# bounded however many articles a batch has.
TASKS_PER_WORKER = 25


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
    # At most this many pages for every article, over its front matter's `fit:` (typeset/fit.py).
    fit: int | None = None


@dataclass(frozen=True)
class BuildResult:
    source: Path
    output: Path | None = None
    # built, unchanged (inputs as last time), failed, stale (article gone), pruned (stale, deleted),
    # superseded (a page whose Markdown import, `output` here, is built instead)
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
    # The project's files it was made from (images, a stylesheet), as typesetting read them.
    inputs: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Job:
    """One handout to typeset: plain data, sent to a worker process."""

    article: Article
    target: Path


@dataclass(frozen=True)
class StampBatch:
    """Recipients' personal lines to typeset in an article's theme, each drawn apart (the
    theme's stamps.html, for handout mail), and the file they are written to."""

    lines: tuple[str, ...]
    target: Path


@dataclass(frozen=True)
class StampJob:
    """A StampBatch of an article, sent to a worker."""

    article: Article
    lines: tuple[str, ...]
    target: Path


@dataclass(frozen=True)
class Typeset:
    """What a worker sends back: the result, and the files for the build to write.

    The build writes them, not the worker: a worker may outlive a build that
    was killed by a moment, and must not write a file the manifest never hears of.
    """

    result: BuildResult
    files: tuple[tuple[Path, bytes], ...] = ()


@dataclass(frozen=True)
class Setup:
    """What every worker needs, once: plain data, sent when it starts."""

    options: BuildOptions
    config: Config
    policy: sandbox.ReadPolicy
    cwd: Path
    # Each of pool.SHARED_ENVIRONMENT: its value in the build, or None where it is not set.
    environment: dict[str, str | None]
    # Where the files every handout shares live (themes, templates, fonts).
    shared_roots: tuple[Path, ...] = ()
    # The workers' temporary folder, removed by the build when they are done: WeasyPrint
    # copies the fonts into a folder it removes only when its font configuration is freed,
    # and a worker ends (or is killed) without freeing it, which filled /tmp with fonts.
    scratch: Path | None = None
    # The paper where nothing else names one: the system's (printing.system_paper).
    paper: str = "a4"


def build(paths: list[Path], options: BuildOptions = BuildOptions(),
          progress: Callable[[BuildResult], None] | None = None,
          notify: Callable[[str], None] | None = None,
          stamps: Sequence[StampBatch] = (), stamped: Callable[[int, BuildResult], None] | None = None,
          ) -> list[BuildResult]:
    """Build a handout for each article in `paths` (files or folders).

    Returns one result per article, in order, then one per stale handout
    (its article gone), then one per page that its Markdown import replaces.
    `progress` is called with each result as it comes;
    `notify` with what the user should know of the build as a whole (standard
    error by default), as that it waits for another build of the project.

    `stamps` (with one article) are typeset in its theme by the same workers,
    beside it, for handout mail: recipients' lines are text from outside, so
    typeset as a handout is, within [limits] render_seconds and what the
    article may read. `stamped` is told of each batch's result, by its index.
    A worker's first typesetting costs a third of a second of fonts and
    stylesheets: workers of their own would each pay it again.
    """
    paths = [Path(p) for p in paths]
    articles = find_articles(paths)
    if not articles:
        raise UsageError(f"no articles ({', '.join(EXTENSIONS)}) in {', '.join(map(str, paths))}")
    if stamps and len(articles) != 1:
        raise ValueError("stamps are typeset beside one article")
    config = options.config or load_config(options.project_dir)
    if options.extra_css and not options.extra_css.is_file():
        raise UsageError(f"no such stylesheet: {options.extra_css}")
    project_dir = options.project_dir.resolve()
    if options.theme:
        try:
            themes.lineage(themes.discover(project_dir), options.theme)
        except HandoutError as exc:
            raise UsageError(exc.problem) from None
    policy = read_policy(paths, options, config)
    notify = notify or (lambda text: click.echo(text, err=True))
    report = progress or (lambda result: None)
    replaced = [BuildResult(source=page, output=markdown, status="superseded")
                for path in paths if path.is_dir() for page, markdown in superseded(path).items()]
    for result in replaced:
        report(result)
    waiting = f"{display_path(options.output_dir)}/: another build of this project is running; waiting"
    with output_lock(options.output_dir, lambda: notify(waiting)):
        return build_locked(articles, options, config, policy, report, notify, stamps,
                            stamped or (lambda index, result: None)) + replaced


def read_policy(paths: list[Path], options: BuildOptions, config: Config) -> sandbox.ReadPolicy:
    """What typesetting the articles in `paths` may read."""
    # The project's own settings may name files elsewhere: its logo, a --css file (the file, not its folder).
    extra_roots = [options.extra_css.resolve()] if options.extra_css else []
    extra_roots += [config.defaults.logo] if config.defaults.logo else []
    extra_roots += [profile] if (profile := options.printing.profile()) else []
    policy = sandbox.read_policy(options.project_dir, paths, extra_roots, options.allow_remote,
                                 options.trusted_networks)
    return dataclasses.replace(policy, max_pixels=config.limits.image_pixels)


def setup_for(options: BuildOptions, config: Config, policy: sandbox.ReadPolicy, paper: str) -> Setup:
    """What every worker of this build needs, as the build has it."""
    from . import pool

    return Setup(options, config, policy, Path.cwd(), pool.environment(),
                 shared_roots=(*themes.template_roots(options.project_dir.resolve()), *fonts.font_dirs()),
                 paper=paper)


def build_locked(articles: list[Path], options: BuildOptions, config: Config, policy: sandbox.ReadPolicy,
                 report: Callable[[BuildResult], None], notify: Callable[[str], None],
                 stamps: Sequence[StampBatch], stamped: Callable[[int, BuildResult], None]) -> list[BuildResult]:
    """build(), once this build alone writes the output folder."""
    project_dir = options.project_dir.resolve()
    manifest = Manifest(options.output_dir)
    unsaved: list[OutputError] = []

    def save_manifest() -> None:
        # A manifest that cannot be saved (a full disk) leaves the last one, whose entries do
        # not match the files written since: the next build makes those handouts again.
        try:
            manifest.save()
        except OutputError as exc:
            if not unsaved:
                notify(f"{exc.format_message()}; the next build makes this build's handouts again")
            unsaved.append(exc)
    paper = system_paper()
    shared = build_digest(
        themes.template_roots(project_dir),
        [options.project_dir / CONFIG_FILE, *([options.extra_css] if options.extra_css else [])],
        repr((options.theme, options.paper, paper, options.allow_remote, options.trusted_networks,
              options.booklet, options.n_up, options.printing, options.fit)),
    )
    results: dict[int, BuildResult] = {}
    jobs: dict[object, Job | StampJob] = {}
    fingerprints: dict[int, str] = {}
    # Each output name, booklets and n-up sheets too, is made by one article of a build.
    claimed: dict[Path, tuple[Path, str]] = {}
    for index, source in enumerate(articles):
        try:
            sandbox.check_source(source, policy)
            article = load_article(source, config.limits.article_bytes)
            target = output_path(options.output_dir, article.slug)
            claim(claimed, source, article.slug, options)
        except HandoutError as exc:
            results[index] = BuildResult(source=source, status="failed", error=exc)
            report(results[index])
            continue
        fingerprints[index] = article_digest(source, article.body + repr(article.meta), shared)
        entry = None if options.force else manifest.unchanged(target, fingerprints[index], policy)
        if entry:
            results[index] = BuildResult(source=source, output=target, status="unchanged", pages=entry.pages,
                                         size=entry.files[target.name][0], diagnostics=diagnostics_of(entry))
            report(results[index])
        else:
            jobs[index] = Job(article, target)
        # After the article's job: workers take the longest first, and the article is.
        jobs.update({("stamps", at): StampJob(article, batch.lines, batch.target) for at, batch in enumerate(stamps)})

    # A build with nothing to typeset (a no-op rebuild) starts no workers, nor loads what they need.
    for key, typeset in typeset_all(jobs, setup_for(options, config, policy, paper)) if jobs else ():
        if isinstance(key, tuple):
            stamped(key[1], written(typeset))
            continue
        index = cast(int, key)
        results[index] = result = written(typeset)
        if result.ok and result.output:
            # Saved at once: a build stopped after this still leaves a manifest true to disk.
            manifest.record(result.output, result.source, fingerprints[index], result.pages, result.diagnostics,
                            (result.output, *result.extras), result.inputs, policy)
            save_manifest()
        report(result)

    built_targets = {result.output for result in results.values() if result.output}
    stale = stale_handouts(manifest, options, built_targets, {Path(p).resolve() for p in articles})
    for result in stale:
        report(result)
    if any(result.status == "pruned" for result in stale):
        save_manifest()
    return [results[index] for index in range(len(articles))] + stale


def claim(claimed: dict[Path, tuple[Path, str]], source: Path, slug: str, options: BuildOptions) -> None:
    """Claim the files `source` makes for this build, or say which article made one first."""
    kinds = ("", *(["booklet"] if options.booklet else []), *(f"{n}up" for n in options.n_up))
    for kind in kinds:
        name = output_path(options.output_dir, slug, kind)
        if name in claimed:
            first, first_kind = claimed[name]
            made = f" (its {KINDS[first_kind]})" if first_kind else ""
            mine = f", the name of this article's {KINDS[kind]}" if kind else ""
            raise OutputError(f"{first} already makes {name}{made}{mine}; rename one of them", source)
    claimed.update((output_path(options.output_dir, slug, kind), (source, kind)) for kind in kinds)


def typeset_all(jobs: dict[object, Job | StampJob], setup: Setup):
    """(index, Typeset) for each job, as each finishes, typeset in worker processes.

    Even one handout is typeset in a worker: the time limit kills the worker
    that runs past it, which stops any stage (Markdown, layout, a slow image)
    however it is stuck, and the build goes on.
    """
    if not jobs:
        return
    from . import pool

    fonts.shared_fonts()  # made once here, before the workers would each make them
    workers = min(setup.options.jobs or os.cpu_count() or 1, len(jobs))
    # Longest first, so no worker is left with a long article while the other idles.
    order = sorted(jobs, key=lambda index: -len(jobs[index].article.body))
    seconds = setup.config.limits.render_seconds
    with tempfile.TemporaryDirectory(prefix="handout-build-", ignore_cleanup_errors=True) as scratch:
        yield from pool.run({index: jobs[index] for index in order}, typeset_job, start_worker,
                            dataclasses.replace(setup, scratch=Path(scratch)), workers, TASKS_PER_WORKER,
                            lost=job_lost, overran=functools.partial(job_overran, seconds), seconds=seconds)


def job_lost(job: Job | StampJob, why: str) -> Typeset:
    return Typeset(BuildResult(source=job.article.source, status="failed", error=ArticleError(why, job.article.source)))


def job_overran(seconds: float, job: Job | StampJob) -> Typeset:
    return Typeset(BuildResult(source=job.article.source, status="failed", error=ArticleError(
        f"typesetting took longer than {seconds:g} s and was stopped ([limits] render_seconds in handout.toml)",
        job.article.source)))


def written(typeset: Typeset) -> BuildResult:
    """The result once its files are written; a file that cannot be written fails it."""
    result = typeset.result
    try:
        for path, data in typeset.files:
            write_atomically(path, data, result.source)
    except OutputError as exc:
        return dataclasses.replace(result, status="failed", output=None, extras=(), error=exc)
    return result


@dataclass(frozen=True)
class Typesetter:
    """A worker's state, set up once by start_worker and given to each of its jobs."""

    setup: Setup
    renderer: render.Renderer


def start_worker(setup: Setup) -> Typesetter:
    from . import pool
    from .typeset import render  # Jinja2: only where handouts are made

    os.chdir(setup.cwd)
    pool.mirror_environment(setup.environment)
    if setup.scratch is not None:
        tempfile.tempdir = str(setup.scratch)
    fonts.shared_fonts()
    return Typesetter(setup, render.Renderer(setup.options.project_dir, setup.config.defaults,
                                             setup.options.extra_css, setup.paper))


def typeset_job(typesetter: Typesetter, job: Job | StampJob) -> Typeset:
    if isinstance(job, StampJob):
        return typeset_stamps(typesetter, job)
    # Markdown, Pygments, WeasyPrint: only where handouts are made
    from . import pool
    from .markup import html as markup
    from .output import imposition
    from .typeset import pdf, render

    setup = typesetter.setup
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
        budget = options.fit or article.meta.fit
        # Fitted for a folded booklet, the pages are the booklet's own: half the sheet, not shrunk.
        half_size = bool(budget and options.booklet == "a5")
        page = typesetter.renderer.render(article, body, options.theme, options.paper, half_size)
        with pool.cycle_collection_paused():
            fitted = fit_page(typesetter, page, article, budget, half_size) if budget else None
            document = pdf.typeset(page, source, policy, options.printing, fitted.css if fitted else "")
        diagnostics.extend(document.diagnostics)
        if fitted and budget:
            diagnostics.extend(fit_diagnostics(fitted, budget, options.booklet, source))
        extras = {}
        if options.booklet:
            # Half-size pages go on sheets of the paper they were halved from, at their own size.
            width, height = PAPER_POINTS[page.paper]
            extras["booklet"] = imposition.booklet(document.data, options.booklet,
                                                   (height, width) if half_size else None)
        for n in options.n_up:
            extras[f"{n}up"] = imposition.n_up(document.data, n)
    except HandoutError as exc:
        return Typeset(BuildResult(source=source, status="failed", diagnostics=tuple(diagnostics), error=exc))
    files = {job.target: document.data,
             **{output_path(job.target.parent, job.target.stem, kind): data for kind, data in extras.items()}}
    return Typeset(BuildResult(
        source=source, output=job.target, pages=document.pages, size=len(document.data),
        theme=page.theme, paper=render.HALF_PAPERS[page.paper] if half_size else page.paper,
        seconds=time.perf_counter() - started,
        diagnostics=tuple(diagnostics), extras=tuple(files)[1:],
        inputs=tuple(path for path in document.files_read if not shared_file(path, setup)),
    ), tuple(files.items()))


def typeset_stamps(typesetter: Typesetter, job: StampJob) -> Typeset:
    """The lines typeset; a ThemeError naming its stamps.html when they are not drawn apart, as
    handout mail needs them (here, in the workers: reading the drawings is not free)."""
    from . import pool
    from .mail import underlay
    from .typeset import pdf

    options, source = typesetter.setup.options, job.article.source
    try:
        page = typesetter.renderer.render_stamps(job.article, job.lines, options.theme, options.paper)
        with pool.cycle_collection_paused():
            document = pdf.typeset(page, source, typesetter.setup.policy)
        drawn = underlay.drawn_in(document.data)
        if len(drawn) != len(job.lines):
            raise ThemeError(f"{len(drawn)} line{'s' * (len(drawn) != 1)} drawn apart for {len(job.lines)} personal"
                             " lines; the theme's stamps.html must print each line in an element of its own whose"
                             " opacity is below 1, and nothing else",
                             typesetter.renderer.template_file(page.theme, "stamps.html", source))
    except HandoutError as exc:
        return Typeset(BuildResult(source=source, status="failed", error=exc))
    return Typeset(BuildResult(source=source, output=job.target, pages=document.pages, size=len(document.data),
                               theme=page.theme, paper=page.paper),
                   ((job.target, document.data), (underlay.drawings_file(job.target), json.dumps(drawn).encode())))


def fit_page(typesetter: Typesetter, page: render.Page, article: Article, budget: int,
             half_size: bool) -> fit.Fitted:
    """The stylesheet that lays the page out on `budget` pages, or the article's error saying how
    close the theme's floors came."""
    from .typeset import fit, pdf

    setup = typesetter.setup
    floors = fit.Floors.of(typesetter.renderer.check_theme(page.theme, article.source))
    try:
        return fit.fit(lambda css: pdf.page_count(page, setup.policy, setup.options.printing, css),
                       page.css, floors, budget, half_size)
    except fit.Unfittable as exc:
        raise ArticleError(
            f"does not fit on {budget} page{'s' * (budget != 1)}: {exc.pages} pages at the theme's floors"
            f" (body {floors.body_pt:g} pt, line height {floors.line_height:g}, margins"
            f" {'/'.join(f'{side:g}' for side in floors.margin_mm)} mm); nothing was cut, so shorten the"
            " article or allow more pages", article.source) from None


def fit_diagnostics(fitted: fit.Fitted, budget: int, booklet: str | None, source: Path) -> list[Diagnostic]:
    """What fitting changed (W130), and the blank pages a folded booklet is left with (W131)."""
    found = []
    if fitted.changes:
        found.append(Diagnostic("W130", f"fitted on {fitted.pages} page{'s' * (fitted.pages != 1)} (--fit {budget}):"
                                        f" {', '.join(fitted.changes)}", source))
    blanks = -fitted.pages % 4
    if booklet and blanks:
        found.append(Diagnostic("W131", f"the booklet's {fitted.pages} page{'s' * (fitted.pages != 1)} leave"
                                        f" {blanks} blank (a folded sheet holds 4 pages)", source))
    return found


def shared_file(path: Path, setup: Setup) -> bool:
    """Whether a file typesetting read is one every handout shares (a theme's template or
    stylesheet, a font): the build's shared digest covers those."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(root.resolve()) for root in setup.shared_roots)


def stale_handouts(manifest: Manifest, options: BuildOptions, built: set[Path],
                   articles: set[Path]) -> list[BuildResult]:
    """Handouts in the manifest whose article is gone; deleted with --prune."""
    found = []
    for name, entry in list(manifest.entries.items()):
        target, source = options.output_dir / name, manifest.source_of(entry)
        if target in built or source in articles or source.exists():
            continue
        if options.prune:
            for written in entry.files:
                (options.output_dir / written).unlink(missing_ok=True)
            manifest.forget(target)
        found.append(BuildResult(source=source, output=target, status="pruned" if options.prune else "stale"))
    return found
