"""Stage 1: read an article file into an Article.

One small loader class per kind of file, chosen by extension, in the manner of
Pelican's readers. Everything a user can get wrong here raises ArticleError
naming the file and line.
"""

from __future__ import annotations

import datetime
import html
import re
from pathlib import Path

import yaml

from ..article import LANG_TAG, PAPER_SIZES, Article, Metadata
from ..config import MEGABYTE, Limits
from ..diagnostics import Diagnostic, did_you_mean
from ..errors import ArticleError, HandoutError, UsageError
from ..markup.sanitize import LINK_SCHEMES

KNOWN_KEYS = (
    "title", "subtitle", "author", "date", "lang", "source_url",
    "summary", "keywords", "theme", "paper", "cover", "toc", "slug", "personal", "fit",
)
# What other tools (pandoc, Hugo, Jekyll) call the same things: their articles
# build as they are. The key handout knows wins when both are given.
ALIASES = {"authors": "author", "description": "summary", "abstract": "summary", "excerpt": "summary",
           "tags": "keywords"}
SLUG = re.compile(r"^[\w][\w-]*$")
DEFAULT_MAX_BYTES = Limits().article_bytes
SWITCHES = ("cover", "toc")
# Names, not values: `slug: yes` would otherwise name the handout True.pdf.
TEXT_ONLY = ("slug", "lang", "theme", "paper", "source_url")
# The most pages `fit:` and `--fit` ask for.
MAX_FIT = 999
# Longer than browsers and QR codes take; no printed address should be.
MAX_ADDRESS = 2000

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
FIRST_H1 = re.compile(r"\A\s*#[ \t]+(?P<title>[^\n]+?)[ \t#]*(?:\n|\Z)")
# A README's centred heading, written in HTML: <h1 align="center"><img alt="Acme" ...></h1>.
FIRST_HTML_H1 = re.compile(r"\A\s*<h1(?:\s[^>]*)?>(?P<title>.{0,2000}?)</h1>[ \t]*(?:\n|\Z)", re.S | re.I)
# What a README may open with before its heading: a logo, a row of badges, as HTML tags with no
# text between them or as Markdown images (linked or not) alone on their lines.
LEADING_PICTURES = re.compile(
    r"""\A(?:[ \t]*\n|[ \t]*(?:(?:<(?:p|div|a|img|picture|source|br)\b[^<>]*>|</(?:p|div|a|picture)>)[ \t]*)+\n"""
    r"""|[ \t]*(?:\[?!\[[^\]\n]*\]\([^()\s]*\)(?:\]\([^()\s]*\))?[ \t]*)+\n)+""", re.I)
HTML_TAG = re.compile(r"<[^>]*>")
HTML_ALT = re.compile(r"""<img\s[^>]*?\balt\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)


def slug_for(path: Path) -> str:
    """The output name: the file's stem, lower-cased, anything unsafe turned into '-'."""
    return slugify(path.stem)


def slugify(name: str) -> str:
    """A name safe for a file: lower-cased, anything unsafe turned into '-'."""
    slug = re.sub(r"[^\w-]+", "-", name.lower()).strip("-.")
    return slug or "article"


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The file's bytes, within the size limit."""
    try:
        check_size(path.stat().st_size, max_bytes, path)
        return path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"cannot read the file ({exc.strerror})", path) from None


def check_size(size: int, max_bytes: int, path: Path) -> None:
    """An article over the size limit is refused before it is read."""
    if size > max_bytes:
        raise ArticleError(
            f"the file is {size / MEGABYTE:.1f} MB, over the {max_bytes / MEGABYTE:.1f} MB limit "
            "([limits] article_mb in handout.toml)", path)


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The file's text as UTF-8 with '\\n' line ends; a BOM is dropped."""
    return decoded(read_bytes(path, max_bytes), path)


def decoded(data: bytes, path: Path) -> str:
    """An article's bytes as text: UTF-8 with '\\n' line ends; a BOM is dropped."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ArticleError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            path, line,
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ArticleError("the file is empty", path)
    return text


def split_front_matter(text: str, path: Path) -> tuple[dict, list[Diagnostic], str, int]:
    """(fields, warnings, body, the body's first line) of an article that may start with
    a YAML front matter block; an article with nothing after it is an error."""
    fields: dict = {}
    diagnostics: list[Diagnostic] = []
    body, body_first_line = text, 1
    match = FRONT_MATTER.match(text)
    if match:
        fields, diagnostics = parse_front_matter(match["yaml"] or "", path)
        body = text[match.end():]
        body_first_line = text[: match.end()].count("\n") + 1
    if not body.strip():
        raise ArticleError("no article text after the front matter", path, body_first_line)
    return fields, diagnostics, body, body_first_line


# What may be Markdown's inline markup in a heading; a title without any is taken as written.
INLINE_MARKUP = re.compile(r"[\[\]*_`!<&:\\]")


def plain_title(heading: str) -> str:
    """A Markdown heading's words as a title: a README's '# [Acme](https://acme.dev) **fast**'
    reads 'Acme fast'; images (a logo, a badge) are left out, shortcodes are emoji."""
    if not INLINE_MARKUP.search(heading):
        return heading
    from markdown_it import MarkdownIt

    from ..markup.shortcodes import with_emoji

    (line,) = MarkdownIt("commonmark", {"html": True}).enable("strikethrough").parseInline(heading)
    parts = line.children or []
    words = "".join(child.content for child in parts if child.type in ("text", "code_inline"))
    # A heading that is only a logo is titled by its description.
    pictures = " ".join(child.content for child in parts if child.type == "image")
    return with_emoji(" ".join((words if words.strip() else pictures).split())) or heading


def html_title(heading: str) -> str:
    """The words of an HTML heading, or the description of the logo it holds; Markdown in it
    (GitHub reads `<h1>\\n\\n![urllib3](banner.svg)\\n\\n</h1>` so) read as plain_title does."""
    words = " ".join(html.unescape(HTML_TAG.sub(" ", heading)).split())
    alt = HTML_ALT.search(heading)
    return plain_title(words) if words else (" ".join(html.unescape(alt[1] or alt[2]).split()) if alt else "")


def first_heading(text: str) -> tuple[re.Match | None, str]:
    """The heading `text` opens with, a Markdown '# ' one or an HTML <h1>, and its words as a
    title; (None, "") when it opens with none, or with one that has no words nor logo."""
    if h1 := FIRST_H1.match(text):
        return h1, plain_title(h1["title"])
    if (html_h1 := FIRST_HTML_H1.match(text)) and (title := html_title(html_h1["title"])):
        return html_h1, title
    return None, ""


class MarkdownLoader:
    extensions = (".md", ".markdown")

    def load(self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
        return self.read(read_text(path, max_bytes), path)

    def read(self, text: str, path: Path) -> Article:
        """The article in Markdown `text`; `path` names it in messages and gives its slug."""
        fields, diagnostics, body, body_first_line = split_front_matter(text, path)
        if "title" not in fields:
            # Like pandoc: a leading '# Heading' is the title when the front matter has none; so
            # is a README's, in Markdown or HTML, under the logo or badges it may open with.
            pictures = LEADING_PICTURES.match(body)
            at = pictures.end() if pictures and pictures[0].strip() else 0
            heading, title = first_heading(body[at:])
            if heading and not at:
                fields["title"] = title
                body_first_line += body[: heading.end()].count("\n")
                body = body[heading.end():]
            elif heading:
                # The pictures stay, and the heading's lines are left blank: later lines keep
                # their numbers.
                fields["title"] = title
                body = body[:at] + "\n" * heading[0].count("\n") + body[at + heading.end():]
            else:
                fields["title"] = path.stem.replace("_", " ").replace("-", " ").strip() or "Untitled"
        slug = fields.pop("slug", None) or slug_for(path)
        return Article(
            source=path, slug=slug, meta=Metadata(**fields), body=body,
            body_first_line=body_first_line, diagnostics=tuple(diagnostics),
        )


class TextLoader:
    extensions = (".txt",)

    def load(self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
        return self.read(read_text(path, max_bytes), path)

    def read(self, text: str, path: Path) -> Article:
        """The article in pasted `text`; `path` names it in messages and gives its slug."""
        # A pasted page may start with front matter like a Markdown article's; what it
        # says (title, lang, author...) wins over what is found in the text.
        # The readers of pasted and saved pages are imported by the loaders that use them: a
        # no-op rebuild of Markdown articles loads each article, and needs neither.
        from . import plaintext

        fields, diagnostics, text, first_line = split_front_matter(text, path)
        converted = plaintext.convert(text, path, first_line, fields.get("lang"))
        found = {"title": converted.title, "author": converted.author, "date": converted.date,
                 "lang": converted.lang}
        slug = fields.pop("slug", None) or slug_for(path)
        return Article(
            source=path, slug=slug, meta=Metadata(**{**found, **fields}), body=converted.markdown,
            diagnostics=(*diagnostics, *converted.diagnostics),
            removed=converted.removed,
        )


class HtmlLoader:
    """A page saved from a browser: its article, found by trafilatura (read/savedpage.py)."""

    extensions = (".html", ".htm")

    def load(self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
        return self.read(read_bytes(path, max_bytes), path)

    def read(self, data: bytes, path: Path) -> Article:
        """The article in a page's HTML `data`; `path` names it in messages and gives its slug."""
        from . import language, savedpage

        page = savedpage.extract(data, path)
        meta = Metadata(title=page.title, author=page.author, date=page.date,
                        lang=page.lang or language.detect(page.markdown), source_url=page.url)
        return Article(source=path, slug=slug_for(path), meta=meta, body=page.markdown,
                       diagnostics=page.diagnostics, removed=page.removed)


LOADERS = (MarkdownLoader(), TextLoader(), HtmlLoader())
EXTENSIONS = tuple(ext for loader in LOADERS for ext in loader.extensions)


def load_article(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    path = Path(path)
    for loader in LOADERS:
        if path.suffix.lower() in loader.extensions:
            return loader.load(path, max_bytes)
    raise ArticleError(
        f"not an article: handout reads {', '.join(EXTENSIONS)} files", path
    )


class FrontMatterLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with a value it cannot make (2025-02-30, an integer of
    5,000 digits) a YAML error at its line rather than a bare ValueError."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            if isinstance(exc, yaml.YAMLError):
                raise
            shown = node.value if isinstance(node, yaml.ScalarNode) else node.tag
            raise yaml.constructor.ConstructorError(
                None, None, f"'{shown[:40]}' cannot be read ({str(exc).splitlines()[0][:80]})",
                node.start_mark) from None


def front_matter_mapping(source: str, path: Path,
                         error: type[HandoutError] = ArticleError) -> tuple[dict, dict[str, int]]:
    """The front matter's keys and values, and the file line of each key.

    The one reader of YAML front matter, for articles and mail messages alike:
    every problem is one `error` naming the file and the line.
    """
    try:
        loader = FrontMatterLoader(source)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else {}
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as exc:
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        line = source[: exc.position].count("\n") + 2
        raise error(f"broken YAML front matter: the character U+{code:04X} is not allowed", path, line) from None
    except yaml.YAMLError as exc:
        # The context mark is where the broken construct began (an unclosed
        # bracket's line); the problem mark alone may point at the end of input.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1  # +1 for 1-based, +1 for the opening '---'
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"broken YAML front matter: {problem}", path, line) from None
    if node is None:
        return {}, {}
    if not isinstance(data, dict):
        raise error("front matter must be 'key: value' lines", path, 2)
    key_lines = {
        key_node.value: key_node.start_mark.line + 2
        for key_node, _ in node.value
        if isinstance(key_node, yaml.ScalarNode)
    }
    return data, key_lines


def parse_front_matter(source: str, path: Path) -> tuple[dict, list[Diagnostic]]:
    """Check the YAML front matter; returns Metadata fields and warnings."""
    data, key_lines = front_matter_mapping(source, path)
    fields: dict = {}
    diagnostics: list[Diagnostic] = []
    for name, value in data.items():
        line = key_lines.get(name, 2) if isinstance(name, str) else 2
        key = ALIASES.get(name, name)
        if key != name and key in data:
            continue
        if key not in KNOWN_KEYS:
            suggestion = did_you_mean(str(key), KNOWN_KEYS)
            diagnostics.append(Diagnostic("W101", f"unknown front-matter key '{name}'{suggestion}", path, line))
            continue
        if value is None or value == "":
            continue
        fields[key] = front_matter_value(key, value, path, line)
    return fields, diagnostics


def check_address(address: str, what: str, path: Path, line: int | None) -> None:
    """An address that may be printed, linked and put in a QR code: http(s) or mailto, of sane length.

    What paper shows must be where the link goes: a javascript: or file:
    address leads nowhere a reader can go.
    """
    if len(address) > MAX_ADDRESS:
        raise ArticleError(f"{what} is {len(address):,} characters long, over {MAX_ADDRESS:,}", path, line)
    scheme = address.split(":", 1)[0].strip().lower() if ":" in address else ""
    if scheme not in LINK_SCHEMES:
        raise ArticleError(f"{what} must be an http, https or mailto address, not '{address[:60]}'", path, line)


def front_matter_value(key: str, value, path: Path, line: int | None):
    if key in SWITCHES:
        if not isinstance(value, bool):
            raise ArticleError(f"{key} must be true or false", path, line)
        return value
    if key == "fit":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_FIT:
            raise ArticleError(f"fit must be a number of pages from 1 to {MAX_FIT}, as 2", path, line)
        return value
    if key == "keywords":
        return keywords_value(value, path, line)
    if key == "author" and isinstance(value, list):
        value = authors_value(value, path, line)
    if isinstance(value, (dict, list)):
        raise ArticleError(f"{key} must be a single value, not a list or mapping", path, line)
    if not isinstance(value, str) and (key in TEXT_ONLY or isinstance(value, bool)):
        raise ArticleError(f"{key} must be text, not {str(value).lower()}; put it in quotes if it is",
                           path, line)
    if isinstance(value, (datetime.date, datetime.datetime)):
        value = value.isoformat()
    return text_value(key, str(value).strip(), path, line)


def keywords_value(value, path: Path, line: int | None) -> tuple[str, ...]:
    """Keywords as a list, or as one comma-separated line."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or any(isinstance(v, (dict, list)) for v in value):
        raise ArticleError("keywords must be a list or a comma-separated line", path, line)
    return tuple(str(v).strip() for v in value if str(v).strip())


def authors_value(value: list, path: Path, line: int | None) -> str:
    """Several authors, as names or as pandoc's {name: ..., affiliation: ...}, as one line."""
    names = [v.get("name") if isinstance(v, dict) else v for v in value]
    if not all(isinstance(n, (str, int, float)) for n in names):
        raise ArticleError("author must be a name, or a list of names", path, line)
    return ", ".join(str(n).strip() for n in names if str(n).strip())


def text_value(key: str, value: str, path: Path, line: int | None) -> str:
    """A front matter key's text, checked against what that key may hold."""
    if key == "lang" and not LANG_TAG.match(value):
        raise ArticleError(f"lang '{value}' is not a language tag such as en, de or pt-BR", path, line)
    if key == "slug" and not SLUG.match(value):
        raise ArticleError(
            f"slug '{value}' may hold only letters, digits, '-' and '_' (output names never come from paths)",
            path, line)
    if key == "source_url":
        check_address(value, "source_url", path, line)
    if key == "paper":
        value = value.lower()
        if value not in PAPER_SIZES:
            raise ArticleError(f"paper '{value}' is not one of: {', '.join(PAPER_SIZES)}", path, line)
    return value


# What `handout import` turns into Markdown.
IMPORTED_EXTENSIONS = TextLoader.extensions + HtmlLoader.extensions


def find_articles(paths: list[Path]) -> list[Path]:
    """Articles named, or found directly inside the folders named, in order.

    In a folder, a pasted or saved page (x.txt, x.html) that has a Markdown file
    of the same name beside it (x.md, what `handout import` wrote from it) is
    left out: the Markdown is the edited article. superseded() says which.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            replaced = superseded(path)
            found.extend(sorted(
                p for p in path.iterdir()
                if p.suffix.lower() in EXTENSIONS and p.is_file() and not p.name.startswith(".")
                and p not in replaced
            ))
        elif path.is_file():
            found.append(path)
        else:
            raise UsageError(f"no such file or folder: {path}")
    return found


def superseded(folder: Path) -> dict[Path, Path]:
    """The pages in `folder` that its Markdown files replace: {x.txt: x.md}."""
    names = {p.name.lower(): p for p in folder.iterdir()}
    return {page: names[f"{page.stem.lower()}{ext}"]
            for page in names.values() if page.suffix.lower() in IMPORTED_EXTENSIONS
            for ext in MarkdownLoader.extensions if f"{page.stem.lower()}{ext}" in names}
