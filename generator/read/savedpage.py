"""A web page saved from a browser ("Save page as", HTML only): its article as Markdown.

trafilatura finds the article (it scores 0.95 F1 on the public article-extraction
benchmark, where hand-written rules on the same pages reach about 0.8) and keeps
its headings, lists, tables, links and images. Reader comments are not the
article, and trafilatura's precision mode drops more of a page's teasers for a
small cost in recall (on the dev set: F1 0.959 -> 0.966, recall 0.971 -> 0.968).
What it leaves out is reported
block by block, each with the kind of furniture it was, read from the page's
own markup (a <nav>, a footer, a class such as "share" or "related"), so a
user can see every word that did not reach the handout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from ..article import LANG_TAG, Removal
from ..diagnostics import Diagnostic
from ..errors import ArticleError
from . import paste

# Blocks of a page: the elements whose text reads as a unit.
BLOCK_TAGS = {
    "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dt", "dd", "figcaption", "blockquote",
    "pre", "caption", "label", "button", "div", "section", "article", "aside", "nav", "header", "footer",
    "form", "ul", "ol", "table", "tr", "main", "body", "figure", "address", "summary", "details", "option",
}
NOT_TEXT = {"script", "style", "noscript", "template", "svg", "head", "title", "select"}
# The kind of furniture a block is, from the markup it stands in: tag names,
# ARIA roles and the class and id names sites give their furniture. The first
# kind whose hint any ancestor carries wins, innermost ancestor first.
KIND_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(pattern, re.I)) for kind, pattern in (
    ("cookie", r"cookie|consent|gdpr"),
    ("comments", r"comment|disqus|respond|replies|discussion"),
    ("share", r"share|sharing|social"),
    ("related", r"related|recommend|more-(stories|articles|news)|read-?more|trending|popular|most-?read"
                r"|outbrain|taboola|teaser"),
    ("ad", r"\bads?\b|advert|sponsor|promo|dfp|banner"),
    ("form", r"newsletter|subscribe|sign-?in|log-?in|register|search"),
    ("menu", r"\bnav|menu|breadcrumb|masthead|toolbar|skip"),
    ("legal", r"footer|copyright|legal|privacy"),
))
ROLE_KINDS = {"navigation": "menu", "menubar": "menu", "menu": "menu", "contentinfo": "legal",
              "search": "form", "complementary": "related", "banner": "menu"}
KIND_OF_TAG = {"nav": "menu", "header": "menu", "footer": "legal", "aside": "related", "form": "form",
               "button": "form", "label": "form"}
WORD = re.compile(r"\w+")
# trafilatura writes an image's address as it stands, parentheses and all: it ends at
# the ")" that ends its line or comes before white space.
IMAGE = re.compile(r"!\[(?P<alt>[^\]\n]*)\]\((?P<src>[^\s]*?)(?:\s+\"[^\"\n]*\")?\)(?=\s|$)")
# A Markdown link (not an image); and what may stand around links in a block of nothing else.
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\([^\n]*?\)(?=\s|$|[*_.,;|])")
DECORATION = re.compile(r"^\s*([-*+]|\d+[.)])\s+|[*_|•·]+", re.M)
LINK_TARGET = re.compile(r"\]\(<?[^\s>]*>?\)")
SAVED_FROM = re.compile(rb"<!-- saved from url=\(\d+\)(\S+?) -->")
# Fewer words than this outside links is a page of links (a menu, a front page), not an article.
MIN_ARTICLE_WORDS = 8


@dataclass(frozen=True)
class SavedPage:
    title: str
    markdown: str
    author: str | None
    date: str | None
    lang: str | None
    url: str | None
    diagnostics: tuple[Diagnostic, ...]
    removed: tuple[Removal, ...]


def extract(data: bytes, path: Path) -> SavedPage:
    """The article of a saved page, as Markdown, with what was left out reported."""
    import trafilatura  # a fifth of a second to import: only where a saved page is read
    from trafilatura.settings import Document

    found = trafilatura.bare_extraction(
        data, include_comments=False, include_formatting=True, include_links=True, include_images=True,
        include_tables=True, with_metadata=True, favor_precision=True)
    document = found if isinstance(found, Document) else None  # a dict only when asked for one
    running_text = WORD.findall(LINK.sub("", (document.text or "") if document else ""))
    if document is None or len(running_text) < MIN_ARTICLE_WORDS:
        raise ArticleError("no article found in this page: it has too little running text "
                           "(save the article's own page, or paste its text into a .txt file)", path)
    page = page_tree(data, path)
    url = document.url or canonical_url(page) or saved_from(data)
    title = (document.title or "").strip() or path.stem
    markdown = tidy(without_furniture_lines(without_link_lists(document.text or "")), title, url)
    removed = left_out(page, markdown, title)
    return SavedPage(
        title=title, markdown=markdown, author=(document.author or None), date=(document.date or None),
        lang=page_language(page), url=url if url and urlsplit(url).scheme in ("http", "https") else None,
        diagnostics=tuple(reported(removed, path)), removed=tuple(removed),
    )


def page_tree(data: bytes, path: Path):
    import trafilatura

    tree = trafilatura.load_html(data)
    if tree is None:
        raise ArticleError("not an HTML page that can be read", path)
    return tree


def page_language(page) -> str | None:
    """The page's own language tag (<html lang="de-DE">), when it gives a valid one."""
    lang = (page.get("lang") or page.get("{http://www.w3.org/XML/1998/namespace}lang") or "").strip()
    lang = lang.replace("_", "-")
    return lang if LANG_TAG.match(lang) else None


def canonical_url(page) -> str | None:
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        found = page.xpath(xpath)
        if found:
            return str(found[0]).strip()
    return None


def without_link_lists(markdown: str) -> str:
    """The Markdown without runs of blocks that are nothing but links (the
    headlines of other articles): three or more anywhere, two or more at the
    end, where sites list what to read next. The page report names them."""
    blocks = re.split(r"\n\s*\n", markdown.strip())
    link_only = [bool(LINK.search(b)) and not WORD.search(DECORATION.sub("", LINK.sub("", b))) for b in blocks]
    dropped = [False] * len(blocks)
    start = 0
    while start < len(blocks):
        end = start
        while end < len(blocks) and link_only[end]:
            end += 1
        if end - start >= 3 or (end - start >= 2 and end == len(blocks)):
            dropped[start:end] = [True] * (end - start)
        start = end + 1
    return "\n\n".join(b for b, d in zip(blocks, dropped, strict=True) if not d)


def without_furniture_lines(markdown: str) -> str:
    """The Markdown without the one-line blocks that the paste reader knows for furniture
    by their own words (a share bar, a cookie line, legal links, "Tag: ..."), which
    trafilatura may keep: the same cleaning as for a pasted page. The page report
    names them, as it names everything left out."""
    blocks = re.split(r"\n\s*\n", markdown.strip())
    return "\n\n".join(block for block in blocks
                        if "\n" in block.strip() or not paste.furniture_kind(plain_text(block)))


def plain_text(block: str) -> str:
    """A Markdown block's words as a reader sees them: links' text, no marks around it."""
    return " ".join(DECORATION.sub(" ", LINK_TARGET.sub("", block).replace("[", "")).split())


def saved_from(data: bytes) -> str | None:
    """The address a browser noted when it saved the page: <!-- saved from url=(0042)https://... -->."""
    found = SAVED_FROM.search(data[:4096])
    return found[1].decode("ascii", "replace") if found else None


def tidy(markdown: str, title: str, url: str | None) -> str:
    """trafilatura's Markdown as a handout prints it: the page's second copy of the
    title dropped, and images as links with their alt text (a saved page has no
    image files beside it, and a handout does not fetch from the web unasked).

    An image whose alt text says nothing new is left out: one labelled with the
    headline, a second one with the same label, or one whose label the text
    beside it already says (a caption)."""
    lines = markdown.strip().split("\n")
    if lines and words_of(lines[0].lstrip("#")) == words_of(title):
        lines = lines[1:]
    text_words = set(WORD.findall(IMAGE.sub("", "\n".join(lines)).lower()))
    title_words = set(WORD.findall(title.lower()))
    seen: set[str] = set()

    def image_link(match: re.Match[str]) -> str:
        alt, src = " ".join(match["alt"].split()), match["src"].strip("<>")
        label = set(WORD.findall(alt.lower()))
        if len(label) < 2 or alt.lower() in seen or len(label & title_words) > len(label) / 2 \
                or label <= text_words:
            return ""
        seen.add(alt.lower())
        target = urljoin(url, src) if url else src
        return f"[{alt}](<{target}>)" if urlsplit(target).scheme in ("http", "https") else alt

    return re.sub(r"\n{3,}", "\n\n", IMAGE.sub(image_link, "\n".join(lines))).strip() + "\n"


def words_of(text: str) -> str:
    return " ".join(WORD.findall(text.lower()))


def left_out(page, markdown: str, title: str) -> list[Removal]:
    """The page's blocks that are not in the article (its Markdown and title), runs of one kind
    joined, each with the number of the Markdown's blocks that come before where it was."""
    kept_words = f" {words_of(LINK_TARGET.sub('', markdown + chr(10) + title))} "
    blocks = [f" {words_of(LINK_TARGET.sub('', block))} " for block in re.split(r"\n\s*\n", markdown.strip())]
    removed: list[Removal] = []
    after = 0  # Markdown blocks up to the last block of the page kept
    for element, text in page_blocks(page):
        words = words_of(text)
        if f" {words} " in kept_words:
            after = block_holding(blocks, words, after)
            continue
        kind = kind_of(element)
        if removed and removed[-1].kind == kind:
            removed[-1] = replace(removed[-1], text=removed[-1].text + "\n" + text)
        else:
            removed.append(Removal(kind, element.sourceline or 1, text, after))
    return removed


# Words at the end of a kept block of the page that find the Markdown block it became.
ENDING_WORDS = 6


def block_holding(blocks: list[str], words: str, after: int) -> int:
    """The number of Markdown blocks up to the one holding the end of `words` (a block of the
    page that was kept), looking on from `after`; `after` when none does (the title's words)."""
    ending = f" {' '.join(words.split()[-ENDING_WORDS:])} "
    return next((index + 1 for index in range(after and after - 1, len(blocks)) if ending in blocks[index]), after)


def reported(removed: list[Removal], path: Path) -> list[Diagnostic]:
    """A W102 for each run of removed blocks."""
    diagnostics = []
    for removal in removed:
        blocks = removal.text.split("\n")
        words = len(WORD.findall(removal.text))
        shown = blocks[0] if len(blocks[0]) <= 60 else blocks[0][:59] + "…"
        count = f"{len(blocks)} blocks, " if len(blocks) > 1 else ""
        diagnostics.append(Diagnostic("W102", f"removed {removal.kind} ({count}{words} words): '{shown}'", path,
                                      removal.line, kind=removal.kind, words=words))
    return diagnostics


def page_blocks(page):
    """(element, text) for each block of the page that holds words of its own, in page order."""
    body = page.find(".//body")
    root = body if body is not None else page
    texts: dict = {}
    order: list = []

    def visit(element, block) -> None:
        if not isinstance(element.tag, str) or element.tag in NOT_TEXT:
            return
        if element.tag in BLOCK_TAGS:
            block = element
        if element.text and element.text.strip():
            add(block, element.text)
        for child in element:
            visit(child, block)
            if child.tail and child.tail.strip():
                add(block, child.tail)

    def add(block, text: str) -> None:
        if block not in texts:
            texts[block] = []
            order.append(block)
        texts[block].append(text)

    visit(root, root)
    for block in order:
        text = " ".join(" ".join(texts[block]).split())
        if WORD.search(text):
            yield block, text


def kind_of(element) -> str:
    """The kind of furniture a block is: the class, id or ARIA role of the nearest
    ancestor that names one (sites name their furniture: "cookie-banner", "share"),
    else the nearest furniture tag (<nav>, <footer>...), else "other"."""
    ancestors = [element, *element.iterancestors()]
    for ancestor in ancestors:
        role = (ancestor.get("role") or "").lower()
        if role in ROLE_KINDS:
            return ROLE_KINDS[role]
        hints = " ".join(filter(None, (ancestor.get("class"), ancestor.get("id"))))
        for kind, pattern in KIND_HINTS if hints else ():
            if pattern.search(hints):
                return kind
    for ancestor in ancestors:
        if isinstance(ancestor.tag, str) and ancestor.tag in KIND_OF_TAG:
            return KIND_OF_TAG[ancestor.tag]
    return "other"
