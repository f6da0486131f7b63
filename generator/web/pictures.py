"""Pictures of a handout's pages, drawn with PDFium (what Chrome draws PDFs with)."""

from __future__ import annotations

import threading
from pathlib import Path

import pypdfium2

# PDFium is not safe to call from two threads at once; the server answers in several.
PDFIUM = threading.Lock()
# Pixels per point: a page picture about 300 pixels wide, sharp on a high-density screen.
SCALE = 0.9


def render_pages(pdf: Path, folder: Path, first: int = 0, count: int = 1) -> list[Path]:
    """PNG files of pages first..first+count-1 of `pdf` in `folder`, named page-N.png."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with PDFIUM:
        document = pypdfium2.PdfDocument(pdf)
        try:
            for index in range(first, min(first + count, len(document))):
                target = folder / f"page-{index + 1}.png"
                document[index].render(scale=SCALE).to_pil().save(target)
                written.append(target)
        finally:
            document.close()
    return written


def first_page(pdf: Path, cache: Path) -> Path:
    """A picture of the PDF's first page, cached in `cache` under the PDF's size and time."""
    status = pdf.stat()
    folder = cache / pdf.stem
    target = folder / f"{status.st_size}-{status.st_mtime_ns}.png"
    if not target.exists():
        for old in folder.glob("*.png"):
            old.unlink(missing_ok=True)
        drawn = render_pages(pdf, folder)[0]
        drawn.replace(target)
    return target
