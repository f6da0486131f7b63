"""--fit and fit:, the paper a build takes by default, and the footer's title: read from the PDFs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import page_texts, pdf_words, run, text_runs, words, write
from pypdf import PdfReader

from generator.output.printing import system_paper

MM = 72 / 25.4


def article(project: Path, name: str, parts: int, front: str = "") -> list[str]:
    """An article of `parts` sections of prose; returns its paragraphs."""
    paragraphs = [" ".join(f"Sentence {n}.{k} tells the reader one more useful thing about washing hands."
                           for k in range(6)) for n in range(1, parts + 1)]
    body = "\n\n".join(f"## Part {n}\n\n{paragraph}" for n, paragraph in enumerate(paragraphs, 1))
    write(project / "content" / f"{name}.md", f"---\ntitle: Hand washing\n{front}---\n\n{body}\n")
    return paragraphs


def all_printed(paragraphs: list[str], pdf: Path) -> bool:
    """Whether every character of the paragraphs is in the PDF's text, in order, with the title,
    headings, running header and footer taken out (a word broken at the foot of a page has the
    footer between its halves)."""
    text = re.sub(r"Hand washing( – page \d+ of \d+)?|Part \d+", "", "".join(page_texts(pdf)))
    return re.sub(r"\s", "", "".join(paragraphs)) in re.sub("[\\s\u2010]", "", text)


def size_mm(pdf: Path, page: int = 0) -> tuple[int, int]:
    box = PdfReader(pdf).pages[page].mediabox
    return round(float(box.width) / MM), round(float(box.height) / MM)


def test_an_article_of_a_page_and_a_third_fits_on_one_with_every_word(project):
    paragraphs = article(project, "hands", 6)
    assert run("build", "-o", "plain").exit_code == 0
    plain = len(PdfReader(project / "plain" / "hands.pdf").pages)
    assert plain == 2 and len(page_texts(project / "plain" / "hands.pdf")[1]) < len(
        page_texts(project / "plain" / "hands.pdf")[0]) / 2  # a page and less than half another

    result = run("build", "--fit", "1")
    assert result.exit_code == 0, result.output
    pdf = project / "output" / "hands.pdf"
    assert len(PdfReader(pdf).pages) == 1
    assert all_printed(paragraphs, pdf)
    assert "content/hands.md: warning: fitted on 1 page (--fit 1): line height 1.45 -> " in result.stderr
    assert "[W130]" in result.stderr
    # Nothing went under the theme's floor (9.5 pt body) or off the page.
    body_sizes = {placed.size for placed in text_runs(PdfReader(pdf).pages[0]) if "Sentence" in placed.text}
    assert body_sizes and min(body_sizes) >= 9.5


def test_fit_in_front_matter_and_a_handout_that_fits_as_it_is(project):
    article(project, "short", 1, "fit: 1\n")
    article(project, "two", 7, "fit: 2\n")
    result = run("build")
    assert result.exit_code == 0 and "W130" not in result.stderr  # nothing to change
    article(project, "short", 7, "fit: 1\n")
    result = run("build")
    assert "content/short.md: warning: fitted on 1 page (--fit 1)" in result.stderr
    assert len(PdfReader(project / "output" / "short.pdf").pages) == 1


def test_an_article_that_cannot_fit_fails_in_one_line_and_the_others_build(project):
    article(project, "long", 40, "fit: 1\n")
    article(project, "other", 2)
    result = run("build")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if "long.md" in line]
    assert len(errors) == 1 and "Traceback" not in result.output
    assert errors[0].startswith("content/long.md: error: does not fit on 1 page: ")
    assert "pages at the theme's floors (body 9.5 pt, line height 1.2" in errors[0]
    assert "nothing was cut" in errors[0]
    assert not (project / "output" / "long.pdf").exists()
    assert (project / "output" / "other.pdf").exists()


def test_a_large_print_handout_never_fits_under_18_pt(project):
    article(project, "big", 3, "theme: large-print\n")
    result = run("build", "--fit", "1")
    assert result.exit_code == 1
    assert "at the theme's floors (body 18 pt, line height 1.15, margins 25.4/25.4/25.4/25.4 mm)" in result.stderr


def test_bad_fit_in_front_matter_names_the_file_and_line(project):
    write(project / "content" / "a.md", "---\ntitle: A\nfit: two\n---\n\nText.\n")
    result = run("build")
    assert result.exit_code == 1
    assert "content/a.md:3: error: fit must be a number of pages from 1 to 999, as 2" in result.stderr


def test_fit_for_a_folded_booklet_lays_out_half_size_pages(project):
    paragraphs = article(project, "fold", 7)
    result = run("build", "--fit", "4", "--booklet")
    assert result.exit_code == 0, result.output
    pdf, booklet = project / "output" / "fold.pdf", project / "output" / "fold-booklet.pdf"
    assert size_mm(pdf) == (148, 210)  # the booklet's own pages: A5, printed at full size
    assert len(PdfReader(pdf).pages) <= 4 and all_printed(paragraphs, pdf)
    assert size_mm(booklet) == (297, 210) and len(PdfReader(booklet).pages) == 2  # one A4 sheet, both sides
    assert f"({len(PdfReader(pdf).pages)} pages, A5, " in result.stdout


@pytest.mark.parametrize(("locale", "paper"), [
    ("en_US.UTF-8", "letter"), ("fr_CA.UTF-8", "letter"), ("de_DE.UTF-8", "a4"), ("en_GB", "a4"), ("C.UTF-8", "a4"),
    ("", "a4")])
def test_system_paper_from_the_locale(locale, paper):
    assert system_paper({"LC_PAPER": locale, "LANG": "de_DE.UTF-8"} if locale else {}) == paper


def test_system_paper_falls_back_to_lc_all_then_lang():
    assert system_paper({"LC_ALL": "en_US.UTF-8", "LANG": "de_DE.UTF-8"}) == "letter"
    assert system_paper({"LANG": "es_MX.UTF-8"}) == "letter"


def test_the_paper_default_is_the_systems_and_the_build_line_says_it(project, monkeypatch):
    write(project / "content" / "a.md", "Text.\n")
    write(project / "content" / "named.md", "---\npaper: a4\n---\n\nText.\n")
    monkeypatch.setenv("LC_PAPER", "en_US.UTF-8")
    result = run("build")
    assert "content/a.md -> output/a.pdf (1 page, Letter, " in result.stdout
    assert size_mm(project / "output" / "a.pdf") == (216, 279)
    assert size_mm(project / "output" / "named.pdf") == (210, 297)  # the front matter wins
    monkeypatch.setenv("LC_PAPER", "de_DE.UTF-8")
    result = run("build")  # the default is in the fingerprint: the handout is made again
    assert "content/a.md -> output/a.pdf (1 page, A4, " in result.stdout
    assert size_mm(project / "output" / "a.pdf") == (210, 297)
    write(project / "handout.toml", "[defaults]\npaper = \"letter\"\n")
    assert run("build").exit_code == 0
    assert size_mm(project / "output" / "a.pdf") == (216, 279)  # handout.toml wins over the system


LONG_TITLE = ("A very long title about washing hands at home, at school, at work and everywhere else people"
              " meet, written so that it could never fit on one line of any footer whatever the theme")


@pytest.mark.parametrize("theme", ["handout", "two-column", "tufte", "large-print"])
def test_a_long_title_is_shortened_to_one_footer_line(project, theme):
    write(project / "content" / "a.md", f"---\ntitle: {LONG_TITLE}\ntheme: {theme}\n---\n\n" +
          "\n\n".join(f"Paragraph {n} of the text." for n in range(60)) + "\n")
    assert run("build").exit_code == 0
    # The second page: the title block is not above its text.
    runs = [placed for placed in text_runs(PdfReader(project / "output" / "a.pdf").pages[1]) if placed.text.strip()]
    text_bottom = min(placed.y for placed in runs if placed.text.startswith("Paragraph"))
    footer = [placed for placed in runs if placed.y < text_bottom - 1]
    lines = {round(placed.y) for placed in footer}
    text = "".join(placed.text for placed in footer)
    assert len(lines) == 1, (theme, text)
    assert "…" in text and "page 2 of" in text
    assert words(text).startswith("A very long title")
    assert LONG_TITLE in pdf_words(project / "output" / "a.pdf")  # the title block keeps it whole
