"""`handout serve` in a subprocess and Debian's Chromium driven by Playwright, for the web
page's tests and for docs/make_screenshots.py."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
STARTUP_SECONDS = 30


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
    """`handout serve PROJECT --host HOST` on a free port, once it answers, and its address."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "generator", "serve", str(project), "--host", host,
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
                raise RuntimeError(f"handout serve did not start: {server.stdout.read()}") from None
            time.sleep(0.2)


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


# The impacts axe-core rates as barring or seriously hindering someone from using a page.
SERIOUS = ("serious", "critical")


def serious_violations(page) -> list[str]:
    """The page's serious and critical accessibility violations, as axe-core finds them
    (its script comes inside the axe-playwright-python wheel: nothing from a CDN)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{violation['id']} ({violation['impact']}): {violation['help']}:"
            f" {', '.join(str(node['target']) for node in violation['nodes'])}"
            for violation in results.response["violations"] if violation["impact"] in SERIOUS]
