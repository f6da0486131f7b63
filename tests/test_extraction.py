"""Saved web pages (.html) and `handout import`: the article kept, the page's furniture
left out and reported, and the dev set of real pages scored."""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import threading
from pathlib import Path

import pytest
from conftest import pdf_words, run
from pypdf import PdfReader

PAGES = Path(__file__).parent / "pages"
DEV_SET = Path(__file__).parent / "extraction"
sys.path.insert(0, str(DEV_SET))

import scoring  # noqa: E402

ARTICLE = ("Jedes Jahr im Herbst beginnt die Grippesaison.", "Menschen ab 60 Jahren",
           "Wer sollte sich impfen lassen?", "Mittwoch", "Bringen Sie bitte Ihren Impfpass mit.")
FURNITURE = ("Startseite", "Alle akzeptieren", "Teilen", "Twitter", "Das könnte Sie auch interessieren",
             "Corona-Auffrischung", "Antworten", "Kommentare", "Impressum", "verwendet Cookies")


@pytest.fixture
def saved_page(project) -> Path:
    return Path(shutil.copy(PAGES / "impfung.html", project / "content" / "impfung.html"))


def test_a_saved_page_builds_its_article_without_the_page(saved_page, project):
    built = run("build", "--check")
    assert built.exit_code == 0, built.output
    text = pdf_words(project / "output" / "impfung.pdf")
    for sentence in ARTICLE:
        assert sentence in text
    for furniture in FURNITURE:
        assert furniture not in text
    reader = PdfReader(project / "output" / "impfung.pdf")
    assert reader.metadata.title == "Grippeimpfung im Herbst: Was Sie wissen sollten"
    assert reader.metadata.author == "Dr Anna Keller"
    assert reader.trailer["/Root"]["/Lang"] == "de-DE"
    # The image is printed as a link with its alt text, to the page's own address.
    assert "Eine Ärztin impft einen älteren Patienten" in text
    assert "praxis-am-markt.example/bilder/impfung.jpg" in text.replace(" ", "")


def test_removals_are_one_line_per_article_and_each_with_verbose(saved_page):
    summary = run("build")
    removal_lines = [line for line in summary.stderr.splitlines() if "[W102]" in line]
    assert len(removal_lines) == 1
    assert "removed 9 blocks of web page furniture" in removal_lines[0]
    assert "menu" in removal_lines[0] and "comments" in removal_lines[0] and "cookie" in removal_lines[0]
    detailed = run("build", "--force", "--verbose")
    lines = [line for line in detailed.stderr.splitlines() if "[W102]" in line]
    assert len(lines) == 9
    assert any(line.startswith("content/impfung.html:46: warning: removed related (4 blocks, 27 words)")
               for line in lines)


def test_import_writes_markdown_with_what_was_removed_and_build_prefers_it(saved_page, project):
    imported = run("import", "content/impfung.html")
    assert imported.exit_code == 0, imported.output
    markdown = (project / "content" / "impfung.md").read_text(encoding="utf-8")
    assert "lang: de-DE" in markdown
    assert "source_url: https://praxis-am-markt.example/ratgeber/grippeimpfung" in markdown
    article, removed = markdown.split("<!-- handout import left these parts")
    assert "- Menschen ab 60 Jahren" in article and "## Wer sollte sich impfen lassen?" in article
    assert "[related, line 46]\nDas könnte Sie auch interessieren" in removed
    assert "Startseite" not in article

    built = run("build", "--check")
    assert built.exit_code == 0, built.output
    assert "content/impfung.html: not built; content/impfung.md, its import, is built instead" in built.stderr
    assert "1 of 1 handouts built" in built.stdout
    text = pdf_words(project / "output" / "impfung.pdf")
    assert all(sentence in text for sentence in ARTICLE)
    assert not any(furniture in text for furniture in FURNITURE)  # the comment never prints


class PageServer(http.server.ThreadingHTTPServer):
    requests: list[str]


@pytest.fixture
def page_server():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(PAGES))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=5)


def test_import_fetches_a_page_only_when_asked_and_keeps_it(project, page_server):
    address = f"{page_server}/impfung.html"
    refused = run("import", address)
    assert refused.exit_code == 2
    assert "add --allow-remote" in refused.stderr
    # Loopback is never fetched unless trusted on purpose, as for a build's images.
    loopback = run("import", address, "--allow-remote")
    assert loopback.exit_code == 2 and "cannot import" in loopback.stderr
    fetched = run("import", address, "--allow-remote", "--trust-network", "127.0.0.1/32")
    assert fetched.exit_code == 0, fetched.output
    assert "(the page kept as content/impfung.html)" in fetched.stdout
    assert (project / "content" / "impfung.html").read_bytes().startswith(b"<!-- saved from url=(")
    markdown = (project / "content" / "impfung.md").read_text(encoding="utf-8")
    assert "Jedes Jahr im Herbst beginnt die Grippesaison." in markdown


def test_a_page_without_an_article_is_one_clear_line_and_the_others_build(project):
    (project / "content" / "empty.html").write_text(
        "<html><body><nav><a href='/'>Home</a> <a href='/a'>About</a></nav></body></html>", encoding="utf-8")
    (project / "content" / "good.md").write_text("A good article.\n", encoding="utf-8")
    built = run("build")
    assert built.exit_code == 1
    assert "content/empty.html: error: no article found in this page" in built.stderr
    assert "Traceback" not in built.output
    assert (project / "output" / "good.pdf").exists()


def test_saved_pages_of_the_dev_set_keep_their_articles(tmp_path):
    # The target is F1 0.96 (trafilatura alone: 0.95); a regression below the floor fails.
    score = scoring.score(scoring.imported("html", tmp_path)[0])
    assert score.f1 >= 0.955, score
    assert score.recall >= 0.96, score


def test_pasted_pages_of_the_dev_set_keep_their_articles(tmp_path):
    # The target is F1 0.90 with recall 0.97 (keeping everything: 0.71); this set scores 0.947 and 0.980.
    score = scoring.score(scoring.imported("paste", tmp_path)[0])
    assert score.f1 >= 0.93, score
    assert score.recall >= 0.97, score


def test_the_scorer_fails_text_that_is_not_the_article():
    truth = scoring.ground_truth()
    assert scoring.score(dict(truth)).f1 == 1.0
    assert scoring.score({key: "Home News Sport Weather Sign in Subscribe" for key in truth}).f1 == 0.0
    whole_pages = {key: (DEV_SET / "paste" / f"{key}.txt").read_text(encoding="utf-8") for key in truth}
    assert scoring.score(whole_pages).precision < 0.6


def test_a_pasted_page_may_start_with_front_matter(project):
    shutil.copy(Path(__file__).parent / "pasted" / "flu-season.txt", project / "content" / "flu.txt")
    text = (project / "content" / "flu.txt").read_text(encoding="utf-8")
    (project / "content" / "flu.txt").write_text(
        "---\ntitle: Flu season at the clinic\nauthor: Northside Clinic\nlang: en-GB\nslug: flu-2024\n---\n" + text,
        encoding="utf-8")
    built = run("build", "--check")
    assert built.exit_code == 0, built.output
    reader = PdfReader(project / "output" / "flu-2024.pdf")
    assert reader.metadata.title == "Flu season at the clinic"
    assert reader.metadata.author == "Northside Clinic"
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    printed = pdf_words(project / "output" / "flu-2024.pdf")
    assert "slug:" not in printed and "---" not in printed
    (project / "content" / "flu.txt").write_text("---\ntitle: [broken\n---\n" + text, encoding="utf-8")
    broken = run("build")
    assert broken.exit_code == 1
    assert "content/flu.txt:2: error: broken YAML front matter" in broken.stderr


def test_import_of_a_paste_lists_what_was_removed_whole(project):
    shutil.copy(Path(__file__).parent / "pasted" / "flu-season.txt", project / "content")
    assert run("import", "content/flu-season.txt").exit_code == 0
    markdown = (project / "content" / "flu-season.md").read_text(encoding="utf-8")
    article, removed = markdown.split("<!-- handout import left these parts")
    assert "lang: en" in article
    assert "Skip to main content" in removed and "Skip to main content" not in article
    assert all(f"[{kind}, line " in removed for kind in ("menu", "cookie", "share"))


def test_a_saved_page_without_a_lang_attribute_gets_the_language_of_its_text(project):
    page = (PAGES / "impfung.html").read_text(encoding="utf-8").replace('<html lang="de-DE">', "<html>")
    (project / "content" / "impfung.html").write_text(page, encoding="utf-8")
    assert run("build").exit_code == 0
    assert PdfReader(project / "output" / "impfung.pdf").trailer["/Root"]["/Lang"] == "de"
