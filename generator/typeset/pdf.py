"""Stage 4: a handout's HTML typeset into PDF bytes by WeasyPrint."""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import PIL.Image

from ..diagnostics import Diagnostic
from ..errors import ArticleError, Refused, display_path
from ..output.printing import PrintOptions
from ..remote import fetch_remote
from ..sandbox import ReadPolicy, pixel_count
from .engine import FontConfiguration, URLFetcherResponse, weasyprint
from .render import Page


@dataclass(frozen=True)
class Pdf:
    data: bytes
    pages: int
    diagnostics: tuple[Diagnostic, ...]
    # Every file typesetting read (images, stylesheets, fonts): what the handout was made from.
    files_read: tuple[Path, ...] = ()


class SafeFetcher(weasyprint.URLFetcher):
    def __init__(self, policy: ReadPolicy):
        super().__init__(allowed_protocols=("file", "data", "http", "https"), allow_redirects=False)
        self.policy = policy
        self.refused: list[tuple[str, str]] = []  # (warning code, reason)
        self.files_read: list[Path] = []
        self.too_large: list[str] = []  # images over the pixel limit: an error for the article
        # Pillow imports its forty image plugins the first time a file is none of the common
        # kinds (every font is one): here, before the handout's typesetting time starts.
        PIL.Image.init()

    def fetch(self, url, headers=None):
        try:
            return self.within_pixel_limit(self.fetch_allowed(url, headers))
        except Refused as exc:
            self.refused.append((exc.code, str(exc)))
            raise

    def within_pixel_limit(self, response: URLFetcherResponse) -> URLFetcherResponse:
        """The response, read, unless it is an image with more pixels than the limit.

        Every image WeasyPrint loads comes here: from Markdown, a raw <img>, a
        data: address, CSS or an SVG's <image>. Only the header is read
        for the size, so a decompression bomb is never decoded.
        """
        if response.path:  # a file: the header only, not the whole file (fonts come this way too)
            body, pixels = None, pixel_count(Path(response.path))
        else:
            body = response.read()
            response.close()
            pixels = pixel_count(io.BytesIO(body))
        if pixels > self.policy.max_pixels:
            name = display_path(response.path) if response.path else response.url[:60] + "…" * (len(response.url) > 60)
            self.too_large.append(f"image {name} has {pixels / 1e6:.0f} megapixels, over the limit of"
                                  f" {self.policy.max_pixels / 1e6:.0f} ([limits] image_megapixels in handout.toml)")
            response.close()
            raise Refused(self.too_large[-1], "W106")
        return response if body is None else URLFetcherResponse(response.url, body, response.headers, response.status)

    def fetch_allowed(self, url: str, headers):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(url2pathname(urlsplit(url).path))
            refusal = self.policy.refusal(path)
            if refusal:
                raise Refused(f"{display_path(path)} {refusal}; not read", "W106")
            self.files_read.append(path)
            return super().fetch(url, headers)
        if scheme in ("http", "https"):
            if not self.policy.allow_remote:
                raise Refused(f"{url} is on the network; not fetched (--allow-remote fetches it)")
            body, content_type, final_url = fetch_remote(url, self.policy)
            return URLFetcherResponse(final_url, body, {"Content-Type": content_type})
        raise Refused(f"{url}: {scheme}: addresses are not read", "W106")


class WarningCollector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def font_timestamps(timestamp: str):
    """Date the fonts WeasyPrint writes with the handout's own date, not the clock.

    fontTools stamps each font it saves (WeasyPrint saves the CJK fonts it
    instantiates) with SOURCE_DATE_EPOCH when set, else the time now; the
    PDF would differ from run to run.
    """
    if "SOURCE_DATE_EPOCH" in os.environ or not timestamp:
        yield
        return
    moment = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


@functools.cache
def font_configuration() -> FontConfiguration:
    """One per process: WeasyPrint loads each @font-face font into it once, not once a document."""
    return FontConfiguration()


@functools.lru_cache(maxsize=16)
def theme_stylesheet(css: str, policy: ReadPolicy) -> weasyprint.CSS:
    """The theme's stylesheet, parsed once per process for all the handouts that share it.

    Given to WeasyPrint as a user stylesheet: it is the handout's look, and an
    author's own styles (a --css file, a style attribute) still win over it.
    """
    return weasyprint.CSS(string=css, font_config=font_configuration(), url_fetcher=SafeFetcher(policy))


def with_identifier(data: bytes) -> bytes:
    """The PDF `data` with a file identifier (/ID) that is a hash of its bytes.

    So the same article gives the same bytes, run after run. WeasyPrint can
    make one too, but it compresses every stream of the file a second time to
    hash it: a tenth of the typesetting time.

    WeasyPrint writes the PDF versions handout asks for (1.6 and later) with a
    cross-reference stream, the file's last object, whose dictionary is the
    trailer. The /ID goes at the start of that dictionary: no offset moves.
    """
    digest = hashlib.sha256(data).hexdigest()[:32].encode()
    trailer_at = int(data[data.rindex(b"startxref") + len(b"startxref"):].split()[0])
    insert_at = data.index(b"<<", trailer_at) + len(b"<<")
    return data[:insert_at] + b"/ID [<" + digest + b"> <" + digest + b">]" + data[insert_at:]


def layout(page: Page, fetcher: SafeFetcher, printing: PrintOptions, profiles: dict,
           fit_css: str = "") -> weasyprint.Document:
    """The page laid out by WeasyPrint: the theme's stylesheet, then the fallback fonts', a fit's
    (fit.py) and the print shop's. An @color-profile rule (PDF/X's output intent) lands in `profiles`."""
    stylesheets = [theme_stylesheet(page.css, fetcher.policy)] if page.css else []
    for css in (page.fallback_css, fit_css, printing.stylesheet()):
        if css:
            stylesheets.append(weasyprint.CSS(string=css, font_config=font_configuration(),
                                              url_fetcher=fetcher, color_profiles=profiles))
    return weasyprint.HTML(string=page.html, base_url=page.base_url, url_fetcher=fetcher).render(
        font_config=font_configuration(), color_profiles=profiles, stylesheets=stylesheets,
        pdf_variant=printing.variant, dpi=printing.image_dpi or None,
    )


def page_count(page: Page, policy: ReadPolicy, printing: PrintOptions, fit_css: str) -> int:
    """How many pages the page takes with `fit_css` after the theme's: laid out, not written."""
    with font_timestamps(page.timestamp):
        return len(layout(page, SafeFetcher(policy), printing, {}, fit_css).pages)


def typeset(page: Page, source: Path, policy: ReadPolicy, printing: PrintOptions | None = None,
            fit_css: str = "") -> Pdf:
    """The page typeset as PDF bytes. The time it may take is the batch's to bound:
    pool.py kills a worker that runs past [limits] render_seconds."""
    printing = printing or PrintOptions()
    collector = WarningCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    fetcher = SafeFetcher(policy)
    try:
        with font_timestamps(page.timestamp):
            document = layout(page, fetcher, printing, {}, fit_css)
            data = with_identifier(document.write_pdf(pdf_identifier=False, pdf_variant=printing.variant,
                                                      custom_metadata=True))
    finally:
        logger.removeHandler(collector)
    if fetcher.too_large:
        raise ArticleError(fetcher.too_large[0], source)
    refusals = [Diagnostic(code, reason, source) for code, reason in dict.fromkeys(fetcher.refused)]
    # WeasyPrint also logs each refused resource; the refusal above says it better.
    messages = [m for m in dict.fromkeys(collector.messages)
                if not any(reason in m for _, reason in fetcher.refused)]
    return Pdf(
        data=data,
        pages=len(document.pages),
        diagnostics=tuple(refusals) + tuple(Diagnostic("W104", f"renderer: {m}", source) for m in messages),
        files_read=tuple(dict.fromkeys(fetcher.files_read)),
    )
