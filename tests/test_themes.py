"""Themes: each built-in one passes the check, looks like itself, and a project can add and extend themes."""

from __future__ import annotations

import re
import shutil
from itertools import pairwise
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from click.testing import CliRunner
from conftest import REPO, SAMPLE, page_texts, run, text_lines_inside, text_runs, words, write
from PIL import Image
from pypdf import PdfReader

from generator.check.pdfscan import parse_to_unicode
from generator.check.verify import CheckOptions, check
from generator.cli.main import main

THEMES = ["handout", "two-column", "tufte", "large-print"]
CORPUS = Path(__file__).parent / "corpus"
SHOWCASE = REPO / "content" / "hand-hygiene.md"
MM = 72 / 25.4


@pytest.fixture(scope="session")
def theme_reports(tmp_path_factory) -> dict:
    """The corpus, the sample and the showcase article, built and checked in every theme."""
    root = tmp_path_factory.mktemp("themes")
    shutil.copytree(CORPUS, root / "content")
    shutil.copy(SAMPLE, root / "content")
    shutil.copy(SHOWCASE, root / "content")
    reports = {}
    for theme in THEMES:
        output = root / theme
        result = CliRunner().invoke(main, ["build", str(root / "content"), "--theme", theme, "-o", str(output)])
        assert result.exit_code == 0, result.output
        for report in check([root / "content"], CheckOptions(output_dir=output)):
            reports[theme, report.article.name] = report
    return reports


ARTICLES = sorted(p.name for p in CORPUS.glob("*.md")) + [SAMPLE.name, SHOWCASE.name]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("article", ARTICLES)
def test_every_theme_passes_the_check(theme_reports, theme, article):
    report = theme_reports[theme, article]
    assert report.coverage == 1.0, [str(d) for d in report.diagnostics]
    layout_findings = [str(d) for d in report.diagnostics if d.code.startswith("C")]
    assert report.ok and layout_findings == []


@pytest.mark.parametrize("theme", THEMES)
def test_code_prints_each_character_as_it_is_typed(theme_reports, theme):
    """Readers copy code from paper by hand: no ligature (JetBrains Mono would draw <= as
    one sign and == as one long bar), and no hyphen added where a line breaks."""
    reader = PdfReader(theme_reports[theme, "code.md"].pdf)
    code_fonts = {ref.idnum: ref.get_object() for page in reader.pages
                  for ref in page["/Resources"]["/Font"].values() if "JetBrains" in ref.get_object()["/BaseFont"]}
    assert code_fonts
    for font in code_fonts.values():
        drawn = list(parse_to_unicode(font["/ToUnicode"].get_object().get_data()).values())
        assert "\u2010" not in drawn
        assert sorted(drawn) == sorted(set(drawn)), "a character drawn with two different glyphs"


WRAPPING_CODE = """
```python
class TextWrapper:
    def _munge_whitespace(self, text):
        if self.expand_tabs:
            text = text.expandtabs(self.tabsize)
        if self.replace_whitespace:
            text = text.translate(self.unicode_whitespace_trans)
        return text

    def _split(self, text):
        if self.break_on_hyphens is True:
            chunks = self.wordsep_re.split(text)
        else:
            chunks = self.wordsep_simple_re.split(text)
        return [chunk for chunk in chunks if chunk]
```
"""


@pytest.mark.parametrize("theme", THEMES)
def test_code_lines_wrap_between_names_never_inside_one(project, theme):
    write(project / "content" / "a.md", WRAPPING_CODE)
    assert run("build", "--theme", theme).exit_code == 0
    names = set(re.findall(r"\w+", WRAPPING_CODE))
    lines = [line for page in PdfReader(project / "output" / "a.pdf").pages
             for line in page.extract_text().splitlines()]
    split = [(before, after) for before, after in pairwise(lines)
             if (end := re.search(r"\w+$", before)) and (start := re.match(r"\w+", after))
             and end[0] + start[0] in names and end[0] not in names]
    assert not split


LINKS_IN_A_NARROW_CELL = """
| Error | Meaning | What to do |
|---|---|---|
| `E_TLS` | Certificate problem | Run `kiosk doctor --tls` and send the output to <it-support@example.org> |
| `E_PROXY` | The proxy refused the connection | Read <https://example.org/troubleshooting/proxy-configuration> first |
"""


@pytest.mark.parametrize("theme", THEMES)
def test_links_break_without_a_hyphen_a_reader_would_type(project, theme):
    write(project / "content" / "a.md", LINKS_IN_A_NARROW_CELL)
    assert run("build", "--theme", theme).exit_code == 0
    raw = "".join(page.extract_text() for page in PdfReader(project / "output" / "a.pdf").pages)
    for address in ("it-support@example.org", "https://example.org/troubleshooting/proxy-configuration"):
        broken = [address[:i] + "\u2010" for i in range(1, len(address))]
        assert not any(piece in raw for piece in broken), address


ARABIC = """---
title: غسل اليدين في المنزل
lang: ar
---

اغسل يديك بالماء والصابون لمدة عشرين ثانية على الأقل. هذا مهم قبل الأكل وبعد استخدام المرحاض.

## متى تغسل يديك؟

- قبل تحضير الطعام.
- بعد السعال أو العطس.

اتصل بالعيادة على الرقم 020 7946 0958 إذا كانت لديك أسئلة.
"""


def test_an_arabic_handout_is_laid_out_from_the_right(project):
    from generator.check.pdfscan import scan_pdf

    write(project / "content" / "a.md", ARABIC)
    built = run("build", "--check")
    assert built.exit_code == 0, built.stdout  # every word, the telephone number in its order too
    reader = PdfReader(project / "output" / "a.pdf")
    assert reader.trailer["/Root"]["/Lang"] == "ar"
    column_right = (210 - 34) * MM
    (heading,) = [line for line in scan_pdf(reader)[0].lines if "؟" in line.text]  # "...يديك؟"
    # A short line (the heading) ends at the column's right edge, where Arabic starts
    # (within the width of a letter: shaped glyphs' widths are read back roughly).
    assert abs(heading.end_x - column_right) < 12


@pytest.mark.parametrize("theme", THEMES)
def test_a_column_of_short_codes_keeps_them_whole_beside_long_text(project, theme):
    rows = "\n".join(f"| {n} | Session {n}: {'hand hygiene and infection control ' * 3}| Ward B{n} "
                     f"| `code_{n}` |" for n in range(10, 16))
    write(project / "content" / "a.md", f"| # | Topic | Location | Code |\n|---|---|---|---|\n{rows}\n")
    assert run("build", "--theme", theme).exit_code == 0
    text = "\n".join(page_texts(project / "output" / "a.pdf"))
    assert all(f"code_{n}" in text for n in range(10, 16)), text


def test_the_words_handout_adds_are_in_the_articles_language(project):
    write(project / "content" / "a.md", "---\nlang: zh\ntoc: true\n---\n\n## 洗手\n\n"
                                        "![每周就诊人数](images/weekly-visits.png)\n")
    shutil.copytree(REPO / "content" / "images", project / "content" / "images")
    built = run("build", "--check")
    assert built.exit_code == 0, built.stdout  # the labels' characters have glyphs too
    text = "\n".join(page_texts(project / "output" / "a.pdf"))
    assert "目录" in text and "图 1." in text and "第 2 页，共 2 页" in text


def test_themes_command_lists_built_in_and_project_themes(project):
    write(project / "themes" / "clinic" / "theme.toml", 'description = "Our clinic"\nparent = "handout"\n')
    lines = run("themes").stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["clinic"] + sorted(THEMES)
    assert "Our clinic (extends handout)" in lines[0]
    assert any(line.startswith("large-print") and "18 pt" in line for line in lines)


def font_sizes(pdf: Path, page: int = 0) -> list[tuple[float, str]]:
    """(printed size in points, text) of each text run on a page."""
    return [(run.size, run.text.strip()) for run in text_runs(PdfReader(pdf).pages[page]) if run.text.strip()]


def text_starts(pdf: Path, page: int = 0) -> list[tuple[float, float]]:
    """(x, y) in points where each text run starts."""
    return [(run.x, run.y) for run in text_runs(PdfReader(pdf).pages[page]) if run.text.strip()]


def build_theme(project: Path, theme: str, article: Path = SHOWCASE) -> Path:
    shutil.copy(article, project / "content")
    shutil.copytree(REPO / "content" / "images", project / "content" / "images")
    assert run("build", "--theme", theme).exit_code == 0
    return project / "output" / f"{article.stem}.pdf"


def test_large_print_sets_the_body_at_18_points_or_more(project):
    sizes = font_sizes(build_theme(project, "large-print"))
    body = sorted(size for size, _ in sizes)[len(sizes) // 2]
    assert body >= 18
    # Footnotes, their numbers and the footer too (ACB large print guidelines).
    assert all(size >= 18 for size, text in sizes), sorted(sizes)[:5]


def test_two_column_sets_the_text_in_two_columns(project):
    pdf = build_theme(project, "two-column")
    width = float(PdfReader(pdf).pages[0].mediabox.width)
    lefts = {round(x) for x, y in text_starts(pdf) if y < 600}
    assert any(x < width / 3 for x in lefts) and any(width / 2 < x < width * 0.6 for x in lefts)


def test_tufte_puts_footnotes_in_the_wide_margin(project):
    pdf = build_theme(project, "tufte")
    width = float(PdfReader(pdf).pages[0].mediabox.width)
    text_block_right = width - 76 * MM
    starts = text_starts(pdf)
    sidenote = [x for x, y in starts if x > text_block_right]
    assert sidenote, "nothing is printed in the margin"
    assert "The World Health Organization estimates" in words(page_texts(pdf)[0])


def test_tufte_sets_margin_figures_in_the_margin(project):
    shutil.copytree(REPO / "content" / "images", project / "content" / "images")
    write(project / "content" / "a.md",
          "---\ntheme: tufte\n---\nText.\n\n![A chart](images/weekly-visits.png){.margin}\n")
    assert run("build").exit_code == 0
    page = PdfReader(project / "output" / "a.pdf").pages[0]
    width = float(page.mediabox.width)
    (image,) = page.images
    placed = [x for x, y in text_starts(project / "output" / "a.pdf") if x > width - 76 * MM]
    assert placed, "the caption is not in the margin"


def test_footnotes_print_at_the_foot_of_the_page_that_calls_them(project):
    pdf = build_theme(project, "handout")
    lines = text_lines_inside(pdf, margin_mm=20)[0]
    assert lines[-2].startswith("1. The World Health Organization estimates")


def test_figures_callouts_and_code_are_laid_out(project):
    write(project / "content" / "a.md", """
        Intro.

        ![A chart of visits](images/weekly-visits.png)

        ::: caution Sharp objects
        Put needles in the yellow box.
        :::

        ```python
        print("hello")
        ```
    """)
    shutil.copytree(REPO / "content" / "images", project / "content" / "images")
    assert run("build").exit_code == 0
    text = page_texts(project / "output" / "a.pdf")[0]
    assert "Figure 1. A chart of visits" in text
    assert "Sharp objects\nPut needles in the yellow box." in text
    assert 'print("hello")' in text


@pytest.mark.parametrize("lang, note, warning", [("en", "Note", "Warning"), ("de", "Hinweis", "Warnung"),
                                                 ("ja", "注記", "警告")])
def test_a_callout_without_a_title_is_titled_in_the_handouts_language(project, lang, note, warning):
    write(project / "content" / "a.md", f"""
        ---
        lang: {lang}
        ---
        ::: note
        Bring your card.
        :::

        > [!WARNING]
        > Keep it cold.
    """)
    assert run("build").exit_code == 0
    text = page_texts(project / "output" / "a.pdf")[0]
    assert f"{note}\nBring your card." in text and f"{warning}\nKeep it cold." in text


def test_qr_code_on_the_page_leads_back_to_the_source(project):
    pdf = build_theme(project, "handout")
    picture = pypdfium2.PdfDocument(pdf)[0].render(scale=3).to_pil()
    assert [code.text for code in zxingcpp.read_barcodes(picture)] == [
        "https://www.who.int/campaigns/world-hand-hygiene-day"]


def test_running_header_shows_the_section_except_on_the_first_page(project):
    sections = "\n".join(f"## Part {n}\n\n" + "A sentence that fills the page. " * 60 + "\n" for n in range(1, 5))
    write(project / "content" / "long.md", "---\ntitle: Long\n---\n" + sections)
    assert run("build").exit_code == 0
    pdf = project / "output" / "long.pdf"
    height = float(PdfReader(pdf).pages[0].mediabox.height)
    headers = []
    for page in range(len(PdfReader(pdf).pages)):
        starts = text_starts(pdf, page)
        top = [y for x, y in starts if y > height - 20 * MM]
        headers.append(bool(top))
    assert headers[0] is False and all(headers[1:])
    assert re.search(r"Part \d", page_texts(pdf)[1].split("\n")[-2])


def test_cover_page_and_table_of_contents(project):
    sections = "\n".join(f"## Part {n}\n\n" + "A sentence that fills the page. " * 60 + "\n" for n in range(1, 5))
    write(project / "content" / "long.md", "---\ntitle: Long handbook\ncover: true\ntoc: true\n---\n" + sections)
    assert run("build").exit_code == 0
    texts = page_texts(project / "output" / "long.pdf")
    assert "Long handbook" in texts[0] and "A sentence" not in texts[0] and "page 1 of" not in texts[0]
    assert texts[1].startswith("Contents")
    entries = re.findall(r"Part (\d)\W+(\d+)", texts[1])
    assert [n for n, _ in entries] == ["1", "2", "3", "4"]
    for number, page in entries:  # each entry's page number is where the part begins
        assert f"Part {number}\n" in texts[int(page) - 1]


def test_project_theme_extends_a_built_in_one(project):
    write(project / "themes" / "clinic" / "theme.toml", 'description = "Our clinic"\nparent = "handout"\n')
    write(project / "themes" / "clinic" / "style.css", "@page { size: A5; }\nh2 { color: #c00; }\n")
    write(project / "content" / "a.md", "---\ntheme: clinic\n---\n## Heading\n\nText.\n")
    assert run("build").exit_code == 0
    pdf = project / "output" / "a.pdf"
    assert round(float(PdfReader(pdf).pages[0].mediabox.width) / MM) == 148
    assert "Heading" in page_texts(pdf)[0]  # the parent's template and layout still serve


@pytest.mark.parametrize("files, message", [
    ({"theme.toml": 'parent = "nosuch"\n'}, "theme 'clinic' extends unknown theme 'nosuch'"),
    ({"theme.toml": 'parent = "clinic"\n'}, "themes extend each other in a loop: clinic -> clinic"),
    ({"theme.toml": 'parent = [1\n'}, "broken theme.toml"),
    ({"theme.toml": 'colour = "red"\n'}, "unknown keys colour"),
])
def test_broken_theme_is_one_clear_error(project, files, message):
    for name, text in files.items():
        write(project / "themes" / "clinic" / name, text)
    write(project / "content" / "a.md", "---\ntheme: clinic\n---\nText.\n")
    result = run("build")
    assert result.exit_code == 1
    assert "themes/clinic/theme.toml" in result.stderr and message in result.stderr
    assert "Traceback" not in result.output


def test_extra_stylesheet_comes_last(project):
    write(project / "content" / "a.md", "Text.\n")
    write(project / "print.css", "@page { size: A5; }\n")
    assert run("build", "--css", "print.css").exit_code == 0
    assert round(float(PdfReader(project / "output" / "a.pdf").pages[0].mediabox.width) / MM) == 148
    missing = run("build", "--css", "nothere.css")
    assert missing.exit_code == 2 and "no such stylesheet: nothere.css" in missing.stderr


def test_project_defaults_fill_the_title_block(project):
    Image.new("RGB", (300, 120), "darkgreen").save(project / "logo.png")
    write(project / "handout.toml", """
        [defaults]
        theme = "large-print"
        paper = "letter"
        author = "Clinic team"
        organisation = "Northside Clinic"
        logo = "logo.png"
    """)
    write(project / "content" / "a.md", "Text.\n")
    write(project / "content" / "b.md", "---\nauthor: Dr. Lee\ntheme: handout\n---\nText.\n")
    assert run("build").exit_code == 0
    a, b = project / "output" / "a.pdf", project / "output" / "b.pdf"
    assert "Northside Clinic" in page_texts(a)[0] and "Clinic team" in page_texts(a)[0]
    assert "Dr. Lee" in page_texts(b)[0] and "Clinic team" not in page_texts(b)[0]
    assert round(float(PdfReader(a).pages[0].mediabox.height) / MM) == 279
    assert dict((text, size) for size, text in font_sizes(a))["Text."] >= 18  # large-print, from handout.toml
    assert dict((text, size) for size, text in font_sizes(b))["Text."] < 12  # handout, from the front matter
    assert len(PdfReader(a).pages[0].images) == 1  # the logo
