"""The article-extraction benchmark's metric: 4-word shingles per page, normalised
per page, precision and recall averaged over pages, F1 of the averages."""

from __future__ import annotations

import gzip
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Score:
    f1: float
    precision: float
    recall: float
    pages: int


def ground_truth() -> dict[str, str]:
    """Each page's key and the article body a person marked."""
    data = json.loads((HERE / "ground-truth.json").read_text(encoding="utf-8"))
    return {key: page["articleBody"] for key, page in data.items()}


def shingles(text: str, n: int = 4) -> Counter:
    tokens = TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i:i + n])


def page_precision_recall(truth: str, kept: str) -> tuple[float | None, float | None]:
    expected, found = shingles(truth), shingles(kept)
    keys = expected.keys() | found.keys()
    tp = sum(min(expected[k], found[k]) for k in keys)
    fp = sum(max(0, found[k] - expected[k]) for k in keys)
    fn = sum(max(0, expected[k] - found[k]) for k in keys)
    if fp == fn == 0:
        return (1.0 if tp else None), (1.0 if tp else None)
    return (tp / (tp + fp) if tp + fp else None), (tp / (tp + fn) if tp + fn else None)


def score(kept: dict[str, str]) -> Score:
    """Score the text kept for each page (missing pages count as nothing kept)."""
    truth = ground_truth()
    rows = [page_precision_recall(truth[key], kept.get(key, "")) for key in truth]
    precision = statistics.mean(p for p, _ in rows if p is not None)
    recall = statistics.mean(r for _, r in rows if r is not None)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(f1, precision, recall, len(rows))


def kept_text(markdown: str) -> str:
    """The words a reader sees of an imported article's body: its Markdown rendered,
    without the front matter (title, byline) and without the comment of removals."""
    from lxml import html
    from markdown_it import MarkdownIt

    body = re.sub(r"\A---\n.*?\n---\n", "", markdown, count=1, flags=re.S)
    rendered = MarkdownIt("commonmark").enable("table").render(body)
    if not rendered.strip():
        return ""
    return html.fromstring(f"<div>{rendered}</div>").text_content()


def imported(kind: str, work: Path) -> tuple[dict[str, str], list[str]]:
    """{key: kept text} for every page of the set `handout import` took in its `kind`
    form ("paste" or "html"), copied into `work`; and the error line of each it refused."""
    from generator.errors import HandoutError
    from generator.read.importer import import_article

    kept, failures = {}, []
    for key in ground_truth():
        original = HERE / kind / (f"{key}.html.gz" if kind == "html" else f"{key}.txt")
        source = work / f"{key}.{'html' if kind == 'html' else 'txt'}"
        data = original.read_bytes()
        source.write_bytes(gzip.decompress(data) if kind == "html" else data)
        try:
            result = import_article(source, work / "content", overwrite=True)
        except HandoutError as exc:
            failures.append(exc.format_message())
            continue
        kept[key] = kept_text(result.output.read_text(encoding="utf-8"))
    return kept, failures
