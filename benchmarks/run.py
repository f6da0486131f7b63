"""Speed and memory of batch builds, measured against md2pdf on the same machine.

Run by hand from the repository root, in the environment handout is installed in
(with the bench extra: pip install '.[bench]'):

    python benchmarks/run.py [--corpus built|readmes] [--articles 28] [--repeat 3] [--skip-md2pdf]

It makes a corpus of real-sized articles from the project's own articles and test
corpus (--corpus built), or takes real documentation articles: the READMEs of the
installed packages that publish Markdown ones (--corpus readmes; their remote
images left out, as neither tool may reach the network here). It installs md2pdf
into its own environment (benchmarks/.md2pdf-venv), and
prints the times (the fastest of --repeat runs), the peak memory of all processes
together, and the ratios against the targets of issue 7. It also times md2pdf's
own conversion in a plain one-process loop, the yardstick the issue's 3x target
is built on. Nothing here is a test: figures vary by machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import venv
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
WORK = Path(__file__).resolve().parent / ".work"
MD2PDF_VENV = Path(__file__).resolve().parent / ".md2pdf-venv"
SOURCES = sorted((REPO / "tests" / "corpus").glob("*.md")) + [REPO / "content" / "hand-hygiene.md"]
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
CORES = os.cpu_count() or 1


def bodies() -> list[str]:
    return [FRONT_MATTER.sub("", path.read_text(encoding="utf-8")) for path in SOURCES]


def article(title: str, parts: int, offset: int) -> str:
    """A real-sized article: sections taken in turn from the project's own articles."""
    texts = bodies()
    sections = []
    for n in range(parts):
        text = texts[(offset + n) % len(texts)]
        # Footnote labels must stay unique within one article.
        text = re.sub(r"\[\^(\w+)\]", rf"[^\g<1>{n}]", text)
        sections.append(f"# Part {n + 1}\n\n{text}\n")
    return f"---\ntitle: {title}\nauthor: Benchmark\ndate: 2025-01-01\n---\n\n" + "\n".join(sections)


def make_corpus(folder: Path, count: int) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "content").mkdir(parents=True)
    shutil.copytree(REPO / "tests" / "corpus" / "images", folder / "content" / "images")
    for n in range(count):
        (folder / "content" / f"article-{n:02d}.md").write_text(article(f"Article {n + 1}", 5, n))


def make_readme_corpus(folder: Path, count: int) -> None:
    """The `count` longest Markdown READMEs of the installed packages, as articles."""
    import importlib.metadata

    if folder.exists():
        shutil.rmtree(folder)
    (folder / "content").mkdir(parents=True)
    readmes = {}
    for dist in importlib.metadata.distributions():
        metadata = dist.metadata
        text = metadata.get_payload() or ""  # type: ignore[attr-defined]
        # md2pdf reads Markdown as a Jinja template: it stops at a README with {{ or {% in it.
        if ("markdown" in (metadata.get("Description-Content-Type") or "") and len(text) > 2500
                and not re.search(r"\{[{%]", text)):
            readmes[metadata["Name"].lower()] = text
    for name in sorted(readmes, key=lambda n: -len(readmes[n]))[:count]:
        text = re.sub(r"!\[[^\]]*\]\([^)]*\)|<img[^>]*>", "", readmes[name], flags=re.I)
        (folder / "content" / f"{name}.md").write_text(f"---\ntitle: {name}\n---\n\n{text}", encoding="utf-8")


def run(command: list[str], cwd: Path, env: dict | None = None, memory: bool = False) -> tuple[float, float]:
    """(seconds, peak megabytes of the process and all its children together, or 0 without `memory`).

    Sampling memory costs CPU that a parallel build would use: timed runs of those go without.
    """
    started = time.perf_counter()
    process = psutil.Popen(command, cwd=cwd, env={**os.environ, **(env or {})},
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        while not stop.is_set():
            try:
                tree = [process] + process.children(recursive=True)
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    if memory:
        sampler.start()
    _, errors = process.communicate()
    stop.set()
    if memory:
        sampler.join()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{errors.decode()[-2000:]}")
    return seconds, peak / 1024 / 1024


def best_of(repeat: int, command: list[str], cwd: Path, env: dict | None = None) -> float:
    """The fewest seconds of `repeat` runs: the time least disturbed by the machine."""
    return min(run(command, cwd, env)[0] for _ in range(repeat))


def pages(folder: Path, pattern: str = "*.pdf") -> int:
    from pypdf import PdfReader
    return sum(len(PdfReader(pdf).pages) for pdf in folder.glob(pattern))


# md2pdf's own conversion in a plain loop in one process: what issue 7 takes as the
# yardstick ("a plain single-process loop over WeasyPrint is already about 1.8x").
PLAIN_LOOP = """
import sys
from pathlib import Path
from md2pdf.core import md2pdf
for name in sys.argv[1:]:
    md2pdf(Path(name).with_suffix(".loop.pdf"), md=Path(name), base_url=Path.cwd())
"""


def md2pdf_command() -> Path:
    executable = MD2PDF_VENV / "bin" / "md2pdf"
    if not executable.exists():
        print("installing md2pdf into", MD2PDF_VENV)
        venv.create(MD2PDF_VENV, with_pip=True)
        subprocess.run([MD2PDF_VENV / "bin" / "pip", "install", "--quiet", "md2pdf[cli]"], check=True)
    return executable


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=["built", "readmes"], default="built")
    parser.add_argument("--articles", type=int, default=28)
    parser.add_argument("--skip-md2pdf", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each corpus build; the fastest counts")
    args = parser.parse_args()
    handout = [sys.executable, "-m", "generator", "build", "-q"]
    env = {"SOURCE_DATE_EPOCH": "1735689600"}
    figures: dict[str, float] = {}

    corpus = WORK / "corpus"
    if args.corpus == "readmes":
        make_readme_corpus(corpus, args.articles)
    else:
        make_corpus(corpus, args.articles)
    first = sorted((corpus / "content").glob("*.md"))[0]
    run(handout + ["--jobs", "1", str(first.relative_to(corpus))], corpus, env)  # fonts made once, before timing

    full = handout + ["--force", "--jobs", str(CORES)]
    figures["full, --jobs 1"] = best_of(args.repeat, handout + ["--force", "--jobs", "1"], corpus, env)
    figures[f"full, --jobs {CORES}"] = best_of(args.repeat, full, corpus, env)
    _, peak = run(full, corpus, env, memory=True)
    figures["no-op rebuild"] = best_of(args.repeat, handout, corpus, env)
    total_pages = pages(corpus / "output")
    md2pdf_pages = 0

    if not args.skip_md2pdf:
        md2pdf = md2pdf_command()
        mirror = WORK / "md2pdf"
        if mirror.exists():
            shutil.rmtree(mirror)
        shutil.copytree(corpus / "content", mirror)
        names = [path.name for path in sorted(mirror.glob("*.md"))]
        figures[f"md2pdf -W {CORES}"] = best_of(
            args.repeat, [str(md2pdf), *(a for n in names for a in ("-i", n)), "-W", str(CORES)], mirror)
        figures["md2pdf's conversion, a loop"] = best_of(
            args.repeat, [str(md2pdf.parent / "python"), "-c", PLAIN_LOOP, *names], mirror)
        md2pdf_pages = pages(mirror, "*.loop.pdf")

    for size, parts in (("30-page article", 5), ("300-page article", 50)):
        folder = WORK / size.split()[0]
        if folder.exists():
            shutil.rmtree(folder)
        (folder / "content").mkdir(parents=True)
        shutil.copytree(REPO / "tests" / "corpus" / "images", folder / "content" / "images")
        (folder / "content" / "long.md").write_text(article(size, parts * 6, 0))
        figures[size], memory = run(handout + ["--jobs", "1"], folder, env, memory=True)
        figures[f"{size} pages"] = pages(folder / "output")
        figures[f"{size} peak MB"] = memory

    print(f"\nCorpus ({args.corpus}): {len(list((corpus / 'content').glob('*.md')))} articles,"
          f" {total_pages} pages; {CORES} cores\n")
    for name, value in figures.items():
        unit = "" if "pages" in name else (" MB" if "MB" in name else " s")
        print(f"  {name:<28} {value:8.2f}{unit}")
    print(f"  {'peak memory, full build':<28} {peak:8.0f} MB (all processes)")
    print("\nTargets:")
    parallel = figures[f"full, --jobs {CORES}"]
    checks = [
        (f"--jobs {CORES} vs --jobs 1", figures["full, --jobs 1"] / parallel, 1.7),
        ("full build vs no-op rebuild", parallel / figures["no-op rebuild"], 30),
        ("300 pages vs 30 pages (at most)", figures["300-page article"] / figures["30-page article"], 11),
    ]
    if not args.skip_md2pdf:
        checks.insert(0, ("md2pdf vs handout", figures[f"md2pdf -W {CORES}"] / parallel, 3))
        loop = figures["md2pdf's conversion, a loop"]
        print(f"  {'md2pdf -W ' + str(CORES) + ' vs a plain loop':<34} {figures[f'md2pdf -W {CORES}'] / loop:6.2f}x"
              "   (the issue assumes about 1.8x)")
        print(f"  {'a plain loop vs handout':<34} {loop / parallel:6.2f}x")
        # md2pdf's workers are threads, which Python runs one at a time: its -W adds no core.
        # What one core costs a page says how the ratio grows with a machine's cores.
        alone = figures["full, --jobs 1"] / total_pages * 1000
        theirs = loop / md2pdf_pages * 1000
        print(f"  {'one core, a page: handout, md2pdf':<34} {alone:6.1f} ms, {theirs:.1f} ms"
              f"   (handout's pages are {total_pages}, md2pdf's {md2pdf_pages})")
    for name, ratio, target in checks:
        met = ratio <= target if "at most" in name else ratio >= target
        print(f"  {name:<34} {ratio:6.2f}x   target {target}x   {'met' if met else 'NOT met'}")
    print(f"  {'peak memory (at most 500 MB)':<34} {peak:6.0f} MB  {'met' if peak <= 500 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
