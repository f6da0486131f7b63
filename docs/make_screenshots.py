"""Take the README's pictures of `handout serve`, so they show what the code makes today.

- docs/serve-handouts.png: the Handouts page over this repository's content/, built;
- docs/serve-new.png: the New handout page after pasting the sample article;
- docs/serve-handout.png: the Handout page of the sample, with its pages and check.
- docs/serve-send.png: the Send page after a dry run to three recipients, with a preview
  and the Send a test field.

Run from the repository root after changing the web page:

    python docs/make_screenshots.py

Needs Debian's chromium and the test extra (Playwright): pip install -e '.[test]'.

Every wait is bounded (STEP_SECONDS): a step that does not finish in time, or a page
that shows an error, stops the script with one line saying which step, what the page
showed and what the server printed, and exit status 1; it never hangs.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO / "tests"))

from browser import SAID, chromium, paste, said, start, stop  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402

SAMPLE = REPO / "content" / "000_22cf51892c953b2a.txt"
# Seconds a step may take: one that builds handouts (on a busy machine), or one that only asks the page.
BUILDING, ASKING = 240, 30
PICTURES = ("serve-handouts.png", "serve-new.png", "serve-handout.png", "serve-send.png")
# The first pictures drawn (later pages load as they are scrolled to).
ALL_DRAWN = ("(selector) => [...document.querySelectorAll(selector)].length > 0 &&"
             " [...document.querySelectorAll(selector)].slice(0, 2).every(i => i.complete && i.naturalWidth)")
# A run on the Send page has ended: its summary, or an error, is shown.
RUN_ENDED = ("() => { const status = document.getElementById('run-status');"
             " return status.classList.contains('error') || status.textContent.startsWith('Dry run:'); }")
PREVIEW_SHOWN = ("() => !document.getElementById('mail-preview').hidden"
                 " || document.getElementById('recipients-status').classList.contains('error')")
RECIPIENTS = ("name,email,group\nAna Ruiz,ana@example.org,Tuesday\nBo Lee,bo@example.org,Thursday\n"
              "Chloé Martin,chloe@example.org,Tuesday\n")
MAIL_SETTINGS = """[mail]
smtp_host = "smtp.example.org"
smtp_user = "clinic"
from = "Northside Clinic <news@example.org>"
"""


class Stuck(Exception):
    """A step that did not finish in its time, or ended in an error on the page."""


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(REPO / "content", Path(folder) / "content")
        (Path(folder) / "handout.toml").write_text(MAIL_SETTINGS, encoding="utf-8")
        server, address = start(Path(folder))
        try:
            take(address)
        except Stuck as exc:
            printed = " | ".join(said(server).split("\n")[-6:]).strip(" |")
            print(f"make_screenshots: error: {exc}; the server said: {printed or 'nothing'}", file=sys.stderr)
            return 1
        finally:
            stop(server)
            SAID.pop(server, None)
    for name in PICTURES:
        print(f"docs/{name}")
    return 0


@contextlib.contextmanager
def step(page, what: str, seconds: float, shown: str = "#status") -> Iterator[None]:
    """One step of the script, its every wait bounded by `seconds`; its time, to stderr."""
    page.set_default_timeout(seconds * 1000)
    began = time.monotonic()
    try:
        yield
    except PlaywrightError as exc:  # a timeout, or a page gone
        raise Stuck(f"{what}: not done in {seconds} s ({str(exc).splitlines()[0]}); the page shows:"
                    f" {on_page(page, shown)!r}") from None
    print(f"  {what}: {time.monotonic() - began:.1f} s", file=sys.stderr)


def press(page, selector: str) -> None:
    """Use a button from the keyboard. Not a click: a click made just after the page scrolled
    to the button can go to the Send page's preview frame instead (Chromium routes it by where
    things were before the scroll), so the Dry run button did nothing and the script waited
    for a run that had never started; that was its hang."""
    page.focus(selector)
    page.keyboard.press("Enter")


def on_page(page, selector: str) -> str:
    try:
        return " ".join(page.inner_text(selector, timeout=2000).split())
    except PlaywrightError:
        return "(nothing)"


def take(address: str) -> None:
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 760})
        with step(page, "Handouts page, built", BUILDING):
            page.goto(address + "/")
            press(page, "text=Build all")
            page.wait_for_function(ALL_DRAWN, arg="img.thumb")
            page.screenshot(path=DOCS / "serve-handouts.png")
        with step(page, "New handout page, sample pasted", BUILDING):
            page.goto(address + "/new")
            paste(page, "#paste", {"text/plain": SAMPLE.read_text(encoding="utf-8")})
            page.wait_for_function(ALL_DRAWN, arg="img.page")
            page.set_viewport_size({"width": 1200, "height": 1000})
            page.screenshot(path=DOCS / "serve-new.png")
        with step(page, "Handout page of the sample", BUILDING):
            page.goto(address + "/handouts/" + SAMPLE.name)
            page.wait_for_function(ALL_DRAWN, arg="img.page")
            page.screenshot(path=DOCS / "serve-handout.png")
        take_send(page, address)


def take_send(page, address: str) -> None:
    with step(page, "Send page, recipients uploaded", ASKING, "#recipients-status"):
        page.goto(address + "/send")
        page.select_option("#article", "hand-hygiene.md")
        page.fill("#subject", "Your handout for {{ group }}, {{ name }}")
        page.fill("#body", "Dear {{ name }},\n\nHere is the handout from **{{ group }}**'s session. See you next week!")
        page.set_input_files("#recipients", files=[{"name": "people.csv", "mimeType": "text/csv",
                                                     "buffer": RECIPIENTS.encode("utf-8")}])
        page.wait_for_selector("#show-preview:enabled")
    with step(page, "Send page, message previewed", ASKING, "#recipients-status"):
        page.select_option("#preview-row", "4")
        press(page, "#show-preview")
        page.wait_for_function(PREVIEW_SHOWN)
        if page.is_hidden("#mail-preview"):
            raise Stuck(f"the preview failed: {on_page(page, '#recipients-status')!r}")
    with step(page, "Send page, dry run", BUILDING, "#run-status"):
        with page.expect_request("**/api/send/runs", timeout=ASKING * 1000):
            press(page, "#dry-run")
        page.wait_for_function(RUN_ENDED)
        if not page.inner_text("#run-status").startswith("Dry run:"):
            raise Stuck(f"the dry run failed: {on_page(page, '#run-status')!r}")
        page.fill("#test-to", "me@example.org")
        page.evaluate("document.activeElement.blur()")
        page.set_viewport_size({"width": 1200, "height": 1800})
        page.screenshot(path=DOCS / "serve-send.png", full_page=True)


if __name__ == "__main__":
    sys.exit(main())
