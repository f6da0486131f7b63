"""Stage 4: a handout's HTML typeset into PDF bytes by WeasyPrint."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import weasyprint

from .diagnostics import Diagnostic
from .render import Page


@dataclass(frozen=True)
class Pdf:
    data: bytes
    pages: int
    diagnostics: tuple[Diagnostic, ...]


class LocalFilesFetcher(weasyprint.URLFetcher):
    """Lets WeasyPrint read data: URLs and files under the given folders, nothing else."""

    def __init__(self, allowed_roots: list[Path]):
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self.allowed_roots = [root.resolve() for root in allowed_roots]

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(url2pathname(parts.path)).resolve()
            if not any(path.is_relative_to(root) for root in self.allowed_roots):
                raise ValueError(f"{path} is outside the project; not read")
        elif parts.scheme != "data":
            raise ValueError(f"{url} is not fetched: handouts use local files only")
        return super().fetch(url, headers)


class WarningCollector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def typeset(page: Page, source: Path, allowed_roots: list[Path]) -> Pdf:
    collector = WarningCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        document = weasyprint.HTML(
            string=page.html, base_url=page.base_url, url_fetcher=LocalFilesFetcher(allowed_roots),
        ).render()
        data = document.write_pdf()
    finally:
        logger.removeHandler(collector)
    return Pdf(
        data=data,
        pages=len(document.pages),
        diagnostics=tuple(
            # dict.fromkeys: WeasyPrint repeats a message once per use (per font, per page).
            Diagnostic("W104", f"renderer: {message}", source)
            for message in dict.fromkeys(collector.messages)
        ),
    )
