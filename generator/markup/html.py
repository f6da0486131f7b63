"""Stage 2: an article's Markdown body turned into an HTML fragment.

markdown-it-py with the plugins the article format promises (tables,
footnotes, definition lists, task lists, callouts, attributes), so the syntax
is CommonMark's and not a home-made dialect. Code is highlighted by Pygments.
The HTML is shaped for print: a lone image is a numbered figure, footnotes
stand where they are called (the theme floats them to the page bottom or the
margin), and links and tables carry what the theme needs to print them.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.anchors.index import slugify
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import format as format_tokens
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import Text as PlainText
from pygments.util import ClassNotFound

from ..article import Article
from ..config import Limits
from ..diagnostics import Diagnostic
from ..errors import ArticleError, TooDeep
from ..read.load import EXTENSIONS, MAX_ADDRESS, slug_for
from ..sandbox import ReadPolicy, pixel_count
from . import sanitize
from .sanitize import LINK_SCHEMES
from .shortcodes import with_emoji


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class Body:
    html: str
    headings: tuple[Heading, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    images_without_alt: tuple[str, ...] = ()  # their addresses


CALLOUTS = ("note", "tip", "important", "warning", "caution")
CODE_STYLE = "friendly"  # a light Pygments style that prints well in grey and in colour


# A run of code longer than this, without a space, may break inside (see code_breaks).
LONG_RUN = 30
WORD_CHARACTERS = re.compile(r"\w+")


def code_block(code: str, language: str = "") -> str:
    """A fenced or indented code block: highlighted by Pygments when its language is known."""
    language = language.split()[0] if language.strip() else ""
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return f'<pre class="code"><code>{html.escape(with_breaks([code])[0])}</code></pre>\n'
    tokens = list(lexer.get_tokens(code))  # the lexer's text: it may drop blank lines at the ends
    values = with_breaks([value for _, value in tokens])
    lines = format_tokens(((PlainText if looks_plain(kind, value) else kind, marked)
                           for (kind, value), marked in zip(tokens, values, strict=True)), HtmlFormatter(nowrap=True))
    return f'<pre class="code highlight"><code class="language-{html.escape(language)}">{lines}</code></pre>\n'


def code_breaks(code: str) -> set[int]:
    """Where a line of code may break besides its spaces: offsets to put a zero-width space at.

    The themes do not let the renderer break code wherever it must (overflow-wrap):
    WeasyPrint then breaks at the edge of a highlighted token even where a space
    came earlier on the line, splitting names in two ("self.tabsi" / "ze").
    Instead a run longer than LONG_RUN characters gets break opportunities after
    its punctuation, and a name, number or hash in it longer than LONG_RUN after
    every character, so no line of code runs off the page.
    """
    offsets: set[int] = set()
    for run in re.finditer(rf"\S{{{LONG_RUN + 1},}}", code):
        start, text = run.start(), run.group()
        offsets.update(start + i + 1 for i, c in enumerate(text[:-1]) if not (c.isalnum() or c == "_"))
        for word in WORD_CHARACTERS.finditer(text):
            if len(word.group()) > LONG_RUN:
                offsets.update(range(start + word.start() + 1, start + word.end()))
    return offsets


def with_breaks(pieces: list[str]) -> list[str]:
    """The pieces of a text of code (its tokens), with the zero-width spaces of code_breaks."""
    breaks = code_breaks("".join(pieces))
    marked, offset = [], 0
    for piece in pieces:
        marked.append("".join(("\u200b" if offset + i in breaks else "") + c for i, c in enumerate(piece)))
        offset += len(piece)
    return marked


def looks_plain(kind, value: str) -> bool:
    """Whether a code token prints as plain text would: then it needs no <span> of its own.

    A third of the tokens in code (names, punctuation, spaces) have no style;
    every span is a box the renderer lays out, so they are left out.
    """
    # A lexer may make token types of its own (YAML's Literal.Scalar.Plain): the
    # style styles them as their nearest known parent.
    while not code_style().styles_token(kind) and kind.parent is not None:
        kind = kind.parent
    style = code_style().style_for_token(kind)
    if style["bgcolor"] or style["underline"] or style["border"]:
        return False
    return value.isspace() or not (style["color"] or style["bold"] or style["italic"])


@functools.cache
def code_style():
    return get_style_by_name(CODE_STYLE)


@functools.cache
def code_css() -> str:
    """The stylesheet for highlighted code, for the themes to include."""
    return HtmlFormatter(style=CODE_STYLE).get_style_defs(".highlight")


def render_callout(name: str):
    """A callout's HTML. Its title is the one written after its name; with none, the title
    element is left empty and the theme prints the word for it in the handout's language."""
    def render(renderer, tokens, index, options, env) -> str:
        token = tokens[index]
        if token.nesting == -1:
            return "</aside>\n"
        title = token.info.strip()[len(name):].strip()
        return f'<aside class="callout callout-{name}">\n<p class="callout-title">{html.escape(title)}</p>\n'
    return render


def check_brackets(state: StateCore) -> None:
    """Refuse a paragraph with more '[' open at once than the nesting limit, before inline parsing.

    markdown-it scans forward from each '[' for its label's end, as deep as
    its maxNesting: a million '[' took minutes. No article opens more than a
    few at once (an image in a link is two).
    """
    limit = state.md.options["maxNesting"] - 1
    for token in state.tokens:
        if token.type != "inline" or "[" not in token.content:
            continue
        depth = 0
        for bracket in BRACKETS.finditer(token.content):
            if bracket.group() == "[":
                depth += 1
                if depth > limit:
                    raise TooDeep(f"more than {limit} '[' open at once ([limits] nesting in handout.toml)",
                                  None, token.map[0] if token.map else None)
            elif bracket.group() == "]":
                depth = max(0, depth - 1)


BRACKETS = re.compile(r"\\.|[\[\]]")
# GitHub's alerts, the callouts of READMEs: a quote that opens with [!NOTE] alone on its line.
ALERT = re.compile(r"\[!(" + "|".join(CALLOUTS) + r")\][ \t]*(?:\n|$)", re.I)


def emoji_shortcodes(state: StateCore) -> None:
    """Print GitHub's emoji shortcodes (:rocket:, :+1:) as the emoji they name, outside code."""
    for token in state.tokens:
        for child in token.children or () if token.type == "inline" else ():
            if child.type == "text":
                child.content = with_emoji(child.content)


def github_alerts(state: StateCore) -> None:
    """Make each GitHub alert (> [!WARNING] ...) the callout it is, as `::: warning` makes one."""
    tokens = state.tokens
    for index, token in enumerate(tokens[:-2]):
        if token.type != "blockquote_open" or tokens[index + 1].type != "paragraph_open":
            continue
        first = tokens[index + 2]
        alert = ALERT.match(first.content)
        if not alert:
            continue
        name = alert.group(1).lower()
        close = next(i for i in range(index + 1, len(tokens))
                     if tokens[i].type == "blockquote_close" and tokens[i].level == token.level)
        token.type, token.info = f"container_{name}_open", name
        tokens[close].type = f"container_{name}_close"
        first.content = first.content[alert.end():]
        if not first.content.strip():
            tokens[index + 1].hidden = tokens[index + 3].hidden = True


# An id or name that raw HTML gives an element: a README's '## Support<a id="support"></a>'.
HTML_ID = re.compile(r"""\b(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)


def add_anchors(state: StateCore) -> None:
    """Give each heading an id from its text, made unique with -1, -2..., and unlike the ids
    the article's raw HTML gives (a link to '#support' then leads to the article's own anchor,
    in the heading, and no id is on the page twice).

    mdit-py-plugins' anchors plugin tries each number in turn for each
    repeated title: 100,000 '# Step' headings took minutes. Here each title
    remembers the next number to try.
    """
    raw = [token.content for block in state.tokens
           for token in (block.children or []) if token.type == "html_inline"]
    raw += [block.content for block in state.tokens if block.type == "html_block"]
    used = {a or b for html_text in raw if "=" in html_text for a, b in HTML_ID.findall(html_text)}
    next_number: dict[str, int] = {}
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open":
            continue
        anchor = base = slugify(inline_text(state.tokens[index + 1]))
        number = next_number.get(base, 1)
        while anchor in used:
            anchor, number = f"{base}-{number}", number + 1
        next_number[base] = number
        used.add(anchor)
        token.attrSet("id", anchor)


MAX_NESTING = 100  # the most [limits] nesting may be


@functools.cache
def markdown_parser(nesting: int) -> MarkdownIt:
    """The parser for a nesting limit: one level more than it, so the limit is checked
    (check_nesting) and nothing deeper is ever dropped in silence; no deeper, since the
    time a '[' takes grows with it."""
    parser = (
        MarkdownIt("commonmark", {"html": True, "maxNesting": nesting + 1})
        .enable(["table", "strikethrough"])
        .use(footnote_plugin)
        .use(deflist_plugin)
        .use(tasklists_plugin)
        .use(attrs_plugin, after=("image",))
        # $x^2$ and $$...$$ as GitHub and pandoc read them: '$' then no space opens, no space
        # then '$' closes, and never before a digit ('from $5 to $10' is money).
        .use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False)
    )
    parser.core.ruler.before("inline", "check_brackets", check_brackets)
    parser.core.ruler.before("inline", "github_alerts", github_alerts)
    parser.core.ruler.push("anchor", add_anchors)
    parser.core.ruler.push("emoji_shortcodes", emoji_shortcodes)
    for name in CALLOUTS:
        parser.use(container_plugin, name=name, render=render_callout(name))
    parser.add_render_rule("fence", lambda renderer, tokens, index, options, env:
                           code_block(tokens[index].content, tokens[index].info))
    parser.add_render_rule("code_block", lambda renderer, tokens, index, options, env:
                           code_block(tokens[index].content))
    # Math not drawn (a message's HTML part: draw_math draws a handout's) is its TeX, as code.
    for name in ("math_inline", "math_inline_double", "math_block", "math_block_label"):
        parser.add_render_rule(name, tex_rule)
    return parser


def tex_rule(renderer, tokens: list[Token], index: int, options, env) -> str:
    from .math import tex_html

    return tex_html(tokens[index].content, display=tokens[index].type != "math_inline")


# For rendering, and for reading articles that to_html has read under their limits.
PARSER = markdown_parser(MAX_NESTING)


@dataclass
class Conversion:
    """One article's tokens as the passes reshape them, and the warnings they give."""

    article: Article
    policy: ReadPolicy
    limits: Limits
    tokens: list[Token]
    diagnostics: list[Diagnostic] = field(default_factory=list)


def to_html(article: Article, policy: ReadPolicy | None = None, limits: Limits | None = None) -> Body:
    """The article's body as safe HTML, with warnings for what was left out.

    `policy` says which files and addresses images may come from; without
    one, local images beside the article are allowed and the network is not.
    The tokens go through TOKEN_PASSES in order, then are rendered.
    """
    limits = limits or Limits()
    conversion = Conversion(article, policy or ReadPolicy(roots=(article.source.parent,)), limits,
                            parse(article, limits.nesting))
    for _name, run in TOKEN_PASSES:
        run(conversion)
    tokens = conversion.tokens
    headings = tuple(
        Heading(int(token.tag[1]), inline_text(tokens[i + 1]), str(token.attrs.get("id", "")))
        for i, token in enumerate(tokens) if token.type == "heading_open"
    )
    html_out = print_links(sanitize.clean(PARSER.renderer.render(tokens, PARSER.options, {})), article)
    if sanitize.depth(html_out) > 2 * limits.nesting:
        raise ArticleError(f"the HTML nests more than {2 * limits.nesting} elements deep", article.source)
    return Body(html=html_out, headings=headings, diagnostics=tuple(conversion.diagnostics),
                images_without_alt=tuple(sanitize.images_without_alt(html_out)))


def parse(article: Article, nesting: int) -> list[Token]:
    """The article's body as markdown-it tokens; too many '[' open at once is an error on its line."""
    try:
        return markdown_parser(nesting).parse(article.body)
    except TooDeep as exc:
        raise ArticleError(exc.problem, article.source,
                           None if exc.line is None else article.body_first_line + exc.line) from None


def check_nesting(conversion: Conversion) -> None:
    """Past this depth markdown-it would silently stop reading: say so instead."""
    limit, article = conversion.limits.nesting, conversion.article
    for token in conversion.tokens:
        if token.level >= limit:
            line = article.body_first_line + token.map[0] if token.map else None
            raise ArticleError(
                f"lists or quotes nested more than {limit} levels deep ([limits] nesting in handout.toml)",
                article.source, line)


def draw_math(conversion: Conversion) -> None:
    """Each formula ($...$, $$...$$, a ```math block) as the picture math.py draws of it; one it
    cannot draw as its TeX, word for word, with a warning naming its line.

    After raw_html_removals: the HTML made here is handout's own, not the article's.
    """
    from . import math

    article = conversion.article
    left = math.MAX_DRAWN_TEX  # the TeX this article may still have drawn

    def html_of(tex: str, display: bool, block: Token) -> str:
        nonlocal left
        over, left = left < 0, left - len(tex)
        drawn = math.math_html(tex, display) if left >= 0 else None
        if drawn is not None:
            return drawn
        line = article.body_first_line + block.map[0] if block.map else None
        shown = " ".join(tex.split())
        shown = f"{shown[:60]}{'…' * (len(shown) > 60)}"
        if left >= 0:
            conversion.diagnostics.append(Diagnostic(
                "W110", f"math it cannot draw, printed as its TeX: {shown}", article.source, line))
        elif not over:  # once: the first formula past the budget, and all after it
            conversion.diagnostics.append(Diagnostic(
                "W110", f"more math than the {math.MAX_DRAWN_TEX:,} characters of TeX drawn an article: from"
                f" here on printed as its TeX ({shown})", article.source, line))
        return math.tex_html(tex, display)

    for block in conversion.tokens:
        if block.type in ("math_block", "math_block_label") or (block.type == "fence" and block.info.strip() == "math"):
            block.type, block.content = "html_block", html_of(block.content, True, block)
        for child in block.children or ():
            if child.type in ("math_inline", "math_inline_double"):
                child.type, child.content = "html_inline", html_of(child.content, child.type.endswith("double"), block)


def raw_html_removals(conversion: Conversion) -> None:
    """A warning for each part of the raw HTML that sanitize.clean will leave out."""
    article = conversion.article
    for block in conversion.tokens:
        pieces = [block] if block.type == "html_block" else [
            child for child in block.children or () if child.type == "html_inline"]
        for piece in pieces:
            for removed in sanitize.removals(piece.content):
                line = article.body_first_line + block.map[0] if block.map else None
                conversion.diagnostics.append(
                    Diagnostic("W120", f"left out a style that hides text on paper: {removed.what}", article.source,
                               line) if removed.hides_text
                    else Diagnostic("W108", f"removed unsafe HTML: {removed.what}", article.source,
                                    line) if removed.unsafe
                    else Diagnostic("W109", f"left out screen formatting: {removed.what} (the theme lays out the page)",
                                    article.source, line, kind=removed.what))


def inline_text(token: Token) -> str:
    """The words of an inline token, without its markup."""
    return "".join(c.content for c in token.children or () if c.type in ("text", "code_inline")).strip()


def place_footnotes(conversion: Conversion) -> None:
    """Each footnote's text moved to where it is first called, as a span the theme floats.

    Print puts a footnote at the foot of the page that calls it (or in the
    margin), not at the end of the article; WeasyPrint does that for an
    element that stands at the call (CSS `float: footnote`).
    """
    bodies: dict[int, str] = {}
    kept: list[Token] = []
    current: list[Token] | None = None
    for token in conversion.tokens:
        if token.type in ("footnote_block_open", "footnote_block_close", "footnote_anchor"):
            continue  # the list at the end, and its links back to the calls
        if token.type == "footnote_open":
            current, footnote_id = [], token.meta["id"]
        elif token.type == "footnote_close":
            rendered = PARSER.renderer.render(current or [], PARSER.options, {})
            paragraphs = re.findall(r"<p>(.*?)</p>", rendered, re.S) or [rendered]
            # Line ends inside a floated footnote print as line breaks (WeasyPrint 70).
            bodies[footnote_id] = " ".join(paragraphs).replace("\n", " ")
            current = None
        elif current is not None:
            current.append(token)
        else:
            kept.append(token)
    for token in kept:
        for child in token.children or ():
            if child.type != "footnote_ref":
                continue
            number = child.meta["id"]
            child.type = "html_inline"
            if child.meta.get("subId", 0) == 0:
                child.content = ('<span class="footnote-call"></span>'
                                 f'<span class="footnote">{bodies.get(number, "")}</span>')
            else:  # called again: the same number, once more
                child.content = f'<sup class="footnote-again">{number + 1}</sup>'
    conversion.tokens = kept


def make_figures(conversion: Conversion) -> None:
    """An image alone in its paragraph becomes a numbered figure with a caption.

    The caption is the image's title, or else its alt text (as pandoc does).
    """
    tokens, number = conversion.tokens, 0
    for i, token in enumerate(tokens[:-2]):
        inline, closing = tokens[i + 1], tokens[i + 2]
        children = [c for c in inline.children or () if not (c.type == "text" and not c.content.strip())]
        if not (token.type == "paragraph_open" and closing.type == "paragraph_close"
                and len(children) == 1 and children[0].type == "image"):
            continue
        image = children[0]
        caption = str(image.attrs.get("title") or "") or image.content
        image_html = PARSER.renderer.render([image], PARSER.options, {})
        classes = " ".join(["figure", str(image.attrs.get("class", ""))]).strip()
        figcaption = ""
        if caption:
            number += 1
            # The word "Figure" comes from the theme, in the article's language.
            figcaption = (f'<figcaption><span class="figure-number">{number}.</span> '
                          f"{html.escape(caption)}</figcaption>")
        token.type, token.tag, token.nesting = "html_block", "", 0
        token.content = f'<figure class="{html.escape(classes)}">{image_html}{figcaption}</figure>\n'
        inline.type, inline.children, inline.content = "html_block", [], ""
        closing.type, closing.nesting, closing.content = "html_block", 0, ""


def demote_headings(conversion: Conversion) -> None:
    """Leave <h1> to the handout's title: body headings start at <h2>."""
    tokens = conversion.tokens
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    if not levels or min(levels) > 1:
        return
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"


def check_links(conversion: Conversion) -> None:
    """Markdown links that lead nowhere a reader can go (irc:, ftp:...) are left out with a
    warning. Only http(s) and mailto print; markdown-it already drops javascript:,
    vbscript:, file: and data:, and print_links refuses an address too long to print."""
    article = conversion.article
    for block in conversion.tokens:
        for token in block.children or ():
            href = str(token.attrs.get("href", "")) if token.type == "link_open" else ""
            scheme = urlsplit(href).scheme.lower()
            if scheme and scheme not in LINK_SCHEMES:
                conversion.diagnostics.append(Diagnostic(
                    "W108", f"link to a {scheme}: address left out (only http, https and mailto"
                    " links lead somewhere from paper)", article.source, source_line(article, block, href)))
                del token.attrs["href"]


class LinkScanner(HTMLParser):
    """Each <a href> of sanitized HTML: where its start tag ends, its address and its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[dict] = []
        self.open: dict | None = None
        self.line_starts = [0]

    def position(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href is not None:
            start, tag = self.position(), self.get_starttag_text() or ""
            self.open = {"href": href, "start": start, "tag_end": start + len(tag), "text": ""}
            self.links.append(self.open)

    def handle_endtag(self, tag):
        if tag == "a" and self.open:
            self.open["end"] = self.position()
            self.open = None

    def handle_data(self, data):
        if self.open:
            self.open["text"] += data


def print_links(html_out: str, article: Article) -> str:
    """What paper shows of each link is where it goes.

    On paper nobody can click: an outside link whose text is not its address
    gets a `data-url` the theme prints after it (a::after), made here from its
    href, after sanitizing, for raw HTML links too (an author's own data-url
    is removed: it could show one address beside a link to another). A
    relative link would become the builder's file:// path inside the PDF: it
    prints as its name instead, a sibling article (x.md) as its handout (x.pdf).
    """
    scanner = LinkScanner()
    scanner.line_starts += [match.end() for match in re.finditer("\n", html_out)]
    scanner.feed(html_out)
    scanner.close()
    pieces, done = [], 0
    for link in scanner.links:
        href, text = link["href"], link["text"]
        if len(href) > MAX_ADDRESS:
            raise ArticleError(f"a link's address is {len(href):,} characters long, over {MAX_ADDRESS:,}",
                               article.source, body_line(article, href[:60]))
        scheme = urlsplit(href).scheme.lower()
        if scheme in LINK_SCHEMES:
            shown = re.sub(r"^https?://|^mailto:", "", href, flags=re.I)
            if shown.rstrip("/").casefold() not in text.casefold():
                pieces += [html_out[done:link["tag_end"] - 1], f' data-url="{html.escape(shown)}">']
                done = link["tag_end"]
        elif not href.startswith("#") and "end" in link:  # a data: link too: it leads nowhere on paper
            name = "" if scheme else unquote(urlsplit(href).path)
            if Path(name).suffix.lower() in EXTENSIONS:
                name = str(Path(name).with_name(slug_for(Path(name)) + ".pdf"))
            shown = "" if name.rstrip("/").casefold() in text.casefold() else f" ({html.escape(name)})"
            pieces += [html_out[done:link["start"]], '<span class="relative-link">',
                       html_out[link["tag_end"]:link["end"]], f"{shown}</span>"]
            done = link["end"] + len("</a>")
    return "".join(pieces) + html_out[done:]


def body_line(article: Article, needle: str) -> int | None:
    at = article.body.find(needle)
    return None if at < 0 else article.body_first_line + article.body.count("\n", 0, at)


WIDE_TABLE_COLUMNS = {"wide": 6, "very-wide": 9}


# A column's share of the width follows its longest cell, up to this many
# characters: past it, the text wraps anyway.
COLUMN_TEXT_CAP = 50
# Code prints in a monospaced font, its letters wider than the text's on average.
CODE_WIDTH = 1.3


def size_tables(conversion: Conversion) -> None:
    """Give each table column widths from its text, and class tables by column count.

    With widths given, the theme lays tables out with `table-layout: fixed`:
    the renderer then need not measure every way each cell could wrap, which
    took most of the time of a table-heavy handout. A column gets at least
    its longest word, and more for longer text, within COLUMN_TEXT_CAP.
    """
    tokens = conversion.tokens
    sized: list[Token] = []
    for i, token in enumerate(tokens):
        sized.append(token)
        if token.type != "table_open":
            continue
        end = next(j for j in range(i, len(tokens)) if tokens[j].type == "table_close")
        rows: list[list[tuple[float, float]]] = []  # (longest word, length) of each cell
        for cell_index in range(i, end):
            cell = tokens[cell_index]
            if cell.type == "tr_open":
                rows.append([])
            elif cell.type in ("th_open", "td_open"):
                rows[-1].append(cell_measure(tokens[cell_index + 1]))
        columns = max(map(len, rows), default=0)
        weights = []
        for column in range(columns):
            cells = [row[column] for row in rows if column < len(row)]
            longest_word = max((word for word, _ in cells), default=1)
            # A word must fit whole, with the cell's padding, in letters wider than the
            # average (capitals, digits, bold headers): hence the margins on it.
            longest_text = max((length for _, length in cells), default=1)
            whole_word = round(longest_word * 1.3) + 5
            # Beyond its longest word, a column with long text takes half of what the text
            # asks for: in a narrow column, the short columns keep their words whole.
            weights.append(whole_word + max(0, round(min(longest_text, COLUMN_TEXT_CAP)) + 2 - whole_word) / 2)
        classes = ["fitted"] + [name for name, minimum in WIDE_TABLE_COLUMNS.items() if columns >= minimum]
        token.attrs["class"] = " ".join(classes)
        widths = "".join(f'<col style="width: {100 * w / sum(weights):.1f}%">' for w in weights)
        colgroup = Token("html_block", "", 0)
        colgroup.content = f"<colgroup>{widths}</colgroup>\n"
        sized.append(colgroup)
    conversion.tokens = sized


def cell_measure(token: Token) -> tuple[float, float]:
    """A table cell's longest word and its length, in characters of the text's font."""
    words, length = [0.0], 0.0
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            scale = CODE_WIDTH if child.type == "code_inline" else 1.0
            words += [len(word) * scale for word in child.content.split()]
            length += len(child.content) * scale
    return max(words), length


# A row of badges is this many linked images or more, and nothing else.
MIN_BADGES = 2
# A raw HTML block longer than this is no row of badges (and is not parsed to find out:
# Python's HTML parser takes quadratic time over some hostile input).
MAX_BADGE_ROW = 8000


def leave_out_badge_rows(conversion: Conversion) -> None:
    """Leave out, with one warning, each row of badges that cannot be fetched.

    A README opens with a row of linked status images (version, build, coverage,
    licence), in Markdown or raw HTML. Without the network each would print as
    its description and two addresses, a paragraph of noise on paper; with
    --allow-remote they print as the pictures they are.
    """
    if conversion.policy.allow_remote:
        return
    article, tokens = conversion.article, conversion.tokens
    for index, block in enumerate(tokens):
        if block.type == "inline":
            sources = badge_row(block.children or [])
        elif block.type == "html_block" and "<img" in block.content and len(block.content) <= MAX_BADGE_ROW:
            sources = BadgeScanner.sources(block.content)
        else:
            continue
        if len(sources) < MIN_BADGES or any(urlsplit(src).scheme.lower() not in ("http", "https") for src in sources):
            continue
        block.children, block.content = [], ""
        for neighbour in tokens[index - 1:index + 2:2] if block.type == "inline" else ():
            if neighbour.type in ("paragraph_open", "paragraph_close"):
                neighbour.hidden = True
        line = article.body_first_line + block.map[0] if block.map else None
        conversion.diagnostics.append(Diagnostic(
            "W107", f"left out a row of {len(sources)} badges, remote images not fetched ({sources[0]}, ...;"
            " --allow-remote fetches them)", article.source, line))


def badge_row(children: list[Token]) -> list[str]:
    """The image addresses of an inline run that holds only linked images and the spaces and
    line breaks between them; [] if it holds anything else."""
    shown = [child for child in children if child.type not in ("softbreak", "hardbreak")
             and not (child.type == "text" and not child.content.strip())]
    if len(shown) % 3 or not shown:
        return []
    triples = [shown[n:n + 3] for n in range(0, len(shown), 3)]
    if any([t.type for t in triple] != ["link_open", "image", "link_close"] for triple in triples):
        return []
    return [str(image.attrs.get("src", "")) for _, image, _ in triples]


class BadgeScanner(HTMLParser):
    """Whether a raw HTML block holds only linked images (in paragraphs, divs, line breaks, or a
    table whose header cells name its rows: "docs", "tests", "package")."""

    WRAPPERS = {"p", "div", "span", "br", "picture", "source", "table", "thead", "tbody", "tr", "td", "th"}
    # A header cell's words longer than this are the table's content, not a row's name.
    MAX_LABEL = 40

    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.other = False
        self.link_depth = 0
        self.label: list[str] | None = None  # the words of the header cell being read

    @classmethod
    def sources(cls, html_block: str) -> list[str]:
        scanner = cls()
        scanner.feed(html_block)
        scanner.close()
        return [] if scanner.other else scanner.images

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.link_depth += 1
        elif tag == "img" and self.link_depth:
            self.images.append(dict(attrs).get("src") or "")
        elif tag == "th":
            self.label = []
        elif tag not in self.WRAPPERS:
            self.other = True

    def handle_endtag(self, tag):
        if tag == "a":
            self.link_depth = max(0, self.link_depth - 1)
        elif tag == "th" and self.label is not None:
            self.other = self.other or len(" ".join(self.label)) > self.MAX_LABEL
            self.label = None

    def handle_data(self, data):
        if data.strip() and self.label is not None and not self.link_depth:
            self.label += data.split()
        elif data.strip():
            self.other = True


def place_images(conversion: Conversion) -> None:
    """Check every image the article names; leave out, with a warning, those it may not read.

    A missing local image, or one with more pixels than the limit (a
    decompression bomb), is an error naming its line. A remote image, without
    --allow-remote, prints as its description and address.
    """
    article, policy, found = conversion.article, conversion.policy, conversion.diagnostics
    max_pixels = int(conversion.limits.image_megapixels * 1_000_000)
    for block in conversion.tokens:
        for token in block.children or ():
            if token.type != "image":
                continue
            src = str(token.attrs.get("src", ""))
            line = source_line(article, block, src)
            scheme = urlsplit(src).scheme.lower()
            if scheme == "data" or (scheme in ("http", "https") and policy.allow_remote):
                continue
            if scheme and scheme != "file":
                found.append(Diagnostic(
                    "W107", f"remote image not fetched: {src} (printed as its description and address;"
                    " --allow-remote fetches it)", article.source, line))
                print_instead(token, f"{token.content} ({src})" if token.content else src)
                continue
            path = (Path(url2pathname(urlsplit(src).path)) if scheme == "file"
                    else article.source.parent / unquote(src.split("#")[0].split("?")[0]))
            if "\0" in str(path) or len(src) > MAX_ADDRESS:
                raise ArticleError(f"image {unquote(src)[:60]!r} is not a file name", article.source, line)
            refusal = policy.refusal(path)
            if refusal:
                found.append(Diagnostic("W106", f"image {unquote(src)} {refusal}; not read", article.source, line))
                print_instead(token, token.content)
                continue
            try:
                found_file = path.is_file()
            except OSError as exc:
                raise ArticleError(f"image {unquote(src)} cannot be read ({exc.strerror})",
                                   article.source, line) from None
            if not found_file:
                raise ArticleError(f"image not found: {unquote(src)}", article.source, line)
            pixels = pixel_count(path)
            if pixels > max_pixels:
                raise ArticleError(
                    f"image {unquote(src)} has {pixels / 1e6:.0f} megapixels, over the limit of"
                    f" {max_pixels / 1e6:.0f} ([limits] image_megapixels in handout.toml)", article.source, line)


def print_instead(image: Token, text: str) -> None:
    image.type, image.children = "html_inline", None
    image.content = f'<span class="image-not-included">{html.escape(text)}</span>' if text else ""


def source_line(article: Article, block: Token, needle: str) -> int | None:
    if not block.map:
        return None
    start, end = block.map
    lines = article.body.split("\n")
    for offset, text in enumerate(lines[start:end]):
        if unquote(needle) in text or needle in text:
            return article.body_first_line + start + offset
    return article.body_first_line + start



# The passes over an article's tokens, in order, by name (as markdown-it's Ruler names its rules).
TOKEN_PASSES: tuple[tuple[str, Callable[[Conversion], None]], ...] = (
    ("nesting", check_nesting),
    ("badges", leave_out_badge_rows),
    ("raw_html", raw_html_removals),
    ("math", draw_math),
    ("headings", demote_headings),
    ("images", place_images),
    ("links", check_links),
    ("tables", size_tables),
    ("footnotes", place_footnotes),
    ("figures", make_figures),
)
