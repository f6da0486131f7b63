"""Shared helpers: build articles in a throw-away project and read PDFs as a reader would."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PageObject, PdfReader

from generator.cli.main import main

REPO = Path(__file__).resolve().parent.parent

# The suite's own cache (fonts made for handouts), never the user's ~/.cache/handout:
# set before any test, so the builds the tests start in subprocesses use it too.
CACHE = Path(tempfile.mkdtemp(prefix="handout-test-cache-"))
os.environ["HANDOUT_CACHE_DIR"] = str(CACHE)
atexit.register(shutil.rmtree, CACHE, ignore_errors=True)
# The paper a build takes where nothing names one is the system's: the suite's is A4 wherever it runs.
os.environ["LC_PAPER"] = "C.UTF-8"
SAMPLE = REPO / "content" / "000_22cf51892c953b2a.txt"
SAMPLE_SLUG = "000_22cf51892c953b2a"


def page_texts(pdf: Path) -> list[str]:
    """Each page's text, with words split by a line-break hyphen (U+2010) joined again."""
    texts = []
    for page in PdfReader(pdf).pages:
        text = page.extract_text()
        text = re.sub("\u2010\\s*\n\\s*", "", text)
        text = re.sub(r"-\n", "-", text)
        texts.append(text)
    return texts


def pdf_words(pdf: Path) -> str:
    """All the words of the PDF, white space folded: what a reader reads, to look for a passage."""
    return words(" ".join(page_texts(pdf)))


@dataclass(frozen=True)
class TextRun:
    """A run of text where it stands on the page: x, y in points from the bottom left,
    its printed size in points."""

    text: str
    x: float
    y: float
    size: float


def text_runs(page: PageObject) -> list[TextRun]:
    """The page's text runs, placed, read with pypdf's text visitor: the one reader of
    where text stands, for every test of geometry."""
    runs = []

    def visit(text, cm, tm, font, size):
        a, b, c, d, e, f = cm or (1, 0, 0, 1, 0, 0)
        runs.append(TextRun(text, a * tm[4] + c * tm[5] + e, b * tm[4] + d * tm[5] + f,
                            round(size * abs(tm[3]) * abs(d), 1)))

    page.extract_text(visitor_text=visit)
    return runs


def text_lines_inside(pdf: Path, margin_mm: float) -> list[list[str]]:
    """Each page's text lines from top to bottom, leaving out the page margins
    (where running headers and footers stand)."""
    margin = margin_mm * 72 / 25.4
    pages = []
    for page in PdfReader(pdf).pages:
        height = float(page.mediabox.height)
        by_height: dict[int, str] = {}
        for placed in text_runs(page):
            if placed.text.strip() and margin < placed.y < height - margin:
                by_height[round(placed.y)] = by_height.get(round(placed.y), "") + placed.text
        pages.append([by_height[y].strip() for y in sorted(by_height, reverse=True)])
    return pages


def long_article(folder: Path, name: str = "long") -> Path:
    """An article of several pages: 24 sections, each a heading and a paragraph of 2 to 6 sentences."""
    sections = []
    for n in range(1, 25):
        paragraph = " ".join(f"Sentence {n}.{k} of this section tells the reader a little more."
                             for k in range(n % 5 + 2))
        sections.append(f"## Section {n}\n\n{paragraph}\n")
    return write(folder / f"{name}.md", "---\ntitle: Long\n---\n" + "\n".join(sections))


def body_sentences() -> list[str]:
    """Every sentence of the sample's paragraphs (the long lines), in order."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    paragraphs = [line for line in lines if len(line) > 100]
    return [s for p in paragraphs for s in re.split(r"(?<=[.!?])\s+", p) if s]


def words(text: str) -> str:
    """Text with its white space folded, for comparing what was written to what was printed."""
    return " ".join(text.split())


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty handout project as the working directory, with content/ ready."""
    (tmp_path / "content").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def run(*args: str):
    """`handout ARGS...` in-process; returns click's Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="session")
def sample_pdf(tmp_path_factory) -> Path:
    """The sample article built once, as `handout build` in a fresh project makes it."""
    root = tmp_path_factory.mktemp("sample")
    (root / "content").mkdir()
    shutil.copy(SAMPLE, root / "content")
    result = CliRunner().invoke(main, ["build", str(root / "content"), "-o", str(root / "output")])
    assert result.exit_code == 0, result.output
    return root / "output" / f"{SAMPLE_SLUG}.pdf"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, shared by a module's web page tests (tests/browser.py)."""
    from browser import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    """A page of its own in that browser, waiting at most a build's time for anything."""
    from browser import BUILD_MS, fresh_page

    with fresh_page(browser, BUILD_MS) as page:
        yield page
