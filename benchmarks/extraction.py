"""How much of the article `handout import` keeps from whole web pages, and how much else.

Run by hand from the repository root, in the environment handout is installed in:

    python benchmarks/extraction.py [--show 10]

For each of the 45 pages in tests/extraction/ it imports the whole-page paste
(.txt) and the saved page (.html) into a temporary content folder, reads the
Markdown body as a reader sees it, and scores it against the article a person
marked, with the public article-extraction benchmark's metric (4-word
shingles). It prints F1, precision and recall beside the published baselines.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEV_SET = REPO / "tests" / "extraction"
sys.path.insert(0, str(DEV_SET))

import scoring  # noqa: E402

BASELINES = [
    ("keep everything", "paste", 0.707, 0.548, 0.996),
    ("jusText 3.0 (each line a paragraph)", "paste", 0.771, 0.788, 0.755),
    ("trafilatura 2.3 (defaults)", "html", 0.952, 0.934, 0.971),
]
TARGETS = {"paste": "F1 >= 0.90, recall >= 0.97", "html": "F1 >= 0.96"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=0, help="List the N pages with the lowest F1.")
    args = parser.parse_args()
    print(f"{'system':<40} {'input':<6} {'F1':>6} {'prec.':>6} {'recall':>6}")
    for name, kind, f1, precision, recall in BASELINES:
        print(f"{name:<40} {kind:<6} {f1:>6.3f} {precision:>6.3f} {recall:>6.3f}")
    for kind in ("paste", "html"):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            kept, failures = scoring.imported(kind, Path(folder))
            seconds = time.perf_counter() - started
        result = scoring.score(kept)
        print(f"{'handout import':<40} {kind:<6} {result.f1:>6.3f} {result.precision:>6.3f} {result.recall:>6.3f}"
              f"   ({len(kept)} pages, {seconds:.1f} s; target {TARGETS[kind]})")
        for failure in failures:
            print(f"  failed: {failure}")
        if args.show:
            truth = scoring.ground_truth()
            rows = [(scoring.page_precision_recall(truth[key], kept.get(key, "")), key) for key in truth]
            worst = sorted(rows, key=lambda row: min(v if v is not None else 0 for v in row[0]))
            for (precision, recall), key in worst[: args.show]:
                print(f"  {key[:16]}  precision {precision or 0:.2f}  recall {recall or 0:.2f}")

if __name__ == "__main__":
    main()
