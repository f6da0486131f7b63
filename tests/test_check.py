"""`handout check`: passes on good handouts, and catches each way a handout can lose words."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLE, SAMPLE_SLUG, long_article, run, write
from PIL import Image

from generator.check.verify import CheckOptions, check
from generator.cli.main import main
from generator.typeset.themes import builtin_templates

CORPUS = Path(__file__).parent / "corpus"
CORPUS_ARTICLES = sorted(p.name for p in CORPUS.glob("*.md"))


@pytest.fixture(scope="session")
def corpus_reports(tmp_path_factory) -> dict:
    """The corpus built with the default theme and checked, as `handout build --check` does."""
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(CORPUS, root / "content")
    result = CliRunner().invoke(main, ["build", str(root / "content"), "-o", str(root / "output")])
    assert result.exit_code == 0, result.output
    reports = check([root / "content"], CheckOptions(output_dir=root / "output"))
    return {report.article.name: report for report in reports}


@pytest.mark.parametrize("name", CORPUS_ARTICLES)
def test_corpus_handout_holds_every_word_on_the_page(corpus_reports, name):
    report = corpus_reports[name]
    assert report.words > 50
    assert report.coverage == 1.0, [str(d) for d in report.diagnostics]
    assert report.diagnostics == (), [str(d) for d in report.diagnostics]


def test_the_corpus_covers_the_hard_cases():
    text = " ".join((CORPUS / name).read_text() for name in CORPUS_ARTICLES)
    for needle in ("| Clinic | Monday |", "```javascript", "https://www.example.org/search?q=",
                   "[^heal]", "- [x]", "\n: A pad", "![Bar chart", "Ελληνικά", "Русский", "Tiếng Việt",
                   "中文", "日本語", "한국어", "<details open>"):
        assert needle in text


def test_a_pasted_web_page_comes_out_whole_without_its_furniture(project):
    shutil.copy(Path(__file__).parent / "pasted" / "flu-season.txt", project / "content")
    built = run("build", "--check", "--verbose")
    assert built.exit_code == 0
    # The byline's "Posted on ... | 4 min read" is no longer body text: author and date print in the title block.
    assert "content/flu-season.txt -> output/flu-season.pdf: 1 page, 128 of 128 words (100.0%), 0 errors, " \
           "0 warnings" in built.stdout
    assert built.stderr.count("[W102]") == 6  # one a block: menu, cookie, share, related, form, footer


def test_sample_passes_with_its_lint_warnings(project):
    shutil.copy(SAMPLE, project / "content")
    assert run("build").exit_code == 0
    result = run("check")
    assert result.exit_code == 0
    name = f"content/{SAMPLE.name}"
    assert (f"{name} -> output/{SAMPLE_SLUG}.pdf: 2 pages, 565 of 565 words (100.0%), 0 errors, 2 warnings"
            in result.stdout)
    assert f"{name}:28: warning: advertising or SEO phrase: 'order ketamine online USA' [L302]" in result.stdout
    assert f"{name}:28: warning: text cut off: it ends '…derivatives might lead to innovativ'" in result.stdout
    assert run("check", "--strict").exit_code == 1


def test_json_report_is_stable(project):
    shutil.copy(SAMPLE, project / "content")
    result = run("build", "--check", "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["version"] == 1
    assert report["summary"] == {"handouts": 1, "failed": 0, "errors": 0, "warnings": 2}
    (handout,) = report["handouts"]
    assert handout["coverage"] == 100.0 and handout["ok"] is True
    assert handout["article"] == f"content/{SAMPLE.name}" and handout["pdf"] == f"output/{SAMPLE_SLUG}.pdf"
    assert handout["findings"][0] == {
        "code": "L302", "severity": "warning", "message": "advertising or SEO phrase: 'order ketamine online USA'",
        "file": f"content/{SAMPLE.name}", "line": 28, "page": None,
    }


def test_check_finds_the_handout_where_build_wrote_it(project):
    write(project / "content" / "a.md", "---\nslug: dosage-card\n---\nSome words here.\n")
    assert run("build").exit_code == 0
    checked = run("check")
    assert checked.exit_code == 0
    assert "content/a.md -> output/dosage-card.pdf: 1 page, 4 of 4 words (100.0%)" in checked.stdout


def test_a_pdf_finds_its_article_and_a_missing_pdf_is_an_error(project):
    write(project / "content" / "a.md", "Some words here.\n")
    write(project / "content" / "b.md", "Never built.\n")
    assert run("build", "content/a.md").exit_code == 0
    by_pdf = run("check", "output/a.pdf")
    assert by_pdf.exit_code == 0
    assert "content/a.md -> output/a.pdf: 1 page, 4 of 4 words (100.0%)" in by_pdf.stdout
    missing = run("check", "content/b.md")
    assert missing.exit_code == 1
    assert "content/b.md: error: output/b.pdf does not exist; run handout build first [C210]" in missing.stdout


def theme_with(project: Path, css: str = "", template_change: tuple[str, str] | None = None) -> None:
    """A copy of the built-in theme in the project, with extra CSS or a changed template."""
    theme = project / "templates" / "handout"
    shutil.copytree(builtin_templates() / "handout", theme)
    with (theme / "style.css").open("a") as stylesheet:
        stylesheet.write("\n" + css)
    if template_change:
        page = theme / "article.html"
        page.write_text(page.read_text().replace(*template_change))


def build_and_check(project: Path, *args: str):
    assert run("build").exit_code == 0
    return run("check", *args)


@pytest.mark.parametrize("theme", ["handout", "large-print"])
def test_paragraphs_that_start_alike_are_not_taken_for_running_headers(project, theme):
    # Lines that repeat at one height on several pages, some at a page's top: text, not headers.
    paragraphs = [
        f"Something quite different is said in paragraph {n}, about washing and drying hands well."
        if n % 7 == 0 else f"Take the tablet with water. This is note {n} about the medicine."
        for n in range(1, 80)
    ]
    write(project / "content" / "notes.md", "---\ntitle: Notes\n---\n" + "\n\n".join(paragraphs) + "\n")
    assert run("build", "--theme", theme).exit_code == 0
    checked = run("check")
    assert checked.exit_code == 0, checked.stdout
    assert re.search(r"output/notes.pdf: [3-9] pages, (\d+) of \1 words \(100.0%\)", checked.stdout)


def test_catches_a_dropped_paragraph(project):
    write(project / "content" / "a.md", """
        ---
        title: Three paragraphs
        ---
        The first paragraph stays.

        The second paragraph is dropped by the stylesheet.

        The third paragraph stays.
    """)
    theme_with(project, "main p:nth-of-type(2) { display: none; }")
    result = build_and_check(project)
    assert result.exit_code == 1
    # The aligner may pair either "the" of the paragraphs around the gap with the printed one.
    assert "content/a.md:6: error: 8 words missing from the PDF: '" in result.stdout
    assert "second paragraph is dropped by the stylesheet" in result.stdout
    assert "10 of 18 words (55.6%), 1 error" in result.stdout


LONG_CODE = "x = compute(" + ", ".join(f"argument_{i}" for i in range(25)) + ")"


@pytest.mark.parametrize("css", [
    "pre { white-space: pre; overflow: hidden; }",  # clipped by its box
    "pre { white-space: pre; }",                    # runs off the page
])
def test_catches_a_stylesheet_that_clips_code(project, css):
    write(project / "content" / "a.md", f"Code:\n\n```\n{LONG_CODE}\n```\n")
    theme_with(project, css)
    result = build_and_check(project)
    assert result.exit_code == 1
    assert "output/a.pdf: page 1: error: text drawn outside the visible page: '" in result.stdout
    assert "[C202]" in result.stdout
    # What cannot be seen is missing too.
    assert "words missing from the PDF: 'argument_" in result.stdout and "[C201]" in result.stdout


def test_catches_a_character_no_font_has(project):
    write(project / "content" / "a.md", "Linear B: \U00010000 is not in any font here.\n")
    result = build_and_check(project)
    assert result.exit_code == 1
    assert ("output/a.pdf: page 1: error: no font draws '\U00010000' (U+10000): it prints as an empty box [C203]"
            in result.stdout)


def test_catches_an_empty_page(project):
    write(project / "content" / "a.md", "Text.\n")
    theme_with(project, "main { break-before: right; }")
    result = build_and_check(project)
    assert result.exit_code == 1
    assert "output/a.pdf: page 2: error: the page is empty [C204]" in result.stdout


def test_catches_a_heading_left_at_the_bottom_of_a_page(project):
    long_article(project / "content")
    assert run("build").exit_code == 0
    assert "C205" not in run("check").stdout
    theme_with(project, "h2 { break-after: auto; }")
    result = build_and_check(project)
    assert result.exit_code == 0  # a warning: the words are all there
    assert re.search(r"output/long.pdf: page \d: warning: heading 'Section \d+'"
                     r" stands alone at the bottom of the page \[C205\]", result.stdout)


def test_catches_a_blurry_image_and_missing_alt_text(project):
    Image.new("RGB", (120, 60), "navy").save(project / "content" / "small.png")
    write(project / "content" / "a.md", "Intro.\n\n![](small.png)\n")
    result = build_and_check(project)
    assert result.exit_code == 0
    assert "content/a.md:3: warning: image without alt text: small.png [C207]" in result.stdout
    assert ("output/a.pdf: page 1: warning: an image of 120x60 pixels prints at 96 dpi (under 150) [C206]"
            in result.stdout)
    assert "C206" not in run("check", "--min-dpi", "90").stdout


def test_catches_a_link_whose_address_is_not_printed(project):
    write(project / "content" / "a.md", "Read [the guide](https://example.org/guide) today.\n")
    assert "C208" not in build_and_check(project).stdout
    theme_with(project, "a[data-url]::after { content: none; }")
    result = build_and_check(project)
    assert ("output/a.pdf: page 1: warning: link to https://example.org/guide: the address is not printed [C208]"
            in result.stdout)


def test_catches_a_pdf_over_the_email_budget(project):
    write(project / "content" / "a.md", "Text.\n")
    result = build_and_check(project, "--max-size", "0.001")
    assert result.exit_code == 1
    assert "MB is over the email budget of 0.0 MB [C209]" in result.stdout
    write(project / "handout.toml", "[check]\nmax_size_mb = 0.001\n")
    assert "[C209]" in run("check").stdout


def test_lints_the_articles_own_text(project):
    write(project / "content" / "a.md", """
        ---
        title: Lint
        ---
        Your email address will not be published.

        Buy cheap pills online now and claim free shipping. Lorem ipsum dolor.

        Wash the the hands. TODO: check the dose with [insert name].

        Our friends at Acme Pharmacy say hello.

        The text stops in the midd
    """)
    write(project / "handout.toml", '[check]\nad_phrases = ["Acme Pharmacy"]\n')
    result = build_and_check(project)
    assert result.exit_code == 0
    for expected in [
        "content/a.md:4: warning: web boilerplate left in the text: 'Your email address will not be published.' [L301]",
        "content/a.md:6: warning: advertising or SEO phrase: 'Buy cheap pills online now' [L302]",
        "content/a.md:6: warning: advertising or SEO phrase: 'free shipping' [L302]",
        "content/a.md:6: warning: placeholder text: 'Lorem ipsum' [L303]",
        "content/a.md:8: warning: doubled word: 'the the' [L304]",
        "content/a.md:8: warning: placeholder text: 'TODO' [L303]",
        "content/a.md:8: warning: placeholder text: '[insert name]' [L303]",
        "content/a.md:10: warning: advertising or SEO phrase: 'Acme Pharmacy' [L302]",
        "content/a.md:12: warning: text cut off: it ends '…text stops in the midd' with no end punctuation [L305]",
    ]:
        assert expected in result.stdout


def test_handout_toml_problems_are_reported(project):
    write(project / "content" / "a.md", "Text.\n")
    write(project / "handout.toml", "[check]\nmax_sise_mb = 3\n[extras]\n")
    result = build_and_check(project)
    assert result.exit_code == 0
    assert ("handout.toml: warning: unknown key 'check.max_sise_mb' (did you mean 'check.max_size_mb'?) [W105]"
            in result.stderr)
    assert "handout.toml: warning: unknown key 'extras' [W105]" in result.stderr
    write(project / "handout.toml", "[check]\nmin_dpi = 'high'\n")
    bad = run("check")
    assert bad.exit_code == 1
    assert "handout.toml: error: check.min_dpi must be a positive number" in bad.stderr


def test_check_finds_furniture_left_in_the_kept_text(project):
    write(project / "content" / "related.md", """
        ---
        source_url: https://news.example/flu
        ---
        # Flu season

        Get your flu shot before the winter starts, at any clinic near you.

        - [Council votes on the new harbour budget](https://news.example/budget)
        - [Five walks along the coast this autumn](https://news.example/walks)
        - [School meals get more vegetables](https://news.example/meals)
        """)
    write(project / "content" / "topics.txt", "Topics\n\nGet your flu shot before the winter starts, at any "
                                              "clinic near you. It is free for everyone over sixty.\n")
    assert run("build").exit_code == 0
    checked = run("check")
    assert "content/related.md:8: warning: 3 items in a row that are each only a link" in checked.stdout
    assert "content/topics.txt:1: warning: the title 'Topics' is one or two words" in checked.stdout
    # A list whose items say more than their link, and a title of a few words, are articles' own.
    write(project / "content" / "related.md", """
        # Flu season

        - [The clinic's flu page](https://clinic.example/flu) has the opening times.
        - [The health service](https://nhs.example) explains who gets it free.
        - Ask at the front desk.
        """)
    write(project / "content" / "topics.txt", "Flu shots this winter\n\nGet your flu shot before the winter "
                                              "starts, at any clinic near you. It is free for everyone.\n")
    assert run("build").exit_code == 0
    again = run("check")
    assert "[L306]" not in again.stdout and "[L307]" not in again.stdout
    # A hand-written article's own list of links, and any table of contents, are no furniture.
    links = "\n".join(f"- [{name}](https://{name}.example)" for name in ("ruff", "black", "isort"))
    toc = "\n".join(f"- [{name}](#{name})" for name in ("install", "use", "help"))
    write(project / "content" / "related.md", f"# Tools\n\n{links}\n\n## Contents\n\n{toc}\n")
    write(project / "content" / "imported.md", f"---\nsource_url: https://a.example\n---\n# Contents\n\n{toc}\n")
    assert run("build").exit_code == 0
    assert "[L307]" not in run("check").stdout
