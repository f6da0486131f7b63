"""The command line: exit codes, output lines, and `handout import`."""

from __future__ import annotations

import shutil
import subprocess
import sys

from conftest import REPO, SAMPLE, SAMPLE_SLUG, page_texts, run, words, write

from generator.diagnostics import CODES


def test_exit_codes(project):
    write(project / "content" / "a.md", "Text.\n")
    assert run("build").exit_code == 0
    write(project / "content" / "b.md", "---\ntitle: [\n---\nText.\n")
    assert run("build").exit_code == 1
    assert run("build", "--paper", "a3").exit_code == 2
    assert run("build", "--frobnicate").exit_code == 2


def test_usage_errors_are_one_line_and_exit_2(project):
    write(project / "content" / "a.md", "Text.\n")
    for args, message in [
        (["build", "--theme", "nosuch"],
         "error: unknown theme 'nosuch' (known themes: handout, large-print, tufte, two-column)"),
        (["build", "missing.md"], "error: no such file or folder: missing.md"),
        (["build", "--quiet", "--verbose"], "--quiet and --verbose cannot be used together"),
    ]:
        result = run(*args)
        assert result.exit_code == 2, args
        assert message in result.stderr
        assert "Traceback" not in result.output
    assert not (project / "output").exists()


def test_folder_without_articles_is_a_usage_error(project):
    result = run("build")
    assert result.exit_code == 2
    assert "no articles (.md, .markdown, .txt, .html, .htm) in content" in result.stderr


def test_quiet_prints_errors_and_summary_only_and_verbose_adds_details(project):
    shutil.copy(SAMPLE, project / "content")
    quiet = run("build", "--quiet")
    assert quiet.stderr == ""
    assert quiet.stdout.splitlines() == ["1 of 1 handouts built into output/ (0 failed, 2 warnings)"]
    verbose = run("build", "--verbose", "--force")
    assert "(2 pages, A4, " in verbose.stdout and "[theme handout, " in verbose.stdout


def test_output_folder_option(project):
    write(project / "content" / "a.md", "Text.\n")
    result = run("build", "-o", "handouts/today")
    assert result.exit_code == 0
    assert (project / "handouts" / "today" / "a.pdf").is_file()
    assert "content/a.md -> handouts/today/a.pdf (1 page, " in result.stdout


def test_import_writes_markdown_that_builds_the_same_handout(project):
    shutil.copy(SAMPLE, project / "content")
    imported = run("import", f"content/{SAMPLE.name}", "-o", "edit")
    assert imported.exit_code == 0
    assert f"content/{SAMPLE.name} -> edit/{SAMPLE_SLUG}.md" in imported.stdout
    assert imported.stderr.count("warning: removed form (2 lines, 15 words)") == 1
    markdown = (project / "edit" / f"{SAMPLE_SLUG}.md").read_text()
    assert markdown.startswith("---\n# Imported from")
    assert "title: 'The Therapeutic Likely of Ketamine: An extensive Overview'" in markdown
    assert "## Historic Qualifications and Clinical Use\n" in markdown

    assert run("build", "content", "-o", "from-text").exit_code == 0
    assert run("build", "edit", "-o", "from-markdown").exit_code == 0
    from_text = page_texts(project / "from-text" / f"{SAMPLE_SLUG}.pdf")
    from_markdown = page_texts(project / "from-markdown" / f"{SAMPLE_SLUG}.pdf")
    assert words(" ".join(from_text)) == words(" ".join(from_markdown))


def test_import_refuses_to_overwrite_without_force(project):
    shutil.copy(SAMPLE, project / "content")
    assert run("import", f"content/{SAMPLE.name}").exit_code == 0
    again = run("import", f"content/{SAMPLE.name}")
    assert again.exit_code == 1
    assert f"content/{SAMPLE_SLUG}.md exists; pass --force to overwrite it" in again.stderr
    assert run("import", f"content/{SAMPLE.name}", "--force").exit_code == 0


def test_import_takes_only_web_pages(project):
    write(project / "content" / "a.md", "Text.\n")
    result = run("import", "content/a.md")
    assert result.exit_code == 2
    assert "content/a.md: error: import takes a pasted or saved web page (.txt, .html, .htm)" in result.stderr


def test_readme_documents_every_code():
    readme = (REPO / "README.md").read_text()
    for code, (severity, meaning) in CODES.items():
        assert f"| {code} | {severity} | {meaning} |" in readme


def test_the_command_starts_without_the_saved_page_reader():
    """trafilatura takes a fifth of a second to import, WeasyPrint and NumPy more, Pillow and the
    network modules some hundredths: a no-op rebuild of Markdown needs none of them."""
    heavy = ("trafilatura", "weasyprint", "numpy", "PIL", "http.client", "ssl", "generator.pool")
    probe = f"import sys, generator.cli.main; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                            check=True).stdout.strip()
    assert loaded == "[]"


def test_a_readmes_screen_formatting_is_told_in_one_line_and_each_with_verbose(project):
    write(project / "content" / "readme.md", '<p align="center">Fast.</p>\n\n<p align="center">Small.</p>\n\n'
          '<div align="right"><a href="https://x.example" target="_blank">Site</a></div>\n')
    quiet, verbose = run("build"), run("build", "--force", "--verbose")
    assert quiet.exit_code == verbose.exit_code == 0
    told = [line for line in quiet.stderr.splitlines() if "[W109]" in line]
    assert told == ["content/readme.md: warning: left out screen formatting in 4 places (align attribute of <p> 2,"
                    " align attribute of <div>, target attribute of <a>; the theme lays out the page); --verbose"
                    " lists each [W109]"]
    assert verbose.stderr.count("[W109]") == 4
    assert run("build").stderr.count("[W109]") == 1  # a rebuild with nothing to do tells it alike
