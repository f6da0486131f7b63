"""Render the README's page pictures, so they show what the code makes today.

- docs/<name>-page-1.png: the first page of each article in content/, default theme;
- docs/theme-<theme>.png: the first page of content/hand-hygiene.md in each built-in theme;
- docs/whole-page-paste.png and docs/saved-page.png: a whole web page pasted as text and a
  saved web page (both from tests/), as handout finds their articles.

Run from the repository root after changing a theme:

    python docs/make_pictures.py

Needs `pdftoppm` (Debian/Ubuntu: apt-get install poppler-utils).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from generator import BuildOptions, build
from generator.typeset.themes import builtin_templates, discover

DOCS = Path(__file__).resolve().parent
CONTENT = DOCS.parent / "content"
SHOWCASE = CONTENT / "hand-hygiene.md"
TESTS = DOCS.parent / "tests"
RESOLUTION = 70  # dots per inch: a page about 580 pixels wide, readable on GitHub


def first_page_picture(pdf: Path, picture: Path) -> None:
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(RESOLUTION), "-f", "1", "-l", "1", "-singlefile",
         str(pdf), str(picture.with_suffix(""))],
        check=True,
    )
    print(picture.relative_to(DOCS.parent))


def main() -> int:
    if not shutil.which("pdftoppm"):
        print("pdftoppm not found: install poppler-utils", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        jobs = [([CONTENT], None, "{}-page-1.png"),
                ([TESTS / "pasted" / "harbour-news.txt"], None, "whole-page-paste.png"),
                ([TESTS / "pages" / "impfung.html"], None, "saved-page.png")] + [
            ([SHOWCASE], theme.name, f"theme-{theme.name}.png")
            for theme in discover(DOCS.parent).values() if theme.folder.parent == builtin_templates()
        ]
        for paths, theme, name in jobs:
            output = Path(scratch) / (theme or "default")
            for result in build(paths, BuildOptions(output_dir=output, theme=theme, project_dir=DOCS.parent)):
                if not result.ok:
                    print(result.error.format_message(), file=sys.stderr)
                    return 1
                first_page_picture(result.output, DOCS / name.format(result.output.stem))
    return 0


if __name__ == "__main__":
    sys.exit(main())
