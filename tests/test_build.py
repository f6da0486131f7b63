"""`handout build` end to end, read back from the PDFs."""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

import pyphen
import pytest
from conftest import long_article, page_texts, pdf_words, run, text_lines_inside, words, write
from pypdf import PdfReader

from generator import BuildOptions, build
from generator.typeset.themes import builtin_templates

MM = 72 / 25.4

FULL_FRONT_MATTER = """
    ---
    title: Hand washing at home
    subtitle: A guide for families
    author: Dr. Ana Ruiz
    date: 2024-03-05
    lang: de
    source_url: https://example.org/hands
    summary: Why and how to wash hands.
    keywords: [hygiene, hand washing]
    ---
    # Why

    Händewaschen schützt vor Krankheiten.

    ## How

    Mit Seife, zwanzig Sekunden lang.
"""


def test_metadata_title_block_and_outline(project):
    write(project / "content" / "hands.md", FULL_FRONT_MATTER)
    assert run("build").exit_code == 0
    pdf = project / "output" / "hands.pdf"
    reader = PdfReader(pdf)
    meta = reader.metadata
    assert meta.title == "Hand washing at home"
    assert meta.author == "Dr. Ana Ruiz"
    assert meta.subject == "Why and how to wash hands."
    assert meta["/Keywords"] == "hygiene, hand washing"
    assert reader.trailer["/Root"]["/Lang"] == "de"
    first_page = page_texts(pdf)[0]
    # The words handout adds are in the article's language (lang: de).
    for shown in ("Hand washing at home", "A guide for families", "Dr. Ana Ruiz", "2024-03-05",
                  "Quelle: https://example.org/hands", "Seite 1 von 1"):
        assert shown in first_page
    title, children = reader.outline
    assert title["/Title"] == "Hand washing at home"
    assert children[0]["/Title"] == "Why"
    assert [c["/Title"] for c in children[1]] == ["How"]


def test_front_matter_cannot_inject_markup(project):
    write(project / "content" / "x.md", '---\ntitle: "<b>Bold</b> & <script>x</script>"\n---\nText.\n')
    assert run("build").exit_code == 0
    assert "<b>Bold</b> & <script>x</script>" in page_texts(project / "output" / "x.pdf")[0]


@pytest.mark.parametrize("paper, width, height", [("a4", 210, 297), ("letter", 215.9, 279.4)])
def test_paper_size_from_option_and_front_matter(project, paper, width, height):
    write(project / "content" / "cli.md", "Text.\n")
    write(project / "content" / "front.md", f"---\ntitle: T\npaper: {paper}\n---\nText.\n")
    assert run("build", "content/cli.md", "--paper", paper).exit_code == 0
    assert run("build", "content/front.md").exit_code == 0
    for name in ("cli", "front"):
        box = PdfReader(project / "output" / f"{name}.pdf").pages[0].mediabox
        assert (round(float(box.width) / MM, 1), round(float(box.height) / MM, 1)) == (width, height)


def headings_at_page_bottom(pdf: Path) -> list[str]:
    texts = page_texts(pdf)
    assert len(texts) >= 3
    printed = words(" ".join(texts))
    assert all(f"Section {n}" in printed for n in range(1, 25))
    last_body_lines = [lines[-1] for lines in text_lines_inside(pdf, margin_mm=20)]
    return [line for line in last_body_lines if line.startswith("Section ")]


def test_headings_are_never_left_alone_at_the_bottom_of_a_page(project):
    long_article(project / "content")
    assert run("build").exit_code == 0
    assert headings_at_page_bottom(project / "output" / "long.pdf") == []


def test_the_heading_check_catches_a_theme_that_strands_headings(project):
    theme = project / "templates" / "handout"
    shutil.copytree(builtin_templates() / "handout", theme)
    css = (theme / "style.css").read_text()
    (theme / "style.css").write_text(css.replace("break-after: avoid;", "break-after: auto;"))
    long_article(project / "content")
    assert run("build").exit_code == 0
    assert headings_at_page_bottom(project / "output" / "long.pdf") != []


def test_user_template_override_wins_over_the_built_in(project):
    write(project / "templates" / "handout" / "style.css", "@page { size: A5; }\nbody { color: red; }\n")
    write(project / "content" / "a.md", "Text.\n")
    assert run("build").exit_code == 0
    box = PdfReader(project / "output" / "a.pdf").pages[0].mediabox
    assert round(float(box.width) / MM) == 148


@pytest.mark.parametrize(
    "template, line, message",
    [
        ("<html>\n<body>\n{% if meta.title %}\n</body>\n", 3, "template error: Unexpected end of template"),
        ("<html>\n<body>\n<p>{{ meta.titel }}</p>\n</body>\n", 3,
         "template error: 'generator.article.Metadata object' has no attribute 'titel'"),
        ("<html>\n{% include 'nothere.css' %}\n", 2, "template not found: nothere.css"),
    ],
)
def test_error_in_a_template_override_names_template_and_line(project, template, line, message):
    write(project / "templates" / "handout" / "article.html", template)
    write(project / "content" / "a.md", "Text.\n")
    result = run("build")
    assert result.exit_code == 1
    assert f"templates/handout/article.html:{line}: error: {message}" in result.stderr
    assert "Traceback" not in result.output


BAD_ARTICLES = {
    "broken-yaml.md": (b"---\ntitle: [oops\n---\nText.\n", "content/broken-yaml.md:2: error: broken YAML front matter"),
    "latin1.txt": (b"Title\n\nCaf\xe9.\n", "content/latin1.txt:3: error: not valid UTF-8"),
    "empty.md": (b"", "content/empty.md: error: the file is empty"),
    "no-image.md": (b"Look:\n\n![chart](chart.png)\n", "content/no-image.md:3: error: image not found: chart.png"),
    "bad-theme.md": (b"---\ntheme: fancy\n---\nText.\n",
                     "content/bad-theme.md: error: unknown theme 'fancy'"
                     " (known themes: handout, large-print, tufte, two-column)"),
}


def test_bad_articles_fail_alone_with_one_line_each(project):
    for name, (data, _) in BAD_ARTICLES.items():
        (project / "content" / name).write_bytes(data)
    write(project / "content" / "good.md", "All good.\n")
    result = run("build")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == len(BAD_ARTICLES)
    for _, expected in BAD_ARTICLES.values():
        assert any(line.startswith(expected) for line in errors), expected
    assert "Traceback" not in result.output
    assert "content/good.md -> output/good.pdf" in result.stdout
    assert f"1 of {len(BAD_ARTICLES) + 1} handouts built" in result.stdout
    assert sorted(p.name for p in (project / "output").glob("*.pdf")) == ["good.pdf"]


def test_failed_rebuild_keeps_the_last_good_pdf_and_leaves_no_temporary_file(project):
    article = write(project / "content" / "a.md", "First version.\n")
    assert run("build").exit_code == 0
    good = (project / "output" / "a.pdf").read_bytes()
    article.write_text("---\ntitle: [broken\n---\nSecond version.\n")
    assert run("build").exit_code == 1
    assert (project / "output" / "a.pdf").read_bytes() == good
    assert sorted(os.listdir(project / "output")) == [".handout-manifest.json", "a.pdf"]


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EIO])
def test_a_full_output_disk_fails_each_handout_in_one_line_and_keeps_the_last_good_files(
        project, monkeypatch, failure):
    for name in ("a", "b"):
        write(project / "content" / f"{name}.md", f"First {name}.\n")
    assert run("build", "-j", "1").exit_code == 0
    output = (project / "output").resolve()
    before = {path.name: path.read_bytes() for path in output.iterdir()}
    for name in ("a", "b"):
        write(project / "content" / f"{name}.md", f"Second {name}.\n")
    replace = os.replace

    def disk_full(source, target, *args, **kwargs):
        if Path(target).resolve().parent == output:
            raise OSError(failure, os.strerror(failure))
        return replace(source, target, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", disk_full)
        full = run("build", "-j", "1", "--force")
    assert full.exit_code == 1
    assert full.stderr.splitlines() == [
        f"content/{name}.md: error: cannot write output/{name}.pdf ({os.strerror(failure)})" for name in ("a", "b")]
    # No temporary file left, the last good PDFs kept, the manifest as it was.
    assert {path.name: path.read_bytes() for path in output.iterdir()} == before
    rebuilt = run("build", "-j", "1")
    assert "2 of 2 handouts built into output/ (0 failed" in rebuilt.stdout
    assert "Second a." in page_texts(output / "a.pdf")[0]


def test_a_disk_full_for_the_manifest_is_one_line_and_the_next_build_makes_the_handout_again(
        project, monkeypatch):
    write(project / "content" / "a.md", "First a.\n")
    assert run("build").exit_code == 0
    write(project / "content" / "a.md", "Second a.\n")
    replace = os.replace

    def manifest_full(source, target, *args, **kwargs):
        if Path(target).name == ".handout-manifest.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return replace(source, target, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", manifest_full)
        built = run("build")
    assert built.exit_code == 0 and "content/a.md -> output/a.pdf" in built.stdout
    assert built.stderr.splitlines() == [
        "output/.handout-manifest.json: error: cannot write output/.handout-manifest.json (No space left on device);"
        " the next build makes this build's handouts again"]
    write(project / "content" / "a.md", "First a.\n")  # as the manifest on disk still says
    assert "content/a.md -> output/a.pdf" in run("build").stdout
    assert "First a." in page_texts(project / "output" / "a.pdf")[0]


def test_two_articles_with_one_slug_do_not_overwrite_each_other(project):
    write(project / "content" / "a.md", "Markdown.\n")
    write(project / "content" / "b.md", "---\nslug: a\n---\nOther.\n")
    result = run("build")
    assert result.exit_code == 1
    assert "content/b.md: error: content/a.md already makes output/a.pdf; rename one of them" in result.stderr
    assert "Markdown." in page_texts(project / "output" / "a.pdf")[0]


def test_a_page_and_its_markdown_import_build_the_markdown(project):
    write(project / "content" / "a.md", "Markdown.\n")
    write(project / "content" / "a.txt", "Plain\n\nText.\n")
    result = run("build")
    assert result.exit_code == 0, result.output
    assert "content/a.txt: not built; content/a.md, its import, is built instead" in result.stderr
    assert "1 of 1 handouts built" in result.stdout
    assert "Markdown." in page_texts(project / "output" / "a.pdf")[0]


@pytest.mark.parametrize("first, second, error", [
    ("x-booklet.md", "x.md", "content/x.md: error: content/x-booklet.md already makes output/x-booklet.pdf,"
     " the name of this article's booklet; rename one of them"),
    ("x.md", "x-booklet.md", "content/x-booklet.md: error: content/x.md already makes output/x-booklet.pdf"
     " (its booklet); rename one of them"),
])
def test_a_booklet_and_an_article_of_its_name_do_not_overwrite_each_other(project, first, second, error):
    write(project / "content" / "x.md", "The article named x.\n")
    write(project / "content" / "x-booklet.md", "The article named x-booklet.\n")
    result = run("build", f"content/{first}", f"content/{second}", "--booklet")
    assert result.exit_code == 1
    assert [line for line in result.stderr.splitlines() if "error" in line] == [error]
    made_by_first = "The article named x-booklet." if first == "x-booklet.md" else "The article named x."
    assert made_by_first in pdf_words(project / "output" / "x-booklet.pdf")
    assert f"content/{second} ->" not in result.stdout


def test_python_api_returns_a_result_per_article(project):
    write(project / "content" / "a.md", "Text.\n")
    (result,) = build([Path("content")], BuildOptions(output_dir=Path("out")))
    assert result.ok and result.output == Path("out/a.pdf") and result.pages == 1
    assert result.size == (project / "out" / "a.pdf").stat().st_size
    assert (result.theme, result.paper) == ("handout", "a4")


def hyphen_breaks(pdf: Path) -> list[tuple[str, int]]:
    """(word, position) of each word broken at a line end by a U+2010 hyphen."""
    raw = PdfReader(pdf).pages[0].extract_text()
    return [(head + tail, len(head)) for head, tail in re.findall(r"(\w+)\u2010\s*\n\s*(\w+)", raw)]


def test_hyphenation_follows_the_article_language(project):
    sentence = "Die Gesundheitsversorgung der Bevölkerung braucht Krankenversicherungsbeiträge. "
    breaks = {}
    for lang in ("de", "en"):
        write(project / "content" / f"{lang}.md", f"---\ntitle: T\nlang: {lang}\n---\n{sentence * 12}\n")
        assert run("build", f"content/{lang}.md").exit_code == 0
        breaks[lang] = hyphen_breaks(project / "output" / f"{lang}.pdf")
        assert breaks[lang], "no word was hyphenated"
        dictionary = pyphen.Pyphen(lang=lang)
        assert all(position in dictionary.positions(word) for word, position in breaks[lang])
    german = pyphen.Pyphen(lang="de")
    assert any(position not in german.positions(word) for word, position in breaks["en"])
