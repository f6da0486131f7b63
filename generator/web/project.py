"""What the web page shows and does, over the Python API: plain data in, plain data out.

The request handlers in app.py only call these; every build, check and import goes
through the same functions the command line uses.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import watchfiles

from ..article import PAPER_SIZES, Article, Metadata, Removal
from ..build import BuildOptions, BuildResult, build
from ..check.verify import CheckReport, check, check_options
from ..config import Config, load_config
from ..diagnostics import Diagnostic, with_removals_summarised
from ..errors import HandoutError, OutputError, UsageError
from ..output import imposition
from ..output.files import output_path, write_atomically
from ..output.manifest import Manifest, as_recorded
from ..output.printing import MARKS, PrintOptions
from ..read.importer import imported_markdown, read_dropped, read_paste
from ..read.load import find_articles, load_article, slugify
from . import pictures

# Where the first-page pictures of the project's handouts are kept, in its output folder.
PICTURES = ".pictures"
# The sheets made from a handout for download, by name: what `--booklet` and `--n-up` make.
SHEETS = {"booklet": lambda data: imposition.booklet(data, "full"),
          "booklet-a5": lambda data: imposition.booklet(data, "a5"),
          "2up": lambda data: imposition.n_up(data, 2), "4up": lambda data: imposition.n_up(data, 4)}
BLEED = re.compile(r"\d+(\.\d+)?(mm|cm|in|pt|px)")
# Previews kept at once; older ones are deleted.
KEPT_PREVIEWS = 20
ORIGIN = "a paste by handout serve"


@dataclass(frozen=True)
class Handout:
    """One article of content/ and the state of its handout."""

    article: Path
    title: str
    # built, out of date, not built, failed
    status: str
    pdf: Path | None
    message: str = ""
    # The check of its PDF, when this server has checked the PDF now on disk.
    report: CheckReport | None = None


@dataclass(frozen=True)
class Draft:
    """What the New handout page holds: the fields a person can change, and the text."""

    title: str
    body: str
    author: str | None = None
    date: str | None = None
    lang: str | None = None
    source_url: str | None = None
    theme: str | None = None
    paper: str | None = None
    removed: tuple[Removal, ...] = ()

    @property
    def article(self) -> Article:
        meta = Metadata(title=self.title, author=self.author, date=self.date, lang=self.lang,
                        source_url=self.source_url, theme=self.theme, paper=self.paper)
        return Article(source=Path("pasted.md"), slug=self.slug, meta=meta, body=self.body, removed=self.removed)

    @property
    def markdown(self) -> str:
        """The article as `handout import` would write it."""
        return imported_markdown(self.article, ORIGIN)

    @property
    def slug(self) -> str:
        return slugify(self.title)


@dataclass(frozen=True)
class Choices:
    """What the Handout page asks of one handout: another theme or paper, and the print shop's
    bleed and marks (as `handout build --theme --paper --bleed --marks`)."""

    theme: str | None = None
    paper: str | None = None
    bleed: str | None = None
    marks: str | None = None

    def __post_init__(self) -> None:
        if self.paper and self.paper not in PAPER_SIZES:
            raise UsageError(f"paper is one of {', '.join(PAPER_SIZES)}, not '{self.paper}'")
        if self.bleed and not BLEED.fullmatch(self.bleed):
            raise UsageError(f"bleed takes a length such as 3mm, not '{self.bleed}'")
        if self.marks and self.marks not in MARKS:
            raise UsageError(f"marks are one of {', '.join(MARKS)}, not '{self.marks}'")


@dataclass(frozen=True)
class Preview:
    """A handout as the page shows it: a draft or another theme built into a folder of its own,
    or (result None) the handout in output/ as it is."""

    id: str
    slug: str
    folder: Path
    pdf: Path | None
    page_count: int
    result: BuildResult | None
    report: CheckReport | None

    @property
    def error(self) -> str | None:
        return self.result.error.format_message() if self.result and self.result.error else None

    @property
    def findings(self) -> tuple[Diagnostic, ...]:
        """What building found, then what checking the PDF found."""
        built = with_removals_summarised(self.result.diagnostics) if self.result else []
        return (*built, *(self.report.diagnostics if self.report else ()))


class Project:
    """A handout project (content/, output/, handout.toml) as the web page sees it."""

    def __init__(self, folder: Path, allow_remote: bool = False):
        self.folder = folder.resolve()
        self.content = self.folder / "content"
        self.output = self.folder / "output"
        self.allow_remote = allow_remote
        # The last build of each article by this server: its failures are shown.
        self.failures: dict[Path, str] = {}
        # The check of each PDF this server checked, under the PDF's (size, time) then.
        self.reports: dict[Path, tuple[tuple[int, int], CheckReport]] = {}
        # The previews the page may still ask pictures and sheets of, oldest first.
        self.shown: dict[str, Preview] = {}
        self.previews = Path(tempfile.mkdtemp(prefix="handout-serve-"))

    def close(self) -> None:
        shutil.rmtree(self.previews, ignore_errors=True)

    @property
    def config(self) -> Config:
        return load_config(self.folder)

    @property
    def max_bytes(self) -> int:
        return self.config.limits.article_bytes

    def options(self, output_dir: Path, force: bool = False) -> BuildOptions:
        return BuildOptions(output_dir=output_dir, project_dir=self.folder, config=self.config,
                            allow_remote=self.allow_remote, force=force)

    def articles(self) -> list[Path]:
        return find_articles([self.content]) if self.content.is_dir() else []

    def article(self, name: str) -> Path:
        """The article of content/ called `name`: only those, so no other file can be named."""
        for path in self.articles():
            if path.name == name:
                return path
        raise KeyError(name)

    def handouts(self) -> list[Handout]:
        manifest = Manifest(self.output)
        return [self.handout_of(path, manifest) for path in self.articles()]

    def handout(self, name: str) -> Handout:
        """The handout of the article of content/ called `name`."""
        return self.handout_of(self.article(name), Manifest(self.output))

    def handout_of(self, path: Path, manifest: Manifest) -> Handout:
        try:
            article = load_article(path, self.max_bytes)
        except HandoutError as exc:
            return Handout(path, path.stem, "failed", None, exc.format_message())
        pdf = output_path(self.output, article.slug)
        entry = manifest.entries.get(pdf.name)
        if path in self.failures:
            status = "failed"
        elif not pdf.is_file():
            status = "not built"
        elif (entry and manifest.source_of(entry) == path.resolve()
              and all(as_recorded(self.output / name, stamp) for name, stamp in entry.files.items())
              and path.stat().st_mtime_ns <= entry.files[pdf.name][1]):
            status = "built"
        else:
            status = "out of date"
        shown = pdf if pdf.is_file() else None
        return Handout(path, article.meta.title, status, shown, self.failures.get(path, ""),
                       self.known_report(shown) if shown else None)

    def build(self, articles: list[Path], force: bool = False) -> list[BuildResult]:
        """Build the articles into output/, and check each handout built (as `build --check`)."""
        results = build(articles, self.options(self.output, force), notify=lambda text: None)
        for result in results:
            if result.status in ("built", "unchanged", "failed"):
                self.failures.pop(result.source, None)
                if result.error:
                    self.failures[result.source] = result.error.format_message()
                elif result.output:
                    self.checked(result.source, result.output, self.output)
        return results

    def checked(self, source: Path, pdf: Path, output_dir: Path) -> CheckReport:
        """The check of the handout `pdf` of `source`, made once for each version of the PDF."""
        known = self.known_report(pdf)
        if known:
            return known
        stamp = stamp_of(pdf)
        options = dataclasses.replace(check_options(self.config, output_dir, source.parent,
                                                    allow_remote=self.allow_remote), project_dir=self.folder)
        report = check([source], options)[0]
        self.reports[pdf] = (stamp, report)
        return report

    def known_report(self, pdf: Path) -> CheckReport | None:
        stamp, report = self.reports.get(pdf, (None, None))
        return report if pdf.is_file() and stamp == stamp_of(pdf) else None

    async def watch(self, changed: Callable[[dict], None], stop: asyncio.Event) -> None:
        """Build each article of content/ that is written from outside the page (an editor,
        a synced folder), telling `changed` before and after, until `stop` is set."""
        self.content.mkdir(parents=True, exist_ok=True)
        async for changes in watchfiles.awatch(self.content, stop_event=stop, recursive=False):
            touched = {Path(path).name for _, path in changes}
            articles = [path for path in self.articles() if path.name in touched]
            names = sorted(touched)
            changed({"status": "building", "articles": names})
            try:
                if articles:
                    await asyncio.to_thread(self.build, articles)
            except HandoutError as exc:  # the build as a whole could not run (its output folder)
                changed({"status": "failed", "articles": names, "error": exc.format_message()})
                continue
            changed({"status": "done", "articles": names})

    def picture(self, pdf: Path) -> Path:
        return pictures.first_page(pdf, self.output / PICTURES)

    def read(self, content: str, is_html: bool) -> tuple[Draft, tuple[Diagnostic, ...]]:
        """The draft of a pasted article, and what reading it found (removals summed up)."""
        return drafted(read_paste(content, is_html, self.max_bytes))

    def read_file(self, name: str, data: bytes) -> tuple[Draft, tuple[Diagnostic, ...]]:
        """The draft of a file dropped on the page (.md, .txt, .html), as a build reads it."""
        return drafted(read_dropped(data, name, self.max_bytes))

    def preview(self, draft: Draft) -> Preview:
        """The draft built into a folder of its own (never content/), checked."""
        preview_id, folder = self.new_preview()
        source = folder / "content" / f"{draft.slug}.md"
        write_atomically(source, draft.markdown.encode("utf-8"))
        return self.render_into(preview_id, folder, source, self.options(folder / "output"))

    def render(self, name: str, choices: Choices) -> Preview:
        """The article of content/ called `name` built with `choices` into a folder of its own
        (output/ keeps the handout as the project builds it), checked."""
        source = self.article(name)
        preview_id, folder = self.new_preview()
        options = dataclasses.replace(self.options(folder / "output"), theme=choices.theme, paper=choices.paper,
                                      printing=PrintOptions(bleed=choices.bleed, marks=choices.marks))
        return self.render_into(preview_id, folder, source, options)

    def render_into(self, preview_id: str, folder: Path, source: Path, options: BuildOptions) -> Preview:
        result = build([source], options, notify=lambda text: None)[0]
        report = self.checked(source, result.output, options.output_dir) if result.ok and result.output else None
        slug = result.output.stem if result.output else source.stem
        return self.keep(Preview(preview_id, slug, folder, result.output if result.ok else None, result.pages,
                                 result, report))

    def built(self, name: str) -> Preview:
        """The handout of the article `name` as it is in output/ (checked), to show its pages."""
        handout = self.handout(name)
        if handout.pdf is None:
            raise KeyError(name)
        preview_id, folder = self.new_preview()
        report = self.checked(handout.article, handout.pdf, self.output)
        return self.keep(Preview(preview_id, handout.pdf.stem, folder, handout.pdf, report.pages, None, report))

    def new_preview(self) -> tuple[str, Path]:
        preview_id = secrets.token_hex(8)
        return preview_id, self.previews / preview_id

    def keep(self, preview: Preview) -> Preview:
        self.shown[preview.id] = preview
        for old in list(self.shown)[:max(0, len(self.shown) - KEPT_PREVIEWS)]:
            shutil.rmtree(self.shown.pop(old).folder, ignore_errors=True)
        return preview

    def page_picture(self, preview_id: str, number: int) -> Path:
        """A picture of page `number` of a preview, drawn when first asked for."""
        preview = self.shown[preview_id]
        if preview.pdf is None or not 1 <= number <= preview.page_count:
            raise KeyError(number)
        target = preview.folder / "pages" / f"page-{number}.png"
        if not target.is_file():
            pictures.render_pages(preview.pdf, target.parent, number - 1)
        return target

    def preview_sheets(self, preview_id: str, kind: str) -> Path:
        """A preview's handout ("handout") or one of its SHEETS, made when first asked for."""
        preview = self.shown[preview_id]
        if preview.pdf is None:
            raise KeyError(kind)
        return preview.pdf if kind == "handout" else self.sheets(preview.pdf, kind, preview.folder)

    def handout_sheets(self, name: str, kind: str) -> Path:
        """One of the SHEETS of the handout in output/ of the article `name`."""
        handout = self.handout(name)
        if handout.pdf is None:
            raise KeyError(name)
        return self.sheets(handout.pdf, kind, self.previews / "sheets" / f"{handout.pdf.stem}-{stamp_of(handout.pdf)}")

    def sheets(self, pdf: Path, kind: str, folder: Path) -> Path:
        """`pdf` imposed as `kind` (booklet, booklet-a5, 2up, 4up), by the build's imposition."""
        target = folder / f"{pdf.stem}-{kind}.pdf"
        if not target.is_file():
            write_atomically(target, SHEETS[kind](pdf.read_bytes()))
        return target

    def shown_path(self, path: Path | None) -> Path | None:
        """A file as the page names it: within the project, else (a preview's) by its name."""
        if path is None or not path.is_absolute():
            return path
        return path.relative_to(self.folder) if path.is_relative_to(self.folder) else Path(path.name)

    def save(self, draft: Draft, overwrite: bool = False) -> BuildResult:
        """The draft written as content/<slug>.md, as `handout import` writes it, and built."""
        target = self.content / f"{draft.slug}.md"
        if target.exists() and not overwrite:
            raise OutputError(f"content/{target.name} exists already; tick 'Replace it' to overwrite it", target)
        write_atomically(target, draft.markdown.encode("utf-8"))
        return self.build([target])[0]


def drafted(article: Article) -> tuple[Draft, tuple[Diagnostic, ...]]:
    """The draft of an article read from the page, and what reading it found (removals summed up)."""
    meta = article.meta
    draft = Draft(title=meta.title, body=article.body, author=meta.author, date=meta.date, lang=meta.lang,
                  source_url=meta.source_url, theme=meta.theme, paper=meta.paper, removed=article.removed)
    return draft, tuple(with_removals_summarised(article.diagnostics))


def stamp_of(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns
