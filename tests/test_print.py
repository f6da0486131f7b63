"""Print shop and accessibility: booklets, n-up sheets, bleed and marks, PDF/UA, PDF/A, PDF/X."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run, text_runs, write
from pypdf import PdfReader

from generator.output.imposition import saddle_order

MM = 72 / 25.4
A4 = (210, 297)


def six_parts(project: Path) -> Path:
    """An article of 7 pages: the title, then one page per marked part."""
    parts = ["---\ntitle: Booklet\nlang: en-GB\n---\n"] + [
        f'<h2 style="break-before: page">Marker {n}</h2>\n\nThe text of part {n}.\n' for n in range(1, 7)]
    return write(project / "content" / "b.md", "\n".join(parts))


def size_mm(pdf: Path, page: int = 0) -> tuple[int, int]:
    box = PdfReader(pdf).pages[page].mediabox
    return round(float(box.width) / MM), round(float(box.height) / MM)


def halves(pdf: Path, page: int, columns: int = 2, rows: int = 1) -> list[str]:
    """The text in each cell of a sheet side, row by row: what a reader sees on each half."""
    sheet = PdfReader(pdf).pages[page]
    width, height = float(sheet.mediabox.width), float(sheet.mediabox.height)
    cells = [""] * (columns * rows)
    for placed in text_runs(sheet):
        col = min(int(placed.x / width * columns), columns - 1)
        row = min(int((height - placed.y) / height * rows), rows - 1)
        cells[row * columns + col] += placed.text
    return cells


def page_number(text: str) -> int | None:
    found = re.search(r"page (\d+) of", text)
    return int(found.group(1)) if found else None


def test_saddle_order_pads_to_a_multiple_of_four():
    assert saddle_order(7) == [None, 0, 1, 6, 5, 2, 3, 4]
    assert saddle_order(4) == [3, 0, 1, 2]
    assert saddle_order(1) == [None, 0, None, None]


def test_booklet_sheets_are_in_saddle_stitch_order(project):
    six_parts(project)
    result = run("build", "--booklet", "full")
    assert result.exit_code == 0
    assert "output/b.pdf (7 pages, " in result.stdout and "+ output/b-booklet.pdf" in result.stdout
    booklet = project / "output" / "b-booklet.pdf"
    assert len(PdfReader(booklet).pages) == 4  # 2 sheets, front and back
    assert size_mm(booklet) == (420, 297)  # A3 landscape: two A4 pages side by side
    printed = [[page_number(text) for text in halves(booklet, side)] for side in range(4)]
    assert printed == [[None, 1], [2, 7], [6, 3], [4, 5]]  # page 8 is the blank that pads to 8


def test_a_booklet_is_a5_pages_on_a4_sheets_unless_asked_for_in_full(project):
    six_parts(project)
    assert run("build", "--booklet").exit_code == 0  # what an office printer prints
    booklet = project / "output" / "b-booklet.pdf"
    assert size_mm(booklet) == (297, 210)
    assert [page_number(t) for t in halves(booklet, 1)] == [2, 7]
    assert run("build", "--booklet", "a5").exit_code == 0
    assert size_mm(booklet) == (297, 210)


def test_booklet_without_a_size_before_an_article_takes_the_article_as_what_to_build(project):
    six_parts(project)
    write(project / "content" / "other.md", "# Other\n\nNot asked for.\n")
    result = run("build", "--booklet", "content/b.md")
    assert result.exit_code == 0, result.output
    assert size_mm(project / "output" / "b-booklet.pdf") == (297, 210)
    assert not (project / "output" / "other.pdf").exists()
    wrong = run("build", "--booklet", "a4")
    assert wrong.exit_code == 2 and "'a4' is not one of 'a5', 'full', nor a file" in wrong.output


def test_two_and_four_up(project):
    six_parts(project)
    assert run("build", "--n-up", "2", "--n-up", "4").exit_code == 0
    two, four = project / "output" / "b-2up.pdf", project / "output" / "b-4up.pdf"
    assert len(PdfReader(two).pages) == 4 and size_mm(two) == (297, 210)
    assert [page_number(t) for t in halves(two, 1)] == [3, 4]
    assert len(PdfReader(four).pages) == 2 and size_mm(four) == A4
    assert [page_number(t) for t in halves(four, 0, rows=2)] == [1, 2, 3, 4]
    assert [page_number(t) for t in halves(four, 1, rows=2)] == [5, 6, 7, None]


def ink_outside_the_trim(pdf: Path, tmp: Path) -> int:
    """How many dark pixels the first page prints beyond its trim box (in the bleed, where
    only crop marks go), as pdftoppm renders it at 150 dpi."""
    from PIL import Image

    renderer = shutil.which("pdftoppm")
    if not renderer:
        if os.environ.get("CI"):
            pytest.fail("pdftoppm is missing: .ci/run installs poppler-utils")
        pytest.skip("pdftoppm is not installed (apt-get install poppler-utils)")
    subprocess.run([renderer, "-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(tmp / "page")],
                   check=True, timeout=60)
    page = PdfReader(pdf).pages[0]
    scale = 150 / 72
    left, bottom = (float(page.trimbox.left) - float(page.mediabox.left)) * scale, \
        (float(page.trimbox.bottom) - float(page.mediabox.bottom)) * scale
    image = Image.open(tmp / "page.png").convert("L")
    width, height = image.size
    trim = (round(left) + 1, round(height - bottom - float(page.trimbox.height) * scale) + 1,
            round(left + float(page.trimbox.width) * scale) - 1, round(height - bottom) - 1)
    dark = sum(1 for value in image.tobytes() if value < 128)
    return dark - sum(1 for value in image.crop(trim).tobytes() if value < 128)


def test_bleed_and_crop_marks(project, tmp_path):
    write(project / "content" / "a.md", "Text.\n")
    assert run("build", "--bleed", "3mm", "-o", "plain").exit_code == 0
    assert run("build", "--bleed", "3mm", "--marks", "crop").exit_code == 0
    page = PdfReader(project / "output" / "a.pdf").pages[0]
    trim, media = page.trimbox, page.mediabox
    assert round(float(trim.width) / MM) == 210 and round(float(trim.height) / MM) == 297
    assert float(media.width) >= float(trim.width) + 6 * MM - 0.01  # 3 mm of bleed each side
    # The marks are ink in the bleed, at the corners; without --marks the bleed is blank.
    assert ink_outside_the_trim(project / "plain" / "a.pdf", tmp_path) == 0
    assert ink_outside_the_trim(project / "output" / "a.pdf", tmp_path) > 50
    assert run("build", "--bleed", "three").exit_code == 2


def xmp(pdf: Path) -> str:
    metadata = PdfReader(pdf).trailer["/Root"].get("/Metadata")
    return metadata.get_object().get_data().decode() if metadata else ""


@pytest.mark.parametrize("variant, identification", [
    ("pdf/ua-1", "pdfuaid:part"),
    ("pdf/a-3b", "pdfaid:part"),
    ("pdf/x-4", "GTS_PDFXVersion"),
])
def test_variants_are_tagged_and_identified(project, variant, identification):
    write(project / "content" / "a.md", "---\ntitle: Tagged\nauthor: Me\nlang: de\n---\n## Teil\n\nText.\n")
    assert run("build", "--variant", variant).exit_code == 0
    pdf = project / "output" / "a.pdf"
    root = PdfReader(pdf).trailer["/Root"]
    assert root["/Lang"] == "de"
    assert identification in xmp(pdf)
    if variant == "pdf/ua-1":
        assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    if variant.startswith(("pdf/a", "pdf/x")):
        assert "/OutputIntents" in root


def test_variants_are_reproducible(project, monkeypatch):
    write(project / "content" / "a.md", "---\ndate: 2025-02-01\n---\nText.\n")
    assert run("build", "--variant", "pdf/a-3b", "-o", "one").exit_code == 0
    assert run("build", "--variant", "pdf/a-3b", "-o", "two").exit_code == 0
    assert (project / "one" / "a.pdf").read_bytes() == (project / "two" / "a.pdf").read_bytes()


def test_pdf_ua_needs_alt_text_for_every_image(project):
    shutil.copy(Path(__file__).parent / "corpus" / "images" / "weekly-visits.png", project / "content" / "c.png")
    write(project / "content" / "a.md", "Chart:\n\n![](c.png)\n")
    write(project / "content" / "ok.md", "Chart:\n\n![Visits per day](c.png)\n")
    result = run("build", "--variant", "pdf/ua-1")
    assert result.exit_code == 1
    assert "content/a.md: error: pdf/ua-1 needs alt text for every image; these have none: c.png" in result.stderr
    assert (project / "output" / "ok.pdf").exists()


def qpdf() -> str:
    found = shutil.which("qpdf")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("qpdf is missing: .ci/run installs it")
        pytest.skip("qpdf is not installed (apt-get install qpdf)")
    return found


def test_qpdf_finds_nothing_wrong_in_any_output(project):
    checker = qpdf()
    six_parts(project)
    assert run("build", "--booklet", "--n-up", "2", "--n-up", "4", "--variant", "pdf/ua-1",
               "--bleed", "3mm", "--marks", "crop cross").exit_code == 0
    outputs = sorted((project / "output").glob("*.pdf"))
    assert len(outputs) == 4
    for pdf in outputs:
        check = subprocess.run([checker, "--check", str(pdf)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No syntax or stream encoding errors found" in check.stdout


def test_photos_are_scaled_down_to_300_dpi_at_the_size_they_print(project):
    from PIL import Image

    Image.effect_noise((3000, 2000), 40).convert("RGB").save(project / "content" / "photo.jpg", quality=90)
    write(project / "content" / "a.md", "A photo of the waiting room:\n\n![The waiting room](photo.jpg)\n")

    def image_width(folder: str) -> int:
        (image,) = PdfReader(project / folder / "a.pdf").pages[0].images
        return image.image.width

    assert run("build", "--check").exit_code == 0  # and C206 finds it sharp enough
    # The text column is 142 mm wide: 5.6 inches, so about 1677 pixels at 300 dpi.
    assert 1600 <= image_width("output") <= 1700
    assert run("build", "--image-dpi", "0", "-o", "original").exit_code == 0
    assert image_width("original") == 3000
    assert (project / "output" / "a.pdf").stat().st_size < (project / "original" / "a.pdf").stat().st_size / 2
