"""Large print to the ACB guidelines: every size read back from the PDF, footers included."""

from __future__ import annotations

from conftest import body_sentences, run, write
from pypdf import PdfReader

from generator.check.pdfscan import scan_pdf

ARTICLE = """\
---
title: Taking your blood pressure at home
subtitle: A guide for families
author: Dr. Ana Ruiz
date: 2024-03-05
source_url: https://example.org/blood-pressure
theme: large-print
---

## Before you start

Sit *quietly* for five minutes.[^rest] Use the [guide](https://example.org/guide).

| Time | Reading |
| --- | --- |
| Morning | 120/80 |

```python
print("hello")
```

::: tip Write it down
Keep a notebook.
:::

[^rest]: Rest helps the reading settle.
"""


def test_every_size_in_a_large_print_handout_is_at_least_18_pt(project):
    write(project / "content" / "bp.md", ARTICLE + "\n" + " ".join(body_sentences()[:12]) + "\n")
    result = run("build", "--check")
    assert result.exit_code == 0, result.output
    pages = scan_pdf(PdfReader(project / "output" / "bp.pdf"))
    assert len(pages) >= 2  # a running header and footer on the second page
    lines = [line for page in pages for line in page.lines if line.text.strip()]
    assert any("page 2 of" in line.text for line in lines)
    sizes = {round(line.smallest, 1) for line in lines}
    assert min(sizes) >= 18.0, sorted(sizes)
    assert "C230" not in result.output


def test_the_check_fails_on_a_large_print_handout_with_a_smaller_footer(project):
    write(project / "content" / "bp.md", ARTICLE)
    write(project / "small-footer.css", "@page { @bottom-center { font-size: 12pt } }\n")
    assert run("build", "--css", "small-footer.css").exit_code == 0
    result = run("check")
    assert result.exit_code == 1
    assert ("error: text printed at 12.0 pt, under the theme's 18 pt: 'Taking your blood… – page 1 of 1'"
            in result.output)
    assert "[C230]" in result.output


def test_other_themes_have_no_floor(project):
    write(project / "content" / "bp.md", ARTICLE.replace("theme: large-print", "theme: handout"))
    assert run("build").exit_code == 0
    assert "C230" not in run("check").output


def test_the_check_holds_a_handout_to_the_theme_it_was_built_with_on_the_command_line(project):
    write(project / "content" / "bp.md", ARTICLE.replace("theme: large-print\n", ""))
    write(project / "small-footer.css", "@page { @bottom-center { font-size: 12pt } }\n")
    assert run("build", "--theme", "large-print", "--css", "small-footer.css").exit_code == 0
    assert PdfReader(project / "output" / "bp.pdf").metadata["/handouttheme"] == "large-print"
    result = run("check")
    assert result.exit_code == 1 and "[C230]" in result.output
