"""`handout serve`: the web page over a project, driven in a real browser (Chromium)."""

from __future__ import annotations

import base64
import http.client
import io
import re
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import (
    BUILD_MS,
    CHROMIUM,
    drop_file,
    next_line,
    paste,
    said,
    serious_violations,
    served,
    start,
    stop,
)
from conftest import REPO, SAMPLE, body_sentences, pdf_words, words, write
from playwright.sync_api import expect
from pypdf import PdfReader

from generator.web.app import create_app
from generator.web.project import Project

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="no chromium executable (Debian: apt-get install chromium)")

PASTED_HTML = """<html lang="en"><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article>
<h1>Washing hands at the clinic</h1>
<p>Clean hands stop most infections from spreading between patients, staff and visitors every single day.</p>
<h2>When to wash</h2>
<ul><li>Before touching a patient</li><li>After touching blood or body fluids</li><li>After using the toilet</li></ul>
<h2>How long</h2>
<p>Rub your hands together for at least twenty seconds, as long as it takes to sing a short song twice.
The <a href="https://www.who.int/hand-hygiene">World Health Organization</a> explains each step with pictures.</p>
</article>
<footer>Copyright 2024. All rights reserved.</footer>
</body></html>"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    shutil.copytree(REPO / "content", root / "content")
    with served(root) as address:
        yield root, address


def test_handouts_page_lists_articles_with_pictures_of_their_first_pages(site, page):
    root, address = site
    page.goto(address + "/")
    assert page.locator(".badge").all_inner_texts() == ["not built", "not built"]
    page.click("text=Build all")
    page.wait_for_selector("img.thumb", state="visible")
    page.wait_for_function("[...document.querySelectorAll('img.thumb')].every(i => i.complete && i.naturalWidth > 0)")
    articles = page.locator(".handout").evaluate_all("items => items.map(i => i.dataset.article)")
    assert articles == sorted(p.name for p in (REPO / "content").iterdir() if p.is_file())
    assert page.locator("img.thumb").count() == len(articles)
    assert page.locator(".badge").all_inner_texts() == ["built"] * len(articles)
    # Build all can be pressed again, without a reload.
    page.wait_for_function("!document.querySelector('[data-build=\"\"]').disabled", timeout=10_000)
    assert list((root / "output" / ".pictures").glob("*/*.png"))
    assert "% of the words printed" in page.inner_text(".handout .findings")
    for kind, sheet_width_over_height in (("booklet", True), ("2up", True)):
        link = page.locator(f".handout >> nth=0 >> a[href$='/{kind}.pdf']")
        answer = page.request.get(address + link.get_attribute("href"))
        assert answer.status == 200, kind
        box = PdfReader(io.BytesIO(answer.body())).pages[0].mediabox
        assert (box.width > box.height) == sheet_width_over_height, kind
    assert serious_violations(page) == []


def test_an_article_written_into_content_from_outside_is_built_and_shown_without_a_reload(site, page):
    root, address = site
    page.goto(address + "/")
    page.evaluate("window.notReloaded = true")
    write(root / "content" / "live-edit.md", "# Written in an editor\n\nLinear B: \U00010000 has no font.\n")
    handout = page.locator(".handout[data-article='live-edit.md']")
    handout.locator(".badge", has_text="built").wait_for(timeout=BUILD_MS)
    assert handout.locator("h2").inner_text() == "Written in an editor"
    assert "1 finding" in handout.locator(".findings").inner_text()
    write(root / "content" / "live-edit.md", "# Edited again\n\nLinear B: \U00010000 has no font.\n")
    handout.locator("h2", has_text="Edited again").wait_for(timeout=BUILD_MS)
    assert page.evaluate("window.notReloaded") is True, "the page was updated in place, not reloaded"
    assert (root / "output" / "live-edit.pdf").is_file()
    # Rebuild from the keyboard alone.
    tab_to(page, ".handout[data-article='live-edit.md'] button[data-build]")
    built = (root / "output" / "live-edit.pdf").stat().st_mtime_ns
    page.keyboard.press("Enter")
    # The rebuild writes the handout again (forced); then the page says so: "done" from the
    # button, or "updated" from the live event the rebuild also sends, whichever comes last.
    deadline = time.monotonic() + BUILD_MS / 1000
    while (root / "output" / "live-edit.pdf").stat().st_mtime_ns == built:
        assert time.monotonic() < deadline, "Rebuild pressed from the keyboard did not build"
        time.sleep(0.2)
    expect(page.locator("#status")).to_have_text(re.compile(r"^live-edit\.md: (done|updated)\.$"), timeout=BUILD_MS)


def test_handout_page_shows_every_page_and_rerenders_from_the_keyboard(site, page):
    root, address = site
    page.goto(address + "/handouts/live-edit.md")
    page.wait_for_selector("img.page")
    built = PdfReader(root / "output" / "live-edit.pdf")
    assert page.locator("img.page").count() == len(built.pages)
    finding = page.locator("#report li", has_text="C203")
    assert finding.locator("a").get_attribute("href") == "#page-1" and page.locator("#page-1").count() == 1
    assert serious_violations(page) == []
    # Theme, paper, bleed and marks, set and sent from the keyboard alone.
    tab_to(page, "select[name=paper]")
    page.keyboard.type("letter")
    page.keyboard.press("Tab")
    page.keyboard.type("3mm")
    page.keyboard.press("Tab")
    page.keyboard.type("crop")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Show these pages"
    page.keyboard.press("Space")
    page.wait_for_function(r"/^\d+ pages?\.$/.test(document.getElementById('status').textContent)")
    answer = page.request.get(address + page.get_attribute("#download-handout", "href"))
    shown = PdfReader(io.BytesIO(answer.body())).pages[0]
    assert round(float(shown.trimbox.width)) == 612 and round(float(shown.trimbox.height)) == 792, "US Letter"
    assert round(float(shown.mediabox.width - shown.trimbox.width), 1) == round(2 * 3 * 72 / 25.4, 1), "3 mm bleed"
    assert PdfReader(root / "output" / "live-edit.pdf").pages[0].mediabox == built.pages[0].mediabox, \
        "output/ keeps the handout as the project builds it"


def tab_to(page, selector: str, presses: int = 40) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with Tab")


def test_a_dropped_file_fills_the_fields_and_a_left_out_block_can_be_put_back(site, page):
    root, address = site
    page.goto(address + "/new")
    drop_file(page, "#paste", "notes.txt", (REPO / "tests" / "pasted" / "harbour-news.txt").read_text(encoding="utf-8"))
    page.wait_for_selector("img.page")
    assert page.input_value("input[name=title]") and page.input_value("input[name=lang]") == "en"
    assert "words printed" in page.inner_text("#report")
    assert serious_violations(page) == []
    removed = page.locator("#removed li")
    before = removed.count()
    first = removed.first.inner_text().split(": ", 1)[1].split("Put back")[0].strip()[:30]
    removed.first.locator("button").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#removed li').length === {before - 1}")
    assert first in " ".join(page.input_value("textarea[name=body]").split())
    answer = page.request.get(address + page.get_attribute("#download-2up", "href"))
    box = PdfReader(io.BytesIO(answer.body())).pages[0].mediabox
    assert box.width > box.height, "2 pages side by side on a landscape sheet"
    drop_file(page, "#paste", "article.md", "---\ntitle: From a file\nauthor: Ana Ruiz\nlang: es\n---\n\nHola.\n")
    page.wait_for_function("document.querySelector('input[name=title]').value === 'From a file'")
    assert page.input_value("input[name=author]") == "Ana Ruiz" and page.input_value("input[name=lang]") == "es"
    drop_file(page, "#paste", "letter.docx", "PK")
    page.wait_for_selector("#status.error")
    assert page.inner_text("#status") == ("letter.docx: error: not an article: handout reads"
                                          " .md, .markdown, .txt, .html, .htm files")


def test_pasted_text_previews_and_downloads_the_whole_article(site, page, tmp_path):
    root, address = site
    page.goto(address + "/new")
    paste(page, "#paste", {"text/plain": SAMPLE.read_text(encoding="utf-8")})
    page.wait_for_selector("img.page", state="visible")
    assert page.input_value("input[name=title]") == "The Therapeutic Likely of Ketamine: An extensive Overview"
    assert "words printed (100%)" in page.inner_text("#report")
    assert "appears truncated" in page.inner_text("#report"), "what reading the paste found is shown too"
    assert "Leave a Reply" in page.inner_text("#removed")
    with page.expect_download() as download:
        page.click("#download-handout")
    pdf = tmp_path / "downloaded.pdf"
    download.value.save_as(pdf)
    printed = pdf_words(pdf)
    for sentence in body_sentences():
        assert words(sentence) in printed
    assert not list((root / "content").glob("the-therapeutic*")), "a preview writes nothing to content/"


def test_pasted_html_keeps_headings_lists_and_links_in_the_saved_article(site, page):
    root, address = site
    page.goto(address + "/new")
    paste(page, "#paste", {"text/html": PASTED_HTML, "text/plain": "Washing hands at the clinic"})
    page.wait_for_selector("img.page", state="visible")
    page.fill("input[name=author]", "Clinic staff")
    page.click("#save")
    page.wait_for_selector("text=and built.")
    markdown = (root / "content" / "washing-hands-at-the-clinic.md").read_text(encoding="utf-8")
    assert "title: Washing hands at the clinic" in markdown and "author: Clinic staff" in markdown
    assert "## When to wash" in markdown and "## How long" in markdown
    assert "- Before touching a patient\n- After touching blood or body fluids\n- After using the toilet" in markdown
    assert "[World Health Organization](https://www.who.int/hand-hygiene)" in markdown
    pdf = root / "output" / "washing-hands-at-the-clinic.pdf"
    outline = [item["/Title"] for item in PdfReader(pdf).outline[1]]
    assert outline == ["When to wash", "How long"]
    printed = pdf_words(pdf)
    for item in ("Before touching a patient", "After touching blood or body fluids", "After using the toilet"):
        assert item in printed
    assert "All rights reserved" not in printed


BEES_HTML = """<html lang="en"><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Keeping bees in the city</h1>
<p>Bees need flowers within a short flight of the hive, and city gardens give them more kinds than most farms do.</p>
<div class="newsletter"><p>Sign up for our newsletter to get weekly gardening tips in your inbox.</p>
<form><input type="email" aria-label="Email"><button>Subscribe</button></form></div>
<p>A hive on a roof must be sheltered from the wind and have water close by, such as a shallow dish of stones.</p>
<p>Neighbours should be told before the first hive arrives, since a swarm in spring can alarm people nearby.</p>
</article><footer>Copyright 2024.</footer></body></html>"""


def test_a_block_put_back_goes_back_where_it_was_removed_from(site, page):
    root, address = site
    page.goto(address + "/new")
    paste(page, "#paste", {"text/html": BEES_HTML, "text/plain": "Keeping bees in the city"})
    page.wait_for_selector("img.page", state="visible")
    shown = page.get_attribute("#download-handout", "href")
    newsletter = page.locator("#removed li", has_text="Sign up for our newsletter")
    newsletter.locator("button").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("shown => document.getElementById('download-handout').getAttribute('href') !== shown"
                           " && !document.getElementById('status').textContent.startsWith('Making')", arg=shown)
    assert "Sign up for our newsletter" not in page.inner_text("#removed")
    pdf = page.request.get(address + page.get_attribute("#download-handout", "href")).body()
    printed = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    order = [printed.find(text) for text in ("city gardens give them more kinds", "Sign up for our newsletter",
                                             "A hive on a roof must be sheltered")]
    assert -1 not in order and order == sorted(order), printed
    assert serious_violations(page) == []


def test_a_post_without_the_pages_csrf_token_is_refused(site, page):
    root, address = site
    page.goto(address + "/")
    # The browser has its session cookie; a page of another site could send it, never the token.
    refused = page.request.post(address + "/api/build", data={"article": "hand-hygiene.md"})
    assert refused.status == 403
    token = page.get_attribute("meta[name=csrf-token]", "content")
    wrong = page.request.post(address + "/api/read", data={"kind": "text", "content": "x"},
                              headers={"X-CSRF-Token": token[::-1]})
    assert wrong.status == 403
    with pytest.raises(urllib.error.HTTPError) as refused_plain:
        urllib.request.urlopen(urllib.request.Request(address + "/api/build", data=b"{}", method="POST"), timeout=10)
    assert refused_plain.value.code == 403


def test_every_change_the_page_can_ask_for_needs_its_csrf_token(site, page, tmp_path):
    root, address = site
    project = Project(tmp_path)
    try:
        routes = create_app(project).routes
        changes = [route.path for route in routes if "POST" in (getattr(route, "methods", None) or ())]
    finally:
        project.close()
    assert "/api/save" in changes and "/api/render" in changes
    page.goto(address + "/")
    for path in changes:
        answer = page.request.post(address + path, data={"article": "hand-hygiene.md"})
        assert answer.status == 403, path


def test_a_request_for_another_host_name_is_refused(site):
    root, address = site
    connection = http.client.HTTPConnection(urlsplit(address).hostname, urlsplit(address).port, timeout=10)
    connection.request("GET", "/", headers={"Host": "attacker.example"})
    assert connection.getresponse().status == 400
    connection.close()
    with urllib.request.urlopen(address.replace("127.0.0.1", "localhost") + "/", timeout=10) as answer:
        assert answer.status == 200


def test_on_another_address_the_printed_token_is_asked_for_and_ctrl_c_stops_cleanly(tmp_path):
    (tmp_path / "content").mkdir()
    # Another address of this machine's own loopback network stands for a network address.
    server, address = start(tmp_path, host="127.0.0.2")
    try:
        printed = next_line(server)
        token = printed.split("?token=")[1].split()[0]
        assert len(token) >= 20
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(address + "/", timeout=10)
        assert refused.value.code == 403
        first = urllib.request.build_opener(NoRedirect).open
        with pytest.raises(urllib.error.HTTPError) as redirected:
            first(f"{address}/?token={token}", timeout=10)
        assert redirected.value.code == 303 and redirected.value.headers["Location"] == address + "/"
        cookie = redirected.value.headers["Set-Cookie"].split(";")[0]
        with urllib.request.urlopen(urllib.request.Request(address + "/", headers={"Cookie": cookie}),
                                    timeout=10) as answer:
            assert answer.status == 200
        # A page left open listens for live updates: Ctrl-C stops the server all the same, quietly.
        events = urllib.request.urlopen(urllib.request.Request(address + "/events", headers={"Cookie": cookie}),
                                        timeout=10)
        assert events.readline() == b"retry: 2000\n"
    finally:
        assert stop(server) == 0
    printed = said(server)
    assert "stopped" in printed and "Traceback" not in printed
    events.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def test_a_paste_over_the_size_limit_is_refused_and_no_path_leaves_the_project(site, page):
    root, address = site
    page.goto(address + "/new")
    token = page.get_attribute("meta[name=csrf-token]", "content")
    over = page.request.post(address + "/api/read", headers={"X-CSRF-Token": token},
                             data={"kind": "text", "content": "word " * 1_100_000})
    assert over.status == 422 and "over the 5.0 MB limit" in over.json()["error"]
    huge = page.request.post(address + "/api/read", headers={"X-CSRF-Token": token},
                             data={"kind": "text", "content": "x" * 32 * 1024 * 1024})
    assert huge.status == 413
    dropped = page.request.post(address + "/api/read", headers={"X-CSRF-Token": token},
                                data={"kind": "file", "name": "big.txt",
                                      "content": base64.b64encode(b"word " * 1_100_000).decode()})
    assert dropped.status == 422 and dropped.json()["error"].startswith("big.txt: error: the file is 5.2 MB")
    garbled = page.request.post(address + "/api/read", headers={"X-CSRF-Token": token},
                                data={"kind": "file", "name": "notes.md", "content": "not base64!"})
    assert garbled.status == 422
    assert garbled.json()["error"] == "notes.md: error: the file did not arrive whole; drop it again"
    outside = page.request.post(address + "/api/render", headers={"X-CSRF-Token": token},
                                data={"article": "../handout.toml"})
    assert outside.status == 404
    for path in ("/handouts/..%2F..%2F..%2Fetc%2Fpasswd/pdf", "/handouts/%2Fetc%2Fpasswd/picture.png",
                 "/preview/..%2F..%2Fetc/passwd", "/preview/0123456789abcdef/..%2F..%2Fhandout.pdf",
                 "/static/..%2F..%2F..%2Fpyproject.toml", "/handouts/..%2F..%2Fetc%2Fpasswd",
                 "/handouts/..%2Fhandout.toml/booklet.pdf", "/preview/0123456789abcdef/..%2F..%2F2up.pdf",
                 "/preview/0123456789abcdef/page-1.png"):
        answer = page.request.get(address + path)
        assert answer.status == 404, path
        assert b"root:" not in answer.body()
