"""Untrusted articles: no file outside the project is read, no network is reached, nothing hangs.

A real HTTP server on 127.0.0.1, started here, records every request. Nothing
in these tests sends traffic anywhere else: the metadata address and private
names are refused before any connection is made.
"""

from __future__ import annotations

import base64
import http.server
import io
import os
import shutil
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
from conftest import page_texts, pdf_words, run, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from generator.errors import HandoutError
from generator.markup.html import to_html
from generator.read.load import load_article

HOSTILE = Path(__file__).parent / "hostile"
CANARY = "CANARY-7f3a9c-do-not-print"
PNG = io.BytesIO()
Image.new("RGB", (40, 40), "red").save(PNG, "PNG")


class RecordingServer(http.server.ThreadingHTTPServer):
    def __init__(self):
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.requests: list[str] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server protocol
        self.server.requests.append(self.path)
        if self.path == "/redirect-to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
        elif self.path == "/redirect-to-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        elif self.path == "/huge.png":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(25 * 1024 * 1024))
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG.getvalue())))
            self.end_headers()
            self.wfile.write(PNG.getvalue())

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = RecordingServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def hostile_project(tmp_path, monkeypatch, server) -> Path:
    """The hostile articles in a project's content/, with a canary file just outside the project."""
    (tmp_path / "canary.txt").write_text(f"{CANARY}\n")
    project = tmp_path / "project"
    (project / "content").mkdir(parents=True)
    for article in HOSTILE.glob("*.md"):
        if article.name != "README.md":
            text = article.read_text().replace("HOSTILE_SERVER", server.address)
            (project / "content" / article.name).write_text(text)
    os.symlink(tmp_path / "canary.txt", project / "content" / "linked.txt")
    monkeypatch.chdir(project)
    return project


def pdf_bytes_everywhere(pdf: Path) -> bytes:
    """Every stream of the PDF, decompressed, and its raw bytes: where a leaked file would be."""
    reader = PdfReader(pdf)
    parts = [pdf.read_bytes()]
    for number in range(1, len(reader.xref_objStm) + 2000):
        try:
            obj = reader.get_object(number)
        except Exception:  # noqa: BLE001 - probing object numbers that do not exist
            continue
        if hasattr(obj, "get_data"):
            parts.append(obj.get_data())
    return b"".join(parts)


def assert_nothing_leaked(project: Path) -> list[Path]:
    pdfs = sorted((project / "output").glob("*.pdf"))
    for pdf in pdfs:
        assert CANARY.encode() not in pdf_bytes_everywhere(pdf), pdf
        assert b"root:x:0:0" not in pdf_bytes_everywhere(pdf), pdf
        assert PdfReader(pdf).attachments == {}
        assert "injected" not in " ".join(page_texts(pdf))
    return pdfs


def test_hostile_articles_build_safely_without_a_single_request(hostile_project, server):
    result = run("build")
    assert server.requests == []
    pdfs = assert_nothing_leaked(hostile_project)
    assert [p.name for p in pdfs] == ["embedded.pdf", "file-images.pdf", "remote.pdf", "scripts.pdf",
                                      "stylesheets.pdf"]
    assert not (hostile_project.parent / "escaped.pdf").exists()
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert any(line.startswith("content/slug.md:3: error: slug '../../escaped' may hold only") for line in errors)
    assert any(line.startswith("content/deep.md:4: error: lists or quotes nested more than 20 levels")
               for line in errors)
    assert any(line.startswith("content/linked.txt: error: is a link to ") for line in errors)
    for pdf in pdfs:
        assert "These words must all be printed." in pdf_words(pdf)


def test_every_refusal_and_removal_is_reported(hostile_project):
    warnings = run("build").stderr
    for expected in [
        "content/file-images.md:5: warning: image /etc/passwd is outside the project's content",
        "content/file-images.md:9: warning: image ../../canary.txt is outside",
        "content/stylesheets.md:5: warning: removed unsafe HTML: <style> element and its content [W108]",
        "content/stylesheets.md:11: warning: removed unsafe HTML: <link> element [W108]",
        "content/stylesheets.md:14: warning: removed unsafe HTML: background-image style of <div> [W108]",
        "content/embedded.md:5: warning: removed unsafe HTML: <object> element and its content [W108]",
        "content/embedded.md:7: warning: removed unsafe HTML: <iframe> element and its content [W108]",
        "content/scripts.md:5: warning: removed unsafe HTML: <script> element and its content [W108]",
        "content/scripts.md:7: warning: removed unsafe HTML: onclick attribute of <p> [W108]",
        "content/scripts.md:9: warning: removed unsafe HTML: javascript: address of <a> [W108]",
        "content/scripts.md:9: warning: removed unsafe HTML: vbscript: address of <a> [W108]",
        "content/scripts.md:11: warning: removed unsafe HTML: <base> element [W108]",
        "content/scripts.md:11: warning: removed unsafe HTML: <meta> element [W108]",
        "content/scripts.md:14: warning: removed unsafe HTML: <form> element [W108]",
        "content/scripts.md:16: warning: removed unsafe HTML: onerror attribute of <img> [W108]",
        "content/remote.md:5: warning: remote image not fetched: http://127.0.0.1:",
        "content/remote.md:9: warning: remote image not fetched: http://169.254.169.254/latest/meta-data/",
    ]:
        assert expected in warnings, expected
    assert "content/remote.md: warning: http://127.0.0.1:" in warnings  # the raw <img>, refused by the fetcher


def test_remote_image_prints_as_its_description_and_address(hostile_project):
    run("build")
    text = pdf_words(hostile_project / "output" / "remote.pdf")
    assert "pixel (http://127.0.0.1:" in text
    assert "metadata (http://169.254.169.254/latest/meta-data/iam/security-credentials/)" in text


def test_allow_remote_never_reaches_loopback_or_the_metadata_address(hostile_project, server):
    result = run("build", "--allow-remote")
    assert server.requests == []
    assert "is at 127.0.0.1, a loopback, private, link-local or multicast address; not fetched" in result.stderr
    assert "169.254.169.254 is at 169.254.169.254" in result.stderr
    assert_nothing_leaked(hostile_project)


def test_allow_remote_fetches_only_what_is_allowed(hostile_project, server):
    result = run("build", "--allow-remote", "--trust-network", "127.0.0.1/32")
    fetched = sorted(set(server.requests))
    # The images and the redirects; never the script's, form's or base's addresses, nor a
    # background in a style attribute (the sanitizer keeps no style property that fetches).
    assert fetched == ["/huge.png", "/pixel.png", "/raw.png", "/redirect-to-file", "/redirect-to-metadata"]
    assert "only http and https addresses are fetched" in result.stderr  # the redirect to file:
    assert "169.254.169.254 is at 169.254.169.254" in result.stderr       # the redirect to the metadata address
    assert "is 25.0 MB, over the 20 MB cap" in result.stderr
    assert len(PdfReader(hostile_project / "output" / "remote.pdf").pages[0].images) >= 2
    assert_nothing_leaked(hostile_project)


def test_trust_network_needs_allow_remote(hostile_project):
    result = run("build", "--trust-network", "10.0.0.0/8")
    assert result.exit_code == 2


def test_limits_stop_one_article_and_the_others_still_build(project):
    write(project / "content" / "good.md", "Fine.\n")
    (project / "content" / "big.md").write_text("word " * (1_100_000))
    bomb = project / "content" / "bomb.png"
    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))  # noqa: E731
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10))
                     + chunk(b"IEND", b""))
    write(project / "content" / "bombed.md", "Look:\n\n![bomb](bomb.png)\n")
    result = run("build")
    assert result.exit_code == 1
    assert "content/big.md: error: the file is 5.2 MB, over the 5.0 MB limit" in result.stderr
    assert "content/bombed.md:3: error: image bomb.png has 3600 megapixels, over the limit of 50" in result.stderr
    assert "content/good.md -> output/good.pdf" in result.stdout


def test_nothing_is_written_outside_the_output_folder(hostile_project, tmp_path):
    before = sorted(p for p in tmp_path.rglob("*") if "output" not in p.parts)
    run("build")
    after = sorted(p for p in tmp_path.rglob("*") if "output" not in p.parts)
    assert after == before


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_loading_random_bytes_gives_only_clear_errors(tmp_path, data):
    for name in ("random.md", "random.txt"):
        path = tmp_path / name
        path.write_bytes(data)
        try:
            to_html(load_article(path))
        except HandoutError as exc:
            assert exc.path == path and "\n" not in exc.format_message()


MARKDOWN_PIECES = st.sampled_from([
    "# ", "## ", "- ", "1. ", "> ", "```", "~~~", "|", "---", "***", "[", "]", "(", ")", "![", "<", ">",
    "<div>", "</div>", "<script>", "&amp;", "[^1]", "[^1]: ", "::: note", ":::", "{.margin}", "\n", "\n\n",
    "    ", "*", "_", "`", "word", "Ελληνικά", "中文", "http://x.invalid/a.png", "\t", "\\", "$",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(MARKDOWN_PIECES, max_size=40), front=st.text(max_size=60))
def test_random_markdown_and_front_matter_give_only_clear_errors(tmp_path, pieces, front):
    path = tmp_path / "a.md"
    path.write_text(f"---\n{front}\n---\n" + "".join(pieces) + "\nend\n", encoding="utf-8")
    try:
        body = to_html(load_article(path))
    except HandoutError as exc:
        assert exc.path == path and "\n" not in exc.format_message()
    else:
        assert "<script" not in body.html


def bomb_png(width: int = 13_000, height: int = 13_000) -> bytes:
    """A PNG header claiming width x height pixels, with almost no data behind it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def build_in_subprocess(project: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`handout build` in its own process: a hang fails the test instead of stalling it."""
    return subprocess.run([sys.executable, "-m", "generator", "build", *args], cwd=project, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})


CRASHES = {
    "impossible-date.md": "content/impossible-date.md:3: error: broken YAML front matter: '2025-02-30' cannot be read",
    "impossible-month.md":
        "content/impossible-month.md:2: error: broken YAML front matter: '2025-13-01' cannot be read",
    "huge-number.md": "content/huge-number.md:2: error: broken YAML front matter: '9999",
    "nul-in-image.md": "content/nul-in-image.md:1: error: image 'a\\x00b.png' is not a file name",
    "proc-image.md": "content/proc-image.md:1: warning: image /proc/self/mem is outside the project's content",
    "javascript-source.md": "content/javascript-source.md:2: error: source_url must be an http, https or mailto"
                            " address, not 'javascript:alert(1)'",
    "slug-yes.md": "content/slug-yes.md:2: error: slug must be text, not true; put it in quotes if it is",
    "raw-html-bomb.md": "content/raw-html-bomb.md: error: image content/bomb.png has 169 megapixels, over the limit",
    "svg-bomb.md": "content/svg-bomb.md: error: image content/bomb.png has 169 megapixels, over the limit",
    "data-bomb.md": "content/data-bomb.md: error: image data:image/png;base64,",
    "long-link.md": "content/long-link.md:1: error: a link's address is 100,020 characters long, over 2,000",
    "long-source.md": "content/long-source.md:2: error: source_url is 100,020 characters long, over 2,000",
}


def test_one_unlucky_article_never_stops_the_others(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(HOSTILE / "crash", project / "content")
    write(project / "content" / "good.md", "These words must all be printed.\n")
    (project / "content" / "bomb.png").write_bytes(bomb_png())
    data = base64.b64encode(bomb_png()).decode()
    write(project / "content" / "data-bomb.md", f"A bomb inline: ![bomb](data:image/png;base64,{data})\n")
    write(project / "content" / "long-link.md", f"[a link](https://example.org/{'a' * 100_000})\n")
    write(project / "content" / "long-source.md", f"---\nsource_url: https://example.org/{'a' * 100_000}\n---\nText.\n")
    done = build_in_subprocess(project)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    for expected in CRASHES.values():
        assert expected in done.stderr, expected
    assert "These words must all be printed." in pdf_words(project / "output" / "good.pdf")
    assert not (project / "output" / "True.pdf").exists()


def test_no_file_outside_the_project_is_opened_not_even_to_fingerprint_it(tmp_path, monkeypatch):
    canary = tmp_path / "canary.png"
    canary.write_bytes(PNG.getvalue())
    project = tmp_path / "project"
    write(project / "content" / "a.md", "Outside: ![x](../../canary.png) and <img src=\"../../canary.png\">\n")
    monkeypatch.chdir(project)
    opened = []

    def recording(open_function):
        def record(file, *args, **kwargs):
            if isinstance(file, (str, Path)):
                opened.append(Path(file).resolve())
            return open_function(file, *args, **kwargs)
        return record

    monkeypatch.setattr(io, "open", recording(io.open))
    monkeypatch.setattr("builtins.open", recording(open))
    result = run("build", "--jobs", "1")
    assert "content/a.md:1: warning: image ../../canary.png is outside the project's content" in result.stderr
    assert canary not in opened


def test_printed_addresses_are_where_links_go_and_no_builder_path_is_in_the_pdf(project):
    write(project / "content" / "links.md", """
        ---
        source_url: https://example.org/source
        ---
        Raw: <a href="https://evil.example/phish" data-url="www.who.int/safe">the WHO page</a>.

        See [the other handout](other.md), [the data](data/table.csv) and [chat](irc://example.org/x).
    """)
    write(project / "content" / "other.md", "Other.\n")
    result = run("build")
    assert "content/links.md:4: warning: removed unsafe HTML: data-url attribute of <a> [W108]" in result.stderr
    assert "content/links.md:6: warning: link to a irc: address left out" in result.stderr
    pdf = project / "output" / "links.pdf"
    text = pdf_words(pdf)
    assert "the WHO page (evil.example/phish)" in text and "www.who.int" not in text
    assert "the other handout (other.pdf)" in text and "the data (data/table.csv)" in text
    uris = [annotation.get_object()["/A"]["/URI"] for page in PdfReader(pdf).pages
            for annotation in page.get("/Annots") or () if "/URI" in annotation.get_object().get("/A", {})]
    assert sorted(set(uris)) == ["https://evil.example/phish", "https://example.org/source"]
    everything = pdf_bytes_everywhere(pdf)
    assert str(project).encode() not in everything and b"file://" not in everything


def test_styles_that_hide_text_are_left_out_with_a_warning(project):
    write(project / "content" / "hiding.md", """
        Visible start.

        <p style="font-size: 0">zero sized words</p>

        <p style="color: #fff; font-weight: bold">white on white words</p>

        <p style="margin-left: -3000px">pushed off the page words</p>

        <p style="color: white; background-color: #123">white on dark words</p>
    """)
    result = run("build", "--check")
    for line, what in [(3, "'font-size: 0' of <p>"), (5, "'color: #fff' of <p>"), (7, "'margin-left: -3000px' of <p>")]:
        assert f"content/hiding.md:{line}: warning: left out a style that hides text on paper: {what} [W120]" \
            in result.stderr
    assert "white on dark" not in result.stderr
    assert result.exit_code == 0, result.output
    text = pdf_words(project / "output" / "hiding.pdf")
    assert "zero sized words white on white words pushed off the page words" in text


def test_check_fails_on_a_handout_that_hides_text(project):
    # The project's own stylesheet is trusted and not sanitized: it can still hide words.
    write(project / "print.css", "p.whisper { color: #fdfdfd } p.tiny { font-size: 0.5pt }\n")
    write(project / "content" / "a.md", """
        Readable words.

        <p class="whisper">white words nobody sees</p>

        <p class="tiny">words too small to read</p>
    """)
    assert run("build", "--css", "print.css").exit_code == 0
    result = run("check")
    assert result.exit_code == 1
    assert "output/a.pdf: page 1: error: text printed too small or in the colour of the paper:" \
           " 'white words nobody sees' [C220]" in result.stdout
    assert "'words too small to read' [C220]" in result.stdout


def test_names_and_values_cannot_forge_a_line_of_output(project):
    write(project / "content" / "evil\nerror: all handouts deleted\x1b[2J.md", """
        ---
        lang: "en\\nerror: forged\\u202e"
        ---
        Text.
    """)
    result = run("build")
    (line,) = [line for line in result.stderr.splitlines() if "error" in line]
    assert line == ("content/evil\\nerror: all handouts deleted\\x1b[2J.md:2: error: lang 'en\\nerror: forged\\u202e'"
                    " is not a language tag such as en, de or pt-BR")
    assert "\x1b" not in result.output


@pytest.mark.parametrize("value", ["inf", "1e30", "nan"])
def test_limits_past_any_sane_bound_are_one_clear_line(project, value):
    write(project / "content" / "a.md", "Text.\n")
    write(project / "handout.toml", f"[limits]\nrender_seconds = {value}\n")
    result = run("build")
    assert result.exit_code == 1
    assert result.stderr.strip() == "handout.toml: error: limits.render_seconds must be a positive number up to 3600"


def test_a_stylesheet_opens_its_own_file_not_its_folder(project):
    home = project.parent / f"{project.name}-home"
    write(home / "print.css", "p { letter-spacing: 0.01em }\n")
    (home / "scan.png").write_bytes(PNG.getvalue())
    write(project / "content" / "a.md", f"A scan: ![scan]({home / 'scan.png'})\n")
    result = run("build", "--css", str(home / "print.css"))
    assert f"image {home / 'scan.png'} is outside the project's content" in result.stderr
    assert len(PdfReader(project / "output" / "a.pdf").pages[0].images) == 0


def test_a_hard_link_into_the_project_is_not_read(project):
    outside = project.parent / f"{project.name}-secret.png"
    outside.write_bytes(PNG.getvalue())
    os.link(outside, project / "content" / "linked.png")
    write(project / "content" / "a.md", "Linked: ![linked](linked.png) <img src=\"linked.png\" alt=\"raw\">\n")
    result = run("build")
    assert ("content/a.md:1: warning: image linked.png has another name elsewhere (a hard link), which may be"
            " outside the project; not read [W106]") in result.stderr
    assert "content/linked.png has another name elsewhere" in result.stderr  # the raw <img>, refused by the fetcher
    assert len(PdfReader(project / "output" / "a.pdf").pages[0].images) == 0
