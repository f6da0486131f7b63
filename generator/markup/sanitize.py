"""Raw HTML in an article, made safe to typeset, with every removal reported.

Articles come from the web. Their raw HTML may carry scripts, event
handlers, javascript: links, <base>, <meta http-equiv>, forms, or elements
that pull in other files (<iframe>, <object>, <embed>, <link>). nh3 (the
ammonia sanitizer) keeps an allowlist of what handout itself writes and what
articles use for formatting; a scan of the same allowlist beforehand names
what it takes out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3
import tinycss2
import tinycss2.color3

# What markdown-it, its plugins, Pygments and handout's own markup write,
# and the formatting tags articles use.
ALLOWED_TAGS = {
    "a", "abbr", "aside", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "samp", "section", "small", "span", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "wbr",
}
# Removed with everything inside them, not just the tags.
REMOVED_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object", "embed",
                        "frameset", "frame", "applet", "math", "svg"}
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir", "style"},
    # Not data-url: markup.print_links makes it from the href, or one address could print beside a link to another.
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "input": {"type", "checked", "disabled"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type", "reversed"},
    "li": {"value"},
    "details": {"open"},
    "time": {"datetime"},
    "abbr": {"title"},
    "q": {"cite"},
    "blockquote": {"cite"},
}
# Style properties that format text; none of them can fetch a file or hide a page.
# Not white-space: "nowrap" on paper only runs text off the page.
ALLOWED_STYLES = {
    "color", "background-color", "text-align", "font-weight", "font-style", "text-decoration",
    "vertical-align", "width", "height", "margin", "margin-top", "margin-bottom", "margin-left",
    "margin-right", "padding", "padding-top", "padding-bottom", "padding-left", "padding-right",
    "border", "border-top", "border-bottom", "border-left", "border-right", "border-collapse",
    "font-size", "list-style-type",
    "break-before", "break-after", "break-inside", "page-break-before", "page-break-after",
    "page-break-inside",
}
URL_SCHEMES = {"http", "https", "mailto", "data"}
# What a link may lead to: where a reader of the paper can go.
LINK_SCHEMES = ("http", "https", "mailto")
# What is removed because it could run, fetch, submit or hide something (W108); the
# rest of what clean() leaves out is screen formatting the theme replaces (W109).
UNSAFE_TAGS = REMOVED_WITH_CONTENT | {"base", "meta", "link", "form", "button", "textarea", "select",
                                      "portal", "frame", "frameset", "param", "source", "track"}
UNSAFE_ATTRIBUTES = {"data-url", "action", "formaction", "http-equiv", "srcdoc", "srcset", "background", "poster",
                     "codebase", "ping", "xlink:href"}
UNSAFE_STYLES = {"background", "background-image", "border-image", "list-style-image", "content", "cursor",
                 "behavior", "-moz-binding", "position", "display", "visibility", "opacity", "z-index",
                 "clip", "clip-path", "mask", "filter", "transform"}


# Text smaller than this prints as a line or a dot: nobody reads it.
SMALLEST_TEXT = {"px": 4.0, "pt": 3.0, "em": 0.3, "rem": 0.3, "%": 30.0, "mm": 1.0, "q": 4.0, "ex": 0.6, "ch": 0.6}
PAGE_COLOUR = tinycss2.color3.parse_color("white")


def hiding_declarations(style: str) -> list[str]:
    """The declarations of a style attribute that hide its text on paper, as written.

    Text 0 or a few points high, text in the colour of its background (the
    style's own background-color, else the white page) or transparent, and a
    negative margin, which moves text over other text or off the page.
    """
    declarations = [d for d in tinycss2.parse_blocks_contents(style, skip_whitespace=True, skip_comments=True)
                    if d.type == "declaration"]
    background = next((colour_of(d.value) for d in declarations
                       if d.lower_name in ("background-color", "background")), None) or PAGE_COLOUR
    hiding = []
    for declaration in declarations:
        values = [t for t in declaration.value if t.type not in ("whitespace", "comment")]
        name = declaration.lower_name
        if name == "font-size" and values and values[0].type in ("number", "dimension", "percentage"):
            unit = "%" if values[0].type == "percentage" else getattr(values[0], "lower_unit", "px")
            hides = values[0].value < SMALLEST_TEXT.get(unit, 0.0) or values[0].value <= 0
        elif name == "color":
            colour = colour_of(declaration.value)
            hides = colour is not None and (
                colour.alpha < 0.3 or contrast(colour, background) < 1.5)
        elif name.startswith("margin"):
            hides = any(t.type in ("number", "dimension", "percentage") and t.value < 0 for t in values)
        else:
            hides = False
        if hides:
            hiding.append(f"{declaration.name}: {tinycss2.serialize(declaration.value).strip()}")
    return hiding


def colour_of(value: list) -> tinycss2.color3.RGBA | None:
    """The colour a declaration's value names, if it is one colour."""
    tokens = [t for t in value if t.type not in ("whitespace", "comment")]
    colour = tinycss2.color3.parse_color(tokens[0]) if len(tokens) == 1 else None
    return colour if isinstance(colour, tinycss2.color3.RGBA) else None  # not currentColor


def contrast(one, other) -> float:
    """WCAG's contrast ratio of two colours: 1 (the same) to 21 (black on white)."""
    def luminance(colour) -> float:
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                  for c in (colour.red, colour.green, colour.blue)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def without_hiding(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: a style attribute loses the declarations that hide text."""
    if attribute != "style":
        return value
    hiding = hiding_declarations(value)
    if not hiding:
        return value
    kept = [d.strip() for d in value.split(";") if d.strip() and not any(
        d.strip().replace(" ", "").lower() == h.replace(" ", "").lower() for h in hiding)]
    return "; ".join(kept) or None


def clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=REMOVED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=without_hiding,
        url_schemes=URL_SCHEMES,
        filter_style_properties=ALLOWED_STYLES,
        link_rel=None,
        strip_comments=True,
    )


@dataclass(frozen=True)
class Removal:
    what: str  # "onclick attribute of <p>"
    unsafe: bool  # else formatting for a screen
    hides_text: bool = False  # a style that would hide words on paper


class RemovalScanner(HTMLParser):
    """Lists what clean() will take out of a piece of raw HTML, serialised by as_parsed()."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.removed: list[Removal] = []
        self.inside_removed = 0  # what is inside an element removed with its content goes with it

    def handle_starttag(self, tag, attrs):
        if self.inside_removed:
            self.inside_removed += tag in REMOVED_WITH_CONTENT
            return
        if tag in REMOVED_WITH_CONTENT:
            self.inside_removed = 1
        if tag not in ALLOWED_TAGS:
            what = "and its content " if tag in REMOVED_WITH_CONTENT else ""
            self.removed.append(Removal(f"<{tag}> element {what}".strip(), tag in UNSAFE_TAGS))
            return
        allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            if name not in allowed:
                unsafe = name.startswith("on") or name in UNSAFE_ATTRIBUTES
                self.removed.append(Removal(f"{name} attribute of <{tag}>", unsafe))
            elif name == "style":
                for declaration in (value or "").split(";"):
                    prop = declaration.split(":", 1)[0].strip().lower()
                    if prop and prop not in ALLOWED_STYLES:
                        self.removed.append(Removal(f"{prop} style of <{tag}>", prop in UNSAFE_STYLES))
                for hiding in hiding_declarations(value or ""):
                    self.removed.append(Removal(f"'{hiding}' of <{tag}>", True, hides_text=True))
            elif name in ("href", "src") and value and ":" in value.split("/")[0]:
                scheme = value.split(":", 1)[0].strip().lower()
                if scheme not in (LINK_SCHEMES if tag == "a" else URL_SCHEMES):
                    self.removed.append(Removal(f"{scheme}: address of <{tag}>", True))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self.inside_removed and tag in REMOVED_WITH_CONTENT:
            self.inside_removed -= 1


TAG_NAMES = re.compile(r"</?([a-zA-Z][^\s/>]*)")
SCHEMES = re.compile(r"([a-zA-Z][\w+.\-\t\n\r]*):")


def as_parsed(raw_html: str) -> str:
    """Raw HTML as html5ever (nh3's parser) reads it, written out again with every
    element, attribute and script kept, but no comments, every tag closed and
    every attribute quoted.

    Python's html.parser takes quadratic time over what is left open (an
    unclosed comment or quote, '<a ' repeated): 300 KB took minutes. What
    html5ever writes out leaves nothing open. Reading what nh3 read also
    names exactly what clean() removes.
    """
    tags = {name.lower() for name in TAG_NAMES.findall(raw_html)}
    schemes = {re.sub(r"[\t\n\r]", "", scheme).lower() for scheme in SCHEMES.findall(raw_html)}
    return nh3.clean(raw_html, tags=tags, clean_content_tags=set(), attributes={}, generic_attribute_prefixes={""},
                     url_schemes=schemes, link_rel=None, strip_comments=True)


def removals(raw_html: str) -> list[Removal]:
    scanner = RemovalScanner()
    scanner.feed(as_parsed(raw_html))
    scanner.close()
    return list(dict.fromkeys(scanner.removed))


VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class DepthCounter(HTMLParser):
    def __init__(self):
        super().__init__()
        self.depth = self.deepest = 0

    def handle_starttag(self, tag, attrs):
        if tag not in VOID_TAGS:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag):
        if tag not in VOID_TAGS:
            self.depth = max(0, self.depth - 1)


def depth(html: str) -> int:
    """How deeply the elements of `html` nest (the renderer recurses that deep)."""
    counter = DepthCounter()
    counter.feed(html)
    counter.close()
    return counter.deepest


class ImageScanner(HTMLParser):
    def __init__(self):
        super().__init__()
        self.without_alt: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "img" and not (attributes.get("alt") or "").strip():
            self.without_alt.append(attributes.get("src") or "")


def images_without_alt(html: str) -> list[str]:
    """The addresses of the images in `html` that have no alt text."""
    scanner = ImageScanner()
    scanner.feed(html)
    scanner.close()
    return scanner.without_alt
