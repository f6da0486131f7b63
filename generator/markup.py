"""Stage 2: an article's Markdown body turned into an HTML fragment.

markdown-it-py with the plugins the article format promises (tables,
footnotes, definition lists, task lists), so the syntax is CommonMark's and
not a home-made dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
import itertools
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from .article import Article
from .errors import ArticleError


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class Body:
    html: str
    headings: tuple[Heading, ...]


def markdown_parser() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": True})
        .enable(["table", "strikethrough"])
        .use(footnote_plugin)
        .use(deflist_plugin)
        .use(tasklists_plugin)
        .use(anchors_plugin, min_level=1, max_level=6)
    )


PARSER = markdown_parser()


def to_html(article: Article) -> Body:
    tokens = PARSER.parse(article.body)
    demote_headings(tokens)
    check_images(tokens, article)
    mark_printed_urls(tokens)
    mark_wide_tables(tokens)
    headings = tuple(
        Heading(int(token.tag[1]), tokens[i + 1].content, token.attrs.get("id", ""))
        for i, token in enumerate(tokens) if token.type == "heading_open"
    )
    return Body(html=PARSER.renderer.render(tokens, PARSER.options, {}), headings=headings)


def demote_headings(tokens: list[Token]) -> None:
    """Leave <h1> to the handout's title: body headings start at <h2>."""
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    if not levels or min(levels) > 1:
        return
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"


def mark_printed_urls(tokens: list[Token]) -> None:
    """Give each outside link whose text hides its address a `data-url` to print.

    On paper nobody can click: the theme prints the address after the text
    (a::after), unless the text already is the address.
    """
    for block in tokens:
        children = block.children or []
        for i, token in enumerate(children):
            href = str(token.attrs.get("href", "")) if token.type == "link_open" else ""
            if urlsplit(href).scheme.lower() not in ("http", "https", "ftp", "mailto"):
                continue
            shown = re.sub(r"^(https?|ftp)://|^mailto:", "", href, flags=re.I)
            link_text = "".join(
                t.content for t in itertools.takewhile(lambda t: t.type != "link_close", children[i + 1:])
            )
            if shown.rstrip("/").casefold() not in link_text.casefold():
                token.attrs["data-url"] = shown


WIDE_TABLE_COLUMNS = {"wide": 6, "very-wide": 9}


def mark_wide_tables(tokens: list[Token]) -> None:
    """Class tables by column count, so the theme can set many columns smaller."""
    for i, token in enumerate(tokens):
        if token.type != "table_open":
            continue
        columns = 0
        for cell in tokens[i + 1:]:
            if cell.type == "tr_close":
                break
            columns += cell.type == "th_open"
        for name, minimum in WIDE_TABLE_COLUMNS.items():
            if columns >= minimum:
                token.attrs["class"] = name


def check_images(tokens: list[Token], article: Article) -> None:
    """A local image that does not exist is an error naming its source line."""
    for block in tokens:
        for token in block.children or ():
            if token.type != "image":
                continue
            src = token.attrs.get("src", "")
            if urlsplit(src).scheme:
                continue
            path = (article.source.parent / unquote(src.split("#")[0].split("?")[0]))
            if not path.is_file():
                raise ArticleError(
                    f"image not found: {unquote(src)}", article.source, source_line(article, block, src)
                )


def source_line(article: Article, block: Token, needle: str) -> int | None:
    if not block.map:
        return None
    start, end = block.map
    lines = article.body.split("\n")
    for offset, text in enumerate(lines[start:end]):
        if unquote(needle) in text or needle in text:
            return article.body_first_line + start + offset
    return article.body_first_line + start

