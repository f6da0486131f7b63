"""Post-processing for the print shop: a PDF in, a PDF with pages arranged on sheets out.

- booklet: pages padded with blanks to a multiple of 4 and ordered for saddle
  stitching, two pages side by side on each side of a landscape sheet (A4 pages
  on A3 sheets; with `a5`, A4 pages shrunk to A5 on A4 sheets);
- n-up: 2 or 4 pages on each sheet of the handout's own paper, for take-away copies.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter, Transformation


@dataclass(frozen=True)
class Layout:
    """Where pages go: a grid of cols x rows on sheets of width x height points."""

    width: float
    height: float
    cols: int
    rows: int


def impose(data: bytes, layout: Layout, order: list[int | None]) -> bytes:
    """Place the pages of `data` in `order` (None: a blank) into the grid cells, row by row.

    Each page is scaled to fit its cell and centred in it.
    """
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter()
    cell_width, cell_height = layout.width / layout.cols, layout.height / layout.rows
    per_sheet = layout.cols * layout.rows
    for start in range(0, len(order), per_sheet):
        sheet = writer.add_blank_page(layout.width, layout.height)
        for slot, index in enumerate(order[start:start + per_sheet]):
            if index is None:
                continue
            page = reader.pages[index]
            width, height = float(page.mediabox.width), float(page.mediabox.height)
            scale = min(cell_width / width, cell_height / height)
            col, row = slot % layout.cols, slot // layout.cols
            x = col * cell_width + (cell_width - width * scale) / 2
            y = layout.height - (row + 1) * cell_height + (cell_height - height * scale) / 2
            sheet.merge_transformed_page(
                page, Transformation().translate(-float(page.mediabox.left), -float(page.mediabox.bottom))
                .scale(scale).translate(x, y))
    copy_metadata(reader, writer)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def page_size(data: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    return float(box.width), float(box.height)


def saddle_order(pages: int) -> list[int | None]:
    """Page indices for a saddle-stitched booklet, two to a sheet side, left then right."""
    total = -(-pages // 4) * 4
    order: list[int | None] = []
    for sheet in range(total // 4):
        front = (total - 1 - 2 * sheet, 2 * sheet)
        back = (2 * sheet + 1, total - 2 - 2 * sheet)
        order += [i if i < pages else None for i in front + back]
    return order


def booklet(data: bytes, size: str = "full", sheet: tuple[float, float] | None = None) -> bytes:
    """A booklet: `full` keeps the page size (sheets twice as wide), `a5` halves it (same sheets);
    `sheet`, the landscape sheet's width and height in points where it is not the page's (pages laid
    out at half size already)."""
    width, height = page_size(data)
    pages = len(PdfReader(io.BytesIO(data)).pages)
    sheet = sheet or ((2 * width, height) if size == "full" else (height, width))
    layout = Layout(*sheet, 2, 1)
    return impose(data, layout, saddle_order(pages))


def n_up(data: bytes, n: int) -> bytes:
    """`n` pages (2 or 4) on each sheet of the handout's paper: 2 side by side on a
    landscape sheet, 4 in a grid on a portrait one."""
    width, height = page_size(data)
    pages = len(PdfReader(io.BytesIO(data)).pages)
    layout = Layout(height, width, 2, 1) if n == 2 else Layout(width, height, 2, 2)
    return impose(data, layout, list(range(pages)))


def copy_metadata(reader: PdfReader, writer: PdfWriter) -> None:
    if reader.metadata:
        writer.add_metadata({key: value for key, value in reader.metadata.items() if isinstance(value, str)})
    # The same pages give the same sheets, run after run.
    identifier = reader.trailer.get("/ID")
    if identifier:
        writer._ID = identifier  # noqa: SLF001 - pypdf has no public setter for /ID
