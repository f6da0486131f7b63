"""What the web page shows and does, over the Python API: plain data in, plain data out.

The request handlers in app.py only call these; every build, check and import goes
through the same functions the command line uses.
"""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..article import Article, Metadata, Removal
from ..build import BuildOptions, BuildResult, build, find_articles
from ..check.verify import CheckReport, check, check_options
from ..config import Config, load_config
from ..diagnostics import Diagnostic, with_removals_summarised
from ..errors import HandoutError, OutputError
from ..output.files import output_path, write_atomically
from ..output.manifest import Manifest, as_recorded
from ..read.importer import imported_markdown, read_paste
from ..read.load import MEGABYTE, load_article, slugify
from . import pictures

# Where the first-page pictures of the project's handouts are kept, in its output folder.
PICTURES = ".pictures"
# Pages of a preview drawn as pictures: enough to judge a handout, few enough to be quick.
PREVIEW_PAGES = 12
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
class Preview:
    id: str
    pdf: Path | None
    pages: tuple[Path, ...]
    page_count: int
    result: BuildResult
    report: CheckReport | None


class Project:
    """A handout project (content/, output/, handout.toml) as the web page sees it."""

    def __init__(self, folder: Path, allow_remote: bool = False):
        self.folder = folder.resolve()
        self.content = self.folder / "content"
        self.output = self.folder / "output"
        self.allow_remote = allow_remote
        # The last build of each article by this server: its failures are shown.
        self.failures: dict[Path, str] = {}
        self.previews = Path(tempfile.mkdtemp(prefix="handout-serve-"))

    def close(self) -> None:
        shutil.rmtree(self.previews, ignore_errors=True)

    @property
    def config(self) -> Config:
        return load_config(self.folder)

    @property
    def max_bytes(self) -> int:
        return int(self.config.limits.article_mb * MEGABYTE)

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
        found = []
        for path in self.articles():
            try:
                article = load_article(path, self.max_bytes)
            except HandoutError as exc:
                found.append(Handout(path, path.stem, "failed", None, exc.format_message()))
                continue
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
            found.append(Handout(path, article.meta.title, status, pdf if pdf.is_file() else None,
                                 self.failures.get(path, "")))
        return found

    def build(self, articles: list[Path], force: bool = False) -> list[BuildResult]:
        results = build(articles, self.options(self.output, force), notify=lambda text: None)
        for result in results:
            if result.status in ("built", "unchanged", "failed"):
                self.failures.pop(result.source, None)
                if result.error:
                    self.failures[result.source] = result.error.format_message()
        return results

    def picture(self, pdf: Path) -> Path:
        return pictures.first_page(pdf, self.output / PICTURES)

    def read(self, content: str, is_html: bool) -> tuple[Draft, tuple[Diagnostic, ...]]:
        """The draft of a pasted article, and what reading it found (removals summed up)."""
        article = read_paste(content, is_html, self.max_bytes)
        meta = article.meta
        draft = Draft(title=meta.title, body=article.body, author=meta.author, date=meta.date, lang=meta.lang,
                      source_url=meta.source_url, removed=article.removed)
        return draft, tuple(with_removals_summarised(article.diagnostics))

    def preview(self, draft: Draft) -> Preview:
        """The draft built into a folder of its own (never content/), checked, and drawn."""
        self.forget_old_previews()
        preview_id = secrets.token_hex(8)
        folder = self.previews / preview_id
        source = folder / "content" / f"{draft.slug}.md"
        write_atomically(source, draft.markdown.encode("utf-8"))
        options = self.options(folder / "output")
        result = build([source.parent], options, notify=lambda text: None)[0]
        if not result.ok or result.output is None:
            return Preview(preview_id, None, (), 0, result, None)
        checking = dataclasses.replace(check_options(self.config, options.output_dir, source.parent,
                                                     allow_remote=self.allow_remote), project_dir=self.folder)
        report = check([source], checking)[0]
        pages = pictures.render_pages(result.output, folder / "pages", count=PREVIEW_PAGES)
        return Preview(preview_id, result.output, tuple(pages), result.pages, result, report)

    def preview_file(self, preview_id: str, name: str) -> Path:
        """A file of a preview: its PDF ("handout.pdf") or a page picture ("page-N.png")."""
        folder = self.previews / preview_id
        if name == "handout.pdf":
            found = list((folder / "output").glob("*.pdf"))
            if found:
                return found[0]
        elif (folder / "pages" / name).is_file():
            return folder / "pages" / name
        raise KeyError(name)

    def forget_old_previews(self) -> None:
        folders = sorted(self.previews.iterdir(), key=lambda p: p.stat().st_mtime_ns)
        for old in folders[:max(0, len(folders) - KEPT_PREVIEWS + 1)]:
            shutil.rmtree(old, ignore_errors=True)

    def save(self, draft: Draft, overwrite: bool = False) -> BuildResult:
        """The draft written as content/<slug>.md, as `handout import` writes it, and built."""
        target = self.content / f"{draft.slug}.md"
        if target.exists() and not overwrite:
            raise OutputError(f"content/{target.name} exists already; tick 'Replace it' to overwrite it", target)
        write_atomically(target, draft.markdown.encode("utf-8"))
        return self.build([target])[0]
