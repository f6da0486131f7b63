"""`handout import`: a pasted (.txt) or saved (.html) web page, or a page on the web,
written out as Markdown for editing.

The Markdown is exactly what `handout build` renders for the source file, so
the only words that differ from the original are the removals the reader
reports; those are kept at the end of the Markdown in a comment (which never
prints), each with its kind and source line, so a user can put a block back.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from ..article import Article, Metadata, Removal
from ..diagnostics import Diagnostic
from ..errors import OutputError, Refused, UsageError
from ..output.files import write_atomically
from ..remote import fetch_remote
from ..sandbox import read_policy
from .load import EXTENSIONS, HtmlLoader, MarkdownLoader, TextLoader, check_size, decoded, slug_for, slugify

IMPORTERS = {ext: loader for loader in (TextLoader(), HtmlLoader()) for ext in loader.extensions}
WEB_ADDRESS = re.compile(r"^https?://", re.I)


@dataclass(frozen=True)
class ImportResult:
    source: Path
    output: Path
    diagnostics: tuple[Diagnostic, ...]
    # The page as fetched, kept beside the Markdown, when the source was an address.
    page: Path | None = None


def is_web_address(source: str) -> bool:
    return bool(WEB_ADDRESS.match(source))


def import_article(source: str | Path, content_dir: Path = Path("content"), overwrite: bool = False,
                   allow_remote: bool = False, trusted_networks: tuple[str, ...] = ()) -> ImportResult:
    """Write `source` (a .txt or .html file, or an http(s) address) as content_dir/<name>.md."""
    page = None
    if isinstance(source, str) and is_web_address(source):
        if not allow_remote:
            raise UsageError(f"{source} is on the web; handout fetches nothing unasked (add --allow-remote)")
        page = fetch_page(source, content_dir, overwrite, trusted_networks)
        path = page
    else:
        path = Path(source)
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
    loader = IMPORTERS.get(path.suffix.lower())
    if loader is None:
        raise UsageError(f"import takes a pasted or saved web page ({', '.join(IMPORTERS)}) or an "
                         "http(s) address", path)
    article = loader.load(path)
    target = content_dir / f"{article.slug}.md"
    if target.exists() and not overwrite:
        raise OutputError(f"{target} exists; pass --force to overwrite it", path)
    write_atomically(target, imported_markdown(article, f"{path.name} by handout import").encode("utf-8"), path)
    return ImportResult(source=path, output=target, diagnostics=article.diagnostics, page=page)


def read_paste(content: str, is_html: bool, max_bytes: int) -> Article:
    """The article in what was pasted into a browser: its HTML, read as a saved page is (so
    headings, lists and links survive), or its plain text, read as a pasted .txt file is.
    Its slug comes from its title."""
    path = Path("pasted.html" if is_html else "pasted.txt")
    data = content.encode("utf-8")
    check_size(len(data), max_bytes, path)
    article = HtmlLoader().read(data, path) if is_html else TextLoader().read(decoded(data, path), path)
    return dataclasses.replace(article, slug=slugify(article.meta.title))


def read_dropped(data: bytes, name: str, max_bytes: int) -> Article:
    """The article in a file dropped on the web page (.md, .txt or .html), read as a build
    reads that kind of file; `name` (the file's own name, no folder) names it in messages."""
    path = Path(Path(name).name or "dropped.txt")
    check_size(len(data), max_bytes, path)
    suffix = path.suffix.lower()
    if suffix in HtmlLoader.extensions:
        article = HtmlLoader().read(data, path)
    elif suffix in TextLoader.extensions:
        article = TextLoader().read(decoded(data, path), path)
    elif suffix in MarkdownLoader.extensions:
        article = MarkdownLoader().read(decoded(data, path), path)
    else:
        raise UsageError(f"not an article: handout reads {', '.join(EXTENSIONS)} files", path)
    return article


def imported_markdown(article: Article, origin: str) -> str:
    """The Markdown an import writes for `article`: front matter, body, and what was left out.
    `origin` says where it came from, in a comment of the front matter."""
    return front_matter(article.meta, origin) + article.body + removed_comment(article.removed)


def front_matter(meta: Metadata, origin: str) -> str:
    fields = {"title": meta.title, "author": meta.author, "date": meta.date, "lang": meta.lang,
              "source_url": meta.source_url, "theme": meta.theme, "paper": meta.paper}
    dumped = yaml.safe_dump({k: v for k, v in fields.items() if v}, allow_unicode=True, sort_keys=False,
                            width=10_000)
    return f"---\n# Imported from {origin}.\n{dumped}---\n\n"


def removed_comment(removed: tuple[Removal, ...]) -> str:
    """What the reader left out, as a Markdown comment: it never prints, and any
    block of it can be moved back above the comment by hand."""
    if not removed:
        return ""
    blocks = "\n\n".join(f"[{removal.kind}, line {removal.line}]\n{removal.text}" for removal in removed)
    # "--" would end the comment early; a space keeps the words.
    blocks = blocks.replace("--", "- -")
    return ("\n<!-- handout import left these parts of the page out (menus, share buttons, related links...).\n"
            f"Move a block above this comment to keep it.\n\n{blocks}\n-->\n")


def fetch_page(url: str, content_dir: Path, overwrite: bool, trusted_networks: tuple[str, ...]) -> Path:
    """The page at `url`, fetched as builds fetch images (public addresses only, with
    time and size limits) and kept as content_dir/<name>.html."""
    policy = read_policy(Path("."), [], allow_remote=True, trusted_networks=trusted_networks)
    try:
        body, content_type, final_url = fetch_remote(url, policy, accept="text/html, application/xhtml+xml")
    except Refused as exc:
        raise UsageError(f"cannot import {url}: {exc}") from None
    if "html" not in content_type.lower():
        raise UsageError(f"cannot import {url}: it is {content_type.split(';')[0]}, not a web page")
    path = content_dir / f"{slug_for(Path(page_name(final_url)))}.html"
    if path.exists() and not overwrite:
        raise OutputError(f"{path} exists; pass --force to overwrite it", path)
    # As a browser's "Save page as" marks it, so the page's address stays with it.
    write_atomically(path, f"<!-- saved from url=({len(final_url):04d}){final_url} -->\n".encode() + body, path)
    return path


def page_name(url: str) -> str:
    """A file name for a page from its address: its last path segment, else its host."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    name = segments[-1] if segments else parts.hostname or "page"
    return re.sub(r"\.(s?html?|php|aspx?|jsp)$", "", name, flags=re.I) + ".html"
