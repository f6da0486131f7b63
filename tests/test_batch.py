"""Batch builds: parallel, incremental, reproducible."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SAMPLE, page_texts, run, write
from pypdf import PdfReader

from generator.build import (
    BuildOptions,
    Job,
    Setup,
    start_worker,
    typeset_job,
)
from generator.config import Config
from generator.read.load import load_article
from generator.sandbox import read_policy
from generator.typeset import pdf

CORPUS = Path(__file__).parent / "corpus"
# One of each kind of sign: with the corpus's emoji article, two emoji articles in a worker.
SIGNS = Path(__file__).parent / "signs" / "symbol-classes.md"


def corpus_project(project: Path) -> list[str]:
    shutil.rmtree(project / "content")
    shutil.copytree(CORPUS, project / "content")
    shutil.copy(SAMPLE, project / "content")
    shutil.copy(SIGNS, project / "content")
    return sorted(p.stem for p in (project / "content").iterdir() if p.suffix in (".md", ".txt"))


def pdf_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.pdf"))}


def test_parallel_and_serial_builds_give_the_same_bytes(project):
    names = corpus_project(project)
    serial = run("build", "--jobs", "1", "-o", "serial")
    parallel = run("build", "--jobs", "2", "-o", "parallel")
    assert serial.exit_code == parallel.exit_code == 0
    assert sorted(p.removesuffix(".pdf") for p in pdf_bytes(project / "parallel")) == names
    assert pdf_bytes(project / "serial") == pdf_bytes(project / "parallel")
    # Each article is reported once, whichever worker built it.
    assert sorted(line.split(" -> ")[0] for line in parallel.stdout.splitlines() if " -> " in line) == sorted(
        f"content/{p.name}" for p in (project / "content").iterdir() if p.suffix in (".md", ".txt"))


def test_an_articles_bytes_do_not_depend_on_what_its_worker_typeset_before(project, monkeypatch):
    # Pango takes emoji from fontconfig's "emoji" family, not the theme's font list: a worker
    # drew the second article's emoji with the font it had loaded for the first.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    shutil.rmtree(project / "content")
    (project / "content").mkdir()
    for source in (SIGNS, CORPUS / "emoji-symbols.md"):
        shutil.copy(source, project / "content")
    assert run("build", "--jobs", "1", "-o", "together").exit_code == 0
    for name in ("symbol-classes", "emoji-symbols"):
        assert run("build", f"content/{name}.md", "-o", f"alone-{name}").exit_code == 0
        alone = (project / f"alone-{name}" / f"{name}.pdf").read_bytes()
        assert (project / "together" / f"{name}.pdf").read_bytes() == alone, name


def test_same_inputs_same_bytes_with_dates_from_source_date_epoch(project, monkeypatch):
    write(project / "content" / "a.md", "Text.\n")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run("build", "-o", "one").exit_code == 0
    (project / "content" / "a.md").touch()  # a new file time changes nothing
    assert run("build", "-o", "two").exit_code == 0
    one, two = (project / "one" / "a.pdf").read_bytes(), (project / "two" / "a.pdf").read_bytes()
    assert one == two
    reader = PdfReader(project / "one" / "a.pdf")
    assert reader.metadata.creation_date.isoformat().startswith("2023-11-14T22:13:20")


def test_file_identifier_is_a_hash_of_the_file(project):
    write(project / "content" / "a.md", "Text.\n")
    write(project / "content" / "b.md", "Other text.\n")
    assert run("build").exit_code == 0
    identifiers = {}
    for name in ("a", "b"):
        data = (project / "output" / f"{name}.pdf").read_bytes()
        assert len(PdfReader(project / "output" / f"{name}.pdf").trailer["/ID"]) == 2
        found = re.search(rb"/ID \[<([0-9a-f]{32})> <\1>\]", data)
        without = data[:found.start()] + data[found.end():]
        assert found[1].decode() == hashlib.sha256(without).hexdigest()[:32]
        identifiers[name] = found[1]
    assert identifiers["a"] != identifiers["b"]


def test_articles_in_one_script_with_different_letters_share_a_worker(project):
    # Each brings a font cut to its own letters; in one worker, one must not be drawn
    # with the other's font file (that printed empty boxes).
    texts = {"zh-1": "你好，世界。", "zh-2": "请经常洗手。", "ar-1": "مرحبا بكم في العيادة.",
             "ar-2": "اغسل يديك بالماء والصابون.", "he": "שלום עולם."}
    for name, text in texts.items():
        write(project / "content" / f"{name}.md", f"Hello: {text}\n")
    built = run("build", "--jobs", "1", "--check")
    assert built.exit_code == 0, built.stdout
    assert "5 passed, 0 failed (0 errors" in built.stdout


def test_one_parse_of_the_theme_stylesheet_serves_the_articles_of_a_worker(project):
    # What a worker process does, here in this one: set up once, then typeset each job.
    config = Config()
    typesetter = start_worker(Setup(BuildOptions(config=config), config, read_policy(project, []), project, {}))
    pdf.theme_stylesheet.cache_clear()
    for name in ("a", "b", "c"):
        source = write(project / "content" / f"{name}.md", f"Article {name}: Grüße, ελληνικά, русский.\n")
        assert typeset_job(typesetter, Job(load_article(source), project / "output" / f"{name}.pdf")).result.ok
    assert pdf.theme_stylesheet.cache_info().misses == 1


def test_front_matter_date_gives_the_pdf_dates(project):
    write(project / "content" / "a.md", "---\ndate: 2024-03-05\n---\nText.\n")
    assert run("build").exit_code == 0
    assert PdfReader(project / "output" / "a.pdf").metadata.creation_date.isoformat().startswith("2024-03-05")


def test_workers_have_the_environment_of_their_own_build(project):
    # The fork server keeps the environment it started with: a build without
    # SOURCE_DATE_EPOCH, after one with it, dated its PDF 1970 all the same.
    write(project / "content" / "a.md", "---\ndate: 2024-03-05\n---\nText.\n")
    script = write(project / "two_builds.py", """
        import os
        from pathlib import Path
        from pypdf import PdfReader
        from generator import BuildOptions, build

        if __name__ == "__main__":
            for epoch in ("0", None):
                if epoch:
                    os.environ["SOURCE_DATE_EPOCH"] = epoch
                else:
                    del os.environ["SOURCE_DATE_EPOCH"]
                build([Path("content")], BuildOptions(force=True))
                print(PdfReader("output/a.pdf").metadata["/CreationDate"])
    """)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["D:19700101000000Z", "D:20240305000000Z"]


def test_a_build_leaves_nothing_in_the_temporary_folder(project, tmp_path):
    # Each worker's WeasyPrint copied the fonts into a folder of /tmp that nothing
    # removed when the worker ended: days of builds filled the disk.
    for name in "abc":
        write(project / "content" / f"{name}.md", f"# {name}\n\nText with a theme font.\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    done = subprocess.run([sys.executable, "-m", "generator", "build", "--jobs", "2"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert len(list((project / "output").glob("*.pdf"))) == 3
    assert sorted(p.name for p in scratch.iterdir()) == []


def test_rebuild_skips_unchanged_handouts_and_rebuilds_what_changed(project):
    write(project / "content" / "a.md", "First.\n\n![chart](chart.png)\n")
    write(project / "content" / "b.md", "Second.\n")
    shutil.copy(CORPUS / "images" / "weekly-visits.png", project / "content" / "chart.png")
    assert run("build").exit_code == 0
    first = {p.name: p.stat().st_mtime_ns for p in (project / "output").glob("*.pdf")}

    again = run("build")
    assert "2 of 2 handouts built into output/ (2 unchanged, 0 failed, 0 warnings)" in again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in (project / "output").glob("*.pdf")} == first

    (project / "content" / "chart.png").write_bytes((CORPUS / "images" / "weekly-visits.png").read_bytes() + b"\0")
    image_changed = run("build")
    assert "content/a.md -> output/a.pdf" in image_changed.stdout
    assert "content/b.md -> output/b.pdf" not in image_changed.stdout
    assert "(1 unchanged, 0 failed" in image_changed.stdout

    write(project / "templates" / "handout" / "style.css", "body { color: #333; }\n")
    assert "(1 unchanged" not in run("build").stdout  # a template change rebuilds every handout
    assert "unchanged" not in run("build", "--paper", "letter").stdout  # and so do other options
    assert "unchanged" not in run("build", "--paper", "letter", "--force").stdout


def test_unchanged_handouts_still_say_what_was_cleaned(project):
    shutil.copy(SAMPLE, project / "content")
    run("build")
    again = run("build")
    assert "removed form (2 lines, 15 words): 'Leave a Reply" in again.stderr
    assert "(1 unchanged, 0 failed, 2 warnings)" in again.stdout


def test_stale_handouts_are_reported_and_pruned(project):
    write(project / "content" / "a.md", "Stays.\n")
    write(project / "content" / "gone.md", "Goes.\n")
    assert run("build").exit_code == 0
    (project / "content" / "gone.md").unlink()
    stale = run("build")
    assert "output/gone.pdf: its article content/gone.md is gone; left in place (--prune deletes it)" in stale.stderr
    assert (project / "output" / "gone.pdf").exists()
    pruned = run("build", "--prune")
    assert "output/gone.pdf: its article content/gone.md is gone; deleted" in pruned.stderr
    assert not (project / "output" / "gone.pdf").exists()
    assert "gone" not in run("build").stderr


def test_prune_from_another_folder_deletes_only_handouts_whose_article_is_gone(project, tmp_path_factory,
                                                                             monkeypatch):
    write(project / "content" / "a.md", "Stays.\n")
    write(project / "content" / "b.md", "Stays too.\n")
    assert run("build").exit_code == 0
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    one_article = ("build", str(project / "content" / "a.md"), "-o", str(project / "output"), "--prune")
    kept = run(*one_article)
    assert kept.exit_code == 0 and "is gone" not in kept.stderr
    assert "Stays too." in page_texts(project / "output" / "b.pdf")[0]
    (project / "content" / "b.md").unlink()
    pruned = run(*one_article)
    assert f"{project}/output/b.pdf: its article {project}/content/b.md is gone; deleted" in pruned.stderr
    assert not (project / "output" / "b.pdf").exists()


def test_a_failed_worker_article_does_not_stop_the_batch(project):
    write(project / "content" / "a.md", "Fine.\n")
    write(project / "content" / "b.md", "Also fine.\n")
    write(project / "content" / "c.md", "Missing image.\n\n![x](nothere.png)\n")
    result = run("build", "--jobs", "2")
    assert result.exit_code == 1
    assert "content/c.md:3: error: image not found: nothere.png" in result.stderr
    assert sorted(p.name for p in (project / "output").glob("*.pdf")) == ["a.pdf", "b.pdf"]


def test_a_change_to_handouts_own_code_rebuilds_every_handout(tmp_path, monkeypatch):
    from generator.output import manifest

    (tmp_path / "stage.py").write_text("LIMIT = 1\n")
    monkeypatch.setattr(manifest, "CODE", tmp_path)
    before = manifest.build_digest([], [], "options")
    assert manifest.build_digest([], [], "options") == before
    (tmp_path / "stage.py").write_text("LIMIT = 2\n")
    assert manifest.build_digest([], [], "options") != before


def start_build(project: Path, *args: str, name: str = "build") -> subprocess.Popen:
    """`handout build ARGS` in its own process; its output goes to NAME.out and NAME.err."""
    return subprocess.Popen([sys.executable, "-m", "generator", "build", *args], cwd=project,
                            stdout=(project / f"{name}.out").open("w"), stderr=(project / f"{name}.err").open("w"))


def wait_for(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.02)


def test_concurrent_builds_of_one_project_all_succeed(project):
    for name in ("a", "b", "c"):
        write(project / "content" / f"{name}.md", f"Article {name} says: take 5 mg.\n")
    builds = [start_build(project, "-j", "1", name=f"build{n}") for n in range(8)]
    try:
        codes = [build.wait(timeout=180) for build in builds]
    finally:
        for build in builds:
            build.kill()
    errors = [(project / f"build{n}.err").read_text() for n in range(8)]
    assert codes == [0] * 8, errors
    assert not any("Traceback" in text for text in errors)
    for name in ("a", "b", "c"):
        assert f"Article {name} says: take 5 mg." in page_texts(project / "output" / f"{name}.pdf")[0]
    assert sorted(json.loads((project / "output" / ".handout-manifest.json").read_text())["handouts"]) == [
        "a.pdf", "b.pdf", "c.pdf"]
    manifest_true_to_disk(project / "output")
    assert not list((project / "output").glob("*.tmp"))


def test_a_second_build_of_a_project_waits_for_the_first(project):
    write(project / "content" / "a.md", "Text.\n")
    (project / "output").mkdir()
    folder = os.open(project / "output", os.O_RDONLY)
    fcntl.flock(folder, fcntl.LOCK_EX)  # as a running build holds it
    try:
        second = start_build(project, "-j", "1")
        try:
            wait_for(lambda: "another build of this project is running; waiting"
                     in (project / "build.err").read_text())
            assert second.poll() is None and not (project / "output" / "a.pdf").exists()
        finally:
            os.close(folder)  # the first build ends
        assert second.wait(timeout=120) == 0
    finally:
        second.kill()
    assert "Text." in page_texts(project / "output" / "a.pdf")[0]


def manifest_true_to_disk(output: Path) -> None:
    """Every file the manifest vouches for holds the bytes it records."""
    for entry in json.loads((output / ".handout-manifest.json").read_text())["handouts"].values():
        for name, (_, _, sha256) in entry["files"].items():
            assert hashlib.sha256((output / name).read_bytes()).hexdigest() == sha256, name


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL])
def test_a_build_stopped_midway_leaves_a_manifest_true_to_disk(project, monkeypatch, stop):
    # Fixed dates: dose0's PDF has one size with 5 mg and 6 mg, so only its content tells them apart.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    names = [f"dose{n}" for n in range(12)]

    def write_articles(dose: str) -> None:
        for name in names:
            # Every digit in both versions: the PDFs embed the same glyphs and have one size.
            write(project / "content" / f"{name}.md", f"# {name}\n\nDigits: 0123456789.\n\n"
                  + f"Take {dose} of the medicine with water, twice a day.\n\n" * 30)

    write_articles("5 mg")
    assert run("build", "-j", "1").exit_code == 0
    written = {name: (project / "output" / f"{name}.pdf").stat().st_mtime_ns for name in names}
    write_articles("6 mg")
    changed = start_build(project, "-j", "1")
    try:
        wait_for(lambda: (project / "output" / "dose0.pdf").stat().st_mtime_ns != written["dose0"])
        changed.send_signal(stop)
        changed.wait(timeout=60)
    finally:
        changed.kill()
    assert any((project / "output" / f"{name}.pdf").stat().st_mtime_ns == written[name] for name in names)
    # No torn PDF: every file there reads whole, old or new, and no temporary is left.
    assert all(len(PdfReader(pdf).pages) >= 1 for pdf in (project / "output").glob("*.pdf"))
    assert not list((project / "output").glob(".*.tmp"))
    # A PDF written just before the stop may not be recorded yet: its entry no longer
    # matches the file, which is built again.
    write_articles("5 mg")
    assert run("build", "-j", "1").exit_code == 0
    manifest_true_to_disk(project / "output")
    for name in names:
        text = page_texts(project / "output" / f"{name}.pdf")[0]
        assert "Take 5 mg" in text and "Take 6 mg" not in text, name
    assert run("check").exit_code == 0


def test_an_image_named_by_reference_is_an_input_of_its_handout(project):
    # Markdown's reference-style image: no pattern over the text finds its file, but
    # typesetting reads it, and the build records what typesetting read.
    write(project / "content" / "a.md", "Visits.\n\n![Chart][c]\n\n[c]: images/chart.png\n")
    (project / "content" / "images").mkdir()
    shutil.copy(CORPUS / "images" / "weekly-visits.png", project / "content" / "images" / "chart.png")
    assert run("build").exit_code == 0
    assert "1 unchanged" in run("build").stdout
    (project / "content" / "images" / "chart.png").write_bytes(
        (CORPUS / "images" / "weekly-visits.png").read_bytes() + b"\0")
    rebuilt = run("build")
    assert "content/a.md -> output/a.pdf" in rebuilt.stdout and "unchanged" not in rebuilt.stdout
    entry = json.loads((project / "output" / ".handout-manifest.json").read_text())["handouts"]["a.pdf"]
    assert list(entry["inputs"]) == [str((project / "content" / "images" / "chart.png").resolve())]


INTERRUPTED_WRITE = """
import os, signal, sys, tempfile
from pathlib import Path
from generator.output.files import write_atomically
made_file = tempfile.mkstemp

def interrupted(*args, **kwargs):
    # Ctrl-C right after the temporary file is made, before mkstemp has returned its name.
    made = made_file(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGINT)
    return made

tempfile.mkstemp = interrupted
target = Path(sys.argv[1]) / "a.pdf"
try:
    write_atomically(target, b"whole")
except KeyboardInterrupt:
    print("interrupted after the write")
print(sorted(path.name for path in target.parent.iterdir()), target.read_bytes())
"""


def test_ctrl_c_during_a_write_leaves_the_file_whole_and_no_temporary_file(tmp_path):
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_WRITE, str(tmp_path)], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.splitlines() == ["interrupted after the write", "['a.pdf'] b'whole'"], done.stderr
