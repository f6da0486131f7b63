"""Take the README's pictures of `handout serve`, so they show what the code makes today.

- docs/serve-handouts.png: the Handouts page over this repository's content/, built;
- docs/serve-new.png: the New handout page after pasting the sample article;
- docs/serve-handout.png: the Handout page of the sample, with its pages and check.
- docs/serve-send.png: the Send page after a dry run to three recipients, with a preview.

Run from the repository root after changing the web page:

    python docs/make_screenshots.py

Needs Debian's chromium and the test extra (Playwright): pip install -e '.[test]'.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path.insert(0, str(REPO / "tests"))

from browser import chromium, paste, served  # noqa: E402

SAMPLE = REPO / "content" / "000_22cf51892c953b2a.txt"
BUILD_MS = 300_000
PICTURES = ("serve-handouts.png", "serve-new.png", "serve-handout.png", "serve-send.png")
# The first pictures drawn (later pages load as they are scrolled to).
ALL_DRAWN = ("(selector) => [...document.querySelectorAll(selector)].length > 0 &&"
             " [...document.querySelectorAll(selector)].slice(0, 2).every(i => i.complete && i.naturalWidth)")
RECIPIENTS = ("name,email,group\nAna Ruiz,ana@example.org,Tuesday\nBo Lee,bo@example.org,Thursday\n"
              "Chloé Martin,chloe@example.org,Tuesday\n")
MAIL_SETTINGS = """[mail]
smtp_host = "smtp.example.org"
smtp_user = "clinic"
from = "Northside Clinic <news@example.org>"
"""


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(REPO / "content", Path(folder) / "content")
        (Path(folder) / "handout.toml").write_text(MAIL_SETTINGS, encoding="utf-8")
        take(Path(folder))
    for name in PICTURES:
        print(f"docs/{name}")
    return 0


def take(project: Path) -> None:
    with served(project) as address, chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 760})
        page.set_default_timeout(BUILD_MS)
        page.goto(address + "/")
        page.click("text=Build all")
        page.wait_for_function(ALL_DRAWN, arg="img.thumb")
        page.screenshot(path=DOCS / "serve-handouts.png")
        page.goto(address + "/new")
        paste(page, "#paste", {"text/plain": SAMPLE.read_text(encoding="utf-8")})
        page.wait_for_function(ALL_DRAWN, arg="img.page")
        page.set_viewport_size({"width": 1200, "height": 1000})
        page.screenshot(path=DOCS / "serve-new.png")
        page.goto(address + "/handouts/" + SAMPLE.name)
        page.wait_for_function(ALL_DRAWN, arg="img.page")
        page.screenshot(path=DOCS / "serve-handout.png")
        take_send(page, address)


def take_send(page, address: str) -> None:
    page.goto(address + "/send")
    page.select_option("#article", "hand-hygiene.md")
    page.fill("#subject", "Your handout for {{ group }}, {{ name }}")
    page.fill("#body", "Dear {{ name }},\n\nHere is the handout from **{{ group }}**'s session. See you next week!")
    page.set_input_files("#recipients", files=[{"name": "people.csv", "mimeType": "text/csv",
                                                 "buffer": RECIPIENTS.encode("utf-8")}])
    page.wait_for_selector("#show-preview:enabled")
    page.select_option("#preview-row", "4")
    page.click("#show-preview")
    page.wait_for_selector("#mail-preview", state="visible")
    page.click("#dry-run")
    page.wait_for_selector("#run-status:has-text('Dry run:')")
    page.set_viewport_size({"width": 1200, "height": 1700})
    page.screenshot(path=DOCS / "serve-send.png", full_page=True)


if __name__ == "__main__":
    sys.exit(main())
