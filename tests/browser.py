"""`handout serve` in a subprocess and Debian's Chromium driven by Playwright, for the web
page's tests and for docs/make_screenshots.py."""

from __future__ import annotations

import contextlib
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
STARTUP_SECONDS = 30
# A build under a busy machine's load: generous, but bounded.
BUILD_MS = 180_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served(project: Path) -> Iterator[str]:
    """The address of `handout serve PROJECT` on a free port of 127.0.0.1, stopped after."""
    server, address = start(project)
    try:
        yield address
    finally:
        stop(server)


def start(project: Path, host: str = "127.0.0.1") -> tuple[subprocess.Popen, str]:
    """`handout serve PROJECT --host HOST` on a free port, once it answers, and its address.

    What it prints is read as it comes (`said(server)`): a pipe nobody reads fills up
    after some 64 KB of build lines, and the server then hangs on its next line."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "generator", "serve", str(project), "--host", host,
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in server.stdout], daemon=True)
    reader.start()
    SAID[server] = (lines, reader)
    address = f"http://{host}:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            urllib.request.urlopen(address + "/static/style.css", timeout=2).close()
            return server, address
        except urllib.error.HTTPError:
            return server, address  # it answers, if only to refuse
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                stop(server)
                raise RuntimeError(f"handout serve did not start: {said(server)}") from None
            time.sleep(0.2)


# server -> (its printed lines as they come, the thread that reads them)
SAID: dict[subprocess.Popen, tuple[queue.Queue[str], threading.Thread]] = {}


def next_line(server: subprocess.Popen, timeout: float = 30) -> str:
    """The next line the server prints."""
    return SAID[server][0].get(timeout=timeout)


def said(server: subprocess.Popen) -> str:
    """What the server printed since the last look (all of it, once it has stopped)."""
    lines, reader = SAID[server]
    if server.poll() is not None:
        reader.join(timeout=10)
    found = []
    while not lines.empty():
        found.append(lines.get_nowait())
    return "".join(found)


def stop(server: subprocess.Popen) -> int:
    """Stop the server as Ctrl-C does; its exit status."""
    server.send_signal(signal.SIGINT)
    try:
        return server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=5)
        raise


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium browser (Debian's: Playwright's own download is not used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def fresh_page(browser, timeout_ms: float) -> Iterator:
    """A page of its own (cookies, downloads) in `browser`, closed after."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        yield page
    finally:
        context.close()


def paste(page, selector: str, data: dict[str, str]) -> None:
    """A real paste event on `selector`, its clipboard holding `data` ({type: text})."""
    page.eval_on_selector(selector, """(target, data) => {
        const clipboard = new DataTransfer();
        for (const [type, text] of Object.entries(data)) clipboard.setData(type, text);
        target.focus();
        target.dispatchEvent(new ClipboardEvent("paste", {clipboardData: clipboard, bubbles: true, cancelable: true}));
    }""", data)


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical accessibility violations on the page as it is now, one line
    each (rule, what it asks, where). axe-core comes inside axe-playwright-python: no CDN."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']}: {', '.join(str(n['target']) for n in v['nodes'][:3])}"
            for v in violations if v["impact"] in ("serious", "critical")]


def drop_file(page, selector: str, name: str, content: str) -> None:
    """A real drop event on `selector` of a file called `name` holding `content` (UTF-8)."""
    page.eval_on_selector(selector, """(target, [name, content]) => {
        const files = new DataTransfer();
        files.items.add(new File([content], name));
        target.dispatchEvent(new DragEvent("drop", {dataTransfer: files, bubbles: true, cancelable: true}));
    }""", [name, content])
