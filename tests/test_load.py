"""Loading articles: front matter, encodings, and the errors users can cause."""

from __future__ import annotations

import pytest
from conftest import write

from generator.errors import ArticleError
from generator.read.load import load_article, slug_for


def test_front_matter_fields(tmp_path):
    path = write(tmp_path / "a.md", """
        ---
        title: Hand washing
        subtitle: A guide for families
        author: Dr. Ana Ruiz
        date: 2024-03-05
        lang: es
        source_url: https://example.org/hands
        summary: Why and how to wash hands.
        keywords: [hygiene, "hand washing"]
        theme: handout
        paper: Letter
        ---
        Body text.
    """)
    article = load_article(path)
    meta = article.meta
    assert (meta.title, meta.subtitle, meta.author) == ("Hand washing", "A guide for families", "Dr. Ana Ruiz")
    assert meta.date == "2024-03-05"
    assert meta.lang == "es"
    assert meta.keywords == ("hygiene", "hand washing")
    assert meta.paper == "letter"
    assert article.body == "Body text.\n"
    assert article.body_first_line == 13
    assert article.diagnostics == ()


def test_keywords_may_be_a_comma_separated_line(tmp_path):
    path = write(tmp_path / "a.md", "---\ntitle: T\nkeywords: one, two ,three\n---\nText.\n")
    assert load_article(path).meta.keywords == ("one", "two", "three")


def test_unknown_key_warns_with_the_closest_known_key(tmp_path):
    path = write(tmp_path / "a.md", "---\ntitle: T\nauther: Me\ncolour: red\n---\nText.\n")
    first, second = load_article(path).diagnostics
    assert str(first).endswith("a.md:3: warning: unknown front-matter key 'auther' (did you mean 'author'?) [W101]")
    assert str(second).endswith("a.md:4: warning: unknown front-matter key 'colour' [W101]")


def test_title_falls_back_to_the_first_h1_then_the_file_name(tmp_path):
    article = load_article(write(tmp_path / "x.md", "# Big title\n\nText.\n"))
    assert article.meta.title == "Big title"
    assert article.body == "\nText.\n"
    assert article.body_first_line == 2
    assert load_article(write(tmp_path / "flu-season_2024.md", "Text.\n")).meta.title == "flu season 2024"


def test_byte_order_mark_and_windows_line_ends(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes("\ufeff---\r\ntitle: Café\r\n---\r\nText.\r\n".encode("utf-8"))
    article = load_article(path)
    assert article.meta.title == "Café"
    assert article.body == "Text.\n"


@pytest.mark.parametrize(
    "name, data, line, message",
    [
        ("broken.md", b"---\ntitle: T\nauthor: [unclosed\n---\nText.\n", 3, "broken YAML front matter"),
        ("tabs.md", b"---\ntitle: T\n\tauthor: x\n---\nText.\n", 3, "broken YAML front matter"),
        ("latin1.md", b"---\ntitle: T\n---\nCaf\xe9 au lait.\n", 4, "not valid UTF-8 (byte 0xe9)"),
        ("empty.md", b"  \n\n", None, "the file is empty"),
        ("only-front.md", b"---\ntitle: T\n---\n\n", 4, "no article text after the front matter"),
        ("list.md", b"---\n- a\n- b\n---\nText.\n", 2, "front matter must be 'key: value' lines"),
        ("lang.md", b"---\ntitle: T\nlang: english please\n---\nText.\n", 3,
         "lang 'english please' is not a language tag"),
        ("paper.md", b"---\ntitle: T\npaper: A3\n---\nText.\n", 3, "paper 'a3' is not one of: a4, letter"),
        ("nested.md", b"---\ntitle:\n  en: T\n---\nText.\n", 2, "title must be a single value"),
        ("notes.rtf", b"{\\rtf1 hello}", None, "not an article: handout reads .md, .markdown, .txt, .html, .htm files"),
    ],
)
def test_bad_input_is_one_clear_error_naming_file_and_line(tmp_path, name, data, line, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ArticleError) as caught:
        load_article(path)
    error = caught.value
    assert error.path == path
    assert error.line == line
    assert message in error.problem
    assert "\n" not in error.format_message()
    where = f"{name}:{line}" if line else name
    assert f"{where}: error: {message}" in error.format_message()


@pytest.mark.parametrize("opening", [
    '<p align="center">\n    <img width="248" src="https://x.example/logo.png" alt="Acme logo">\n</p>\n\n',
    "[![PyPI](https://img.shields.io/pypi/v/x.svg)](https://pypi.org/x) [![CI](https://x.example/b.svg)](https://x.example)\n\n",
    "![Acme](logo.png)\n",
])
def test_a_readmes_heading_under_its_logo_or_badges_is_its_title(tmp_path, opening):
    text = f"{opening}# Acme\n\nAcme makes things fast.\n\n![missing](gone.png)\n"
    article = load_article(write(tmp_path / "readme.md", text))
    assert article.meta.title == "Acme"
    # The logo stays, the heading goes, and the lines after it keep their numbers.
    assert article.body.startswith(opening) and "# Acme" not in article.body
    assert article.body.splitlines().index("![missing](gone.png)") == text.splitlines().index("![missing](gone.png)")


def test_a_readmes_html_heading_in_its_centred_block_is_its_title(tmp_path):
    text = ('<div align="center">\n  <img src="https://x.example/logo.svg" width="120" alt="">\n'
            "  <h1>Acme</h1>\n  <p><b>Small tasks, done.</b></p>\n</div>\n\nAcme makes things fast.\n")
    article = load_article(write(tmp_path / "readme.md", text))
    assert article.meta.title == "Acme"
    assert "<h1>" not in article.body and "<p><b>Small tasks, done.</b></p>" in article.body
    assert len(article.body.splitlines()) == len(text.splitlines())


def test_a_heading_under_text_is_no_title(tmp_path):
    for opening in ("Acme is fast.\n\n", "<p>Acme is fast.</p>\n\n"):
        assert load_article(write(tmp_path / "readme.md", f"{opening}# Acme\n")).meta.title == "readme"


@pytest.mark.parametrize(
    "name, slug",
    [("Flu Season 2024.md", "flu-season-2024"), ("../x/a b.txt", "a-b"), ("статья.md", "статья"),
     ("000_22cf51892c953b2a.txt", "000_22cf51892c953b2a"), ("!!!.md", "article")],
)
def test_slug_comes_from_the_file_name(name, slug, tmp_path):
    assert slug_for(tmp_path / name) == slug


def test_front_matter_from_pandoc_hugo_and_jekyll_builds_as_it_is(tmp_path):
    path = write(tmp_path / "a.md", (
        "---\ntitle: T\nauthors: [Ana Ruiz, Li Wei]\ndescription: Why hands matter\n"
        "tags: [hygiene, hands]\n---\nText.\n"))
    article = load_article(path)
    assert (article.meta.author, article.meta.summary, article.meta.keywords) == (
        "Ana Ruiz, Li Wei", "Why hands matter", ("hygiene", "hands"))
    assert article.diagnostics == ()
    pandoc = write(tmp_path / "b.md", (
        "---\ntitle: T\nauthor:\n  - name: Ana Ruiz\n    affiliation: Clinic\n  - Li Wei\n"
        "abstract: Not this one\nsummary: This one\n---\nText.\n"))
    assert (load_article(pandoc).meta.author, load_article(pandoc).meta.summary) == ("Ana Ruiz, Li Wei", "This one")


@pytest.mark.parametrize("heading, title", [
    ("# [Acme](https://acme.dev) **fast** `cli` :rocket: ![logo](https://x.example/l.png)", "Acme fast cli 🚀"),
    ("# ![Acme logo](https://x.example/l.png)", "Acme logo"),
    ("# C++ & you: a guide", "C++ & you: a guide"),
    ('<h1 align="center">\n  <picture>\n    <source media="(prefers-color-scheme: dark)" srcset="d.svg">\n'
     '    <img alt="Acme" src="https://x.example/l.svg" width="300">\n  </picture>\n</h1>', "Acme"),
    ('<h1 align="center">Acme &amp; Co <img src="l.png" alt="logo"></h1>', "Acme & Co"),
    ('<h1 align="center">\n\n![Acme](https://x.example/banner.svg)\n\n</h1>', "Acme"),
])
def test_a_readmes_first_heading_is_its_title_as_it_reads(tmp_path, heading, title):
    article = load_article(write(tmp_path / "readme.md", f"{heading}\n\nAcme makes things fast.\n"))
    assert article.meta.title == title
    assert article.body.strip() == "Acme makes things fast."
