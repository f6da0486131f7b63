"""Render the README's page pictures: the first page of each handout in content/.

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

DOCS = Path(__file__).resolve().parent
RESOLUTION = 70  # dots per inch: a page about 580 pixels wide, readable on GitHub


def main() -> int:
    if not shutil.which("pdftoppm"):
        print("pdftoppm not found: install poppler-utils", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        results = build([DOCS.parent / "content"], BuildOptions(output_dir=Path(scratch)))
        for result in results:
            if not result.ok:
                print(result.error.format_message(), file=sys.stderr)
                return 1
            picture = DOCS / f"{result.output.stem}-page-1"
            subprocess.run(
                ["pdftoppm", "-png", "-r", str(RESOLUTION), "-f", "1", "-l", "1", "-singlefile",
                 str(result.output), str(picture)],
                check=True,
            )
            print(f"{picture.with_suffix('.png').relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
