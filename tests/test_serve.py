"""`handout serve`: the web page over a project, driven in a real browser (Chromium)."""

from __future__ import annotations

import http.client
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import CHROMIUM, chromium, paste, served, start, stop
from conftest import REPO, SAMPLE, body_sentences, pdf_words, words
from pypdf import PdfReader

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="no chromium executable (Debian: apt-get install chromium)")
# A build under a busy machine's load: generous, but bounded.
BUILD_MS = 180_000

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


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(BUILD_MS)
    yield page
    context.close()


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
    assert list((root / "output" / ".pictures").glob("*/*.png"))


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
        page.click("#download")
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
        printed = server.stdout.readline()
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
    finally:
        assert stop(server) == 0
    assert "stopped" in server.stdout.read()


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
    for path in ("/handouts/..%2F..%2F..%2Fetc%2Fpasswd/pdf", "/handouts/%2Fetc%2Fpasswd/picture.png",
                 "/preview/..%2F..%2Fetc/passwd", "/preview/0123456789abcdef/..%2F..%2Fhandout.pdf",
                 "/static/..%2F..%2F..%2Fpyproject.toml"):
        answer = page.request.get(address + path)
        assert answer.status == 404, path
        assert b"root:" not in answer.body()
