"""Markdown to HTML: the syntax the article format promises."""

from __future__ import annotations

import html as html_module
import re
import subprocess
import sys
from pathlib import Path

import pytest

from generator.article import Article, Metadata
from generator.errors import ArticleError
from generator.markup.html import code_breaks, to_html
from generator.sandbox import ReadPolicy


def article(body: str, source: Path = Path("a.md"), first_line: int = 1) -> Article:
    return Article(source=source, slug="a", meta=Metadata(title="T"), body=body, body_first_line=first_line)


def test_commonmark_with_tables_footnotes_definition_lists_and_task_lists():
    html = to_html(article(
        "Text with a note.[^1] and ~~gone~~\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "Term\n: Definition\n\n"
        "- [x] done\n- [ ] to do\n\n"
        "[^1]: The note.\n"
    )).html
    assert '<table class="fitted">' in html and "<td>1</td>" in html
    assert '<span class="footnote">The note.</span>' in html
    assert "<dt>Term</dt>" in html and "<dd>Definition</dd>" in html
    assert 'class="task-list-item' in html and 'checked="checked"' in html
    assert "<s>gone</s>" in html


def test_body_headings_start_at_h2_and_carry_anchors():
    body = to_html(article("# One\n\n## Two\n\ntext\n"))
    assert [(h.level, h.text) for h in body.headings] == [(2, "One"), (3, "Two")]
    assert '<h2 id="one">One</h2>' in body.html


def test_headings_already_below_h1_stay_as_they_are():
    assert [h.level for h in to_html(article("## Two\n\n### Three\n")).headings] == [2, 3]


def test_missing_image_names_the_source_line(tmp_path):
    (tmp_path / "here.png").write_bytes(b"not really a png")
    body = "Intro.\n\nSee ![a chart](here.png) and\nthen ![another](img/gone%20away.png) too.\n"
    with pytest.raises(ArticleError) as caught:
        to_html(article(body, tmp_path / "a.md", first_line=5))
    assert caught.value.line == 8
    assert caught.value.problem == "image not found: img/gone away.png"


def test_code_tokens_get_a_span_only_where_the_style_prints_them_differently():
    html = to_html(article("```python\ndef area(width):\n    return width * 2  # doubled\n```\n")).html
    assert '<span class="k">def</span> <span class="nf">area</span>(width):' in html
    assert '<span class="c1"># doubled</span>' in html
    # Names, punctuation and spaces print as plain text: no boxes for the renderer to lay out.
    assert 'class="n"' not in html and 'class="p"' not in html and 'class="w"' not in html


def test_long_runs_of_code_may_break_after_punctuation_and_very_long_names_anywhere():
    assert code_breaks("x = short.name(argument)") == set()
    run = "self.wordsep_simple_re.split(text)"  # 34 characters without a space
    assert sorted(code_breaks(run)) == [run.index(".") + 1, run.rindex(".") + 1, run.index("(") + 1]
    assert code_breaks("Q" * 40) == set(range(1, 40))
    html = to_html(article("```\n" + run + "\n```\n\n    " + run + "\n")).html
    # Fenced and indented blocks alike, as zero-width spaces, which print as nothing.
    assert html.count("self.\u200bwordsep_simple_re.\u200bsplit(\u200btext)") == 2


def test_screen_formatting_left_out_is_told_apart_from_unsafe_html():
    body = to_html(article('<table width="1200" onclick="steal()"><tr>'
                           '<td nowrap style="white-space: nowrap; position: fixed">Hours</td></tr></table>\n'))
    found = [(d.code, d.message.split(": ", 1)[1].split(" (")[0]) for d in body.diagnostics]
    assert found == [
        ("W109", "width attribute of <table>"),
        ("W108", "onclick attribute of <table>"),
        ("W109", "nowrap attribute of <td>"),
        ("W109", "white-space style of <td>"),
        ("W108", "position style of <td>"),
    ]


@pytest.mark.parametrize("language", [
    "python", "yaml", "bash", "console", "json", "html", "css", "sql", "javascript", "typescript", "c", "cpp",
    "java", "rust", "go", "diff", "docker", "ini", "toml", "xml", "markdown", "php", "ruby", "powershell",
    "nginx", "r", "kotlin", "swift", "csharp", "latex",
])
def test_code_in_any_language_keeps_its_text(language):
    # Lexers make token types of their own (YAML's Literal.Scalar.Plain): none may stop a build.
    snippet = ('key: value  # a comment\n"string" 123 def f(x): return x <= 2\n'
               '<tag attr="v">text</tag> $HOME && echo ok; SELECT * FROM t;\n')
    code = re.search(r"<code[^>]*>(.*)</code>", to_html(article(f"```{language}\n{snippet}```\n")).html, re.S)[1]
    assert html_module.unescape(re.sub(r"<[^>]+>", "", code)).replace("\u200b", "") == snippet


def test_repeated_heading_titles_get_numbered_anchors():
    body = to_html(article("# Step\n\n# Step\n\n# Step 1\n\n# Step\n"))
    assert [h.anchor for h in body.headings] == ["step", "step-1", "step-1-1", "step-2"]


def test_a_headings_anchor_is_no_id_the_raw_html_gives():
    # Ruff's README: '## Support<a id="support"></a>', and a contents list linking '#support'.
    body = to_html(article('[Support](#support)\n\n## Support<a id="support"></a>\n\n'
                           "<p><a name='license'></a></p>\n\n## License\n"))
    ids = re.findall(r"""\b(?:id|name)=["']([^"']+)""", body.html)
    assert len(ids) == len(set(ids)) and {"support", "license"} <= set(ids)
    assert [h.anchor for h in body.headings] == ["support-1", "license-1"]


# Each took minutes before (the anchors plugin, html.parser over raw HTML left
# open, markdown-it's scan from each '['); a subprocess bounds the wait.
@pytest.mark.parametrize("body, outcome", [
    ('"# Step\\n\\n" * 40_000', "read"),
    ('"<!--" * 300_000', "read"),
    ('"<div>\\n" + "<a " * 100_000', "read"),
    ('"[" * 1_000_000', "a.md:1: error: more than 20 '[' open at once ([limits] nesting in handout.toml)"),
])
def test_hostile_markdown_is_read_in_bounded_time(body, outcome):
    script = (
        "from pathlib import Path\n"
        "from generator.article import Article, Metadata\n"
        "from generator.errors import HandoutError\n"
        "from generator.markup.html import to_html\n"
        "try:\n"
        f"    to_html(Article(Path('a.md'), 'a', Metadata(title='T'), {body}))\n"
        "    print('read')\n"
        "except HandoutError as exc:\n"
        "    print(exc.format_message())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parent.parent)
    assert done.stdout.strip() == outcome, done.stderr


BADGES = """\
[![PyPI version](https://img.shields.io/pypi/v/x.svg)](https://pypi.org/project/x/)
[![Build](https://github.com/a/x/actions/workflows/ci.yml/badge.svg)](https://github.com/a/x/actions)

<p align="center">
  <a href="https://pepy.tech/project/x"><img src="https://static.pepy.tech/badge/x" alt="Downloads"></a>
  <a href="https://discord.gg/x"><img src="https://img.shields.io/discord/1.svg" alt="Discord"></a>
</p>

X makes things fast.

A lone picture: ![A chart](https://example.org/chart.png)

[![Only one](https://img.shields.io/badge/one.svg)](https://example.org)
"""


def test_a_readmes_rows_of_badges_are_left_out_when_they_cannot_be_fetched():
    body = to_html(article(BADGES))
    text = re.sub(r"<[^>]+>", " ", body.html)
    for badge in ("PyPI version", "Build", "Downloads", "Discord", "shields.io/pypi", "pepy.tech"):
        assert badge not in text, badge
    assert "<p></p>" not in body.html.replace("\n", "")
    rows = [(d.line, d.message) for d in body.diagnostics if "row of" in d.message]
    assert rows == [
        (1, "left out a row of 2 badges, remote images not fetched (https://img.shields.io/pypi/v/x.svg, ...;"
            " --allow-remote fetches them)"),
        (4, "left out a row of 2 badges, remote images not fetched (https://static.pepy.tech/badge/x, ...;"
            " --allow-remote fetches them)"),
    ]
    # A picture in the text, or one linked image alone, may be the article's: printed as its
    # description and address, as before.
    assert "A chart (https://example.org/chart.png)" in text and "Only one" in text


def test_a_table_of_badges_named_by_its_header_cells_is_left_out():
    # Pillow's README: a table whose header cells name rows of linked status images.
    badge = '<a href="https://x.example/{0}"><img alt="{0} status" src="https://x.example/{0}.svg"></a>'
    table = ("<table>\n  <tr>\n    <th>docs</th>\n    <td>\n      " + badge.format("docs") + "\n    </td>\n  </tr>\n"
             "  <tr>\n    <th>tests</th>\n    <td>\n      " + badge.format("lint") + "\n      " + badge.format("ci")
             + "\n    </td>\n  </tr>\n</table>\n")
    body = to_html(article(f"Acme.\n\n{table}\nAcme makes things fast.\n"))
    assert "status" not in body.html and "<table" not in body.html and "Acme makes things fast." in body.html
    assert [d.message for d in body.diagnostics if "row of" in d.message] == [
        "left out a row of 3 badges, remote images not fetched (https://x.example/docs.svg, ...; --allow-remote"
        " fetches them)"]
    # A table whose cells say something is the article's: a header's sentence, a cell's words.
    for cells in ("<th>What the tests of this package check each night</th><td>{}</td>",
                  "<th>docs</th><td>Read them: {}</td>"):
        kept = f"<table>\n<tr>{cells.format(badge.format('docs') + badge.format('ci'))}</tr>\n</table>\n"
        assert "docs status" in to_html(article(f"Acme.\n\n{kept}")).html


def test_rows_of_badges_print_as_pictures_with_the_network_allowed():
    body = to_html(article(BADGES), ReadPolicy(roots=(Path("."),), allow_remote=True))
    assert body.html.count("<img") == 6


def test_github_alerts_are_callouts():
    body = to_html(article("> [!WARNING]\n> Keep the vaccine cold.\n>\n> Never freeze it.\n\n"
                           "> [!tip]\n> Label the box.\n\n> [!NOTE] with text on its line is a quote\n"))
    # Without a title of their own, the theme prints the word for their kind (test_themes).
    assert ('<aside class="callout callout-warning">\n<p class="callout-title"></p>\n'
            '<p>Keep the vaccine cold.</p>\n<p>Never freeze it.</p>\n</aside>') in body.html
    assert '<aside class="callout callout-tip">\n<p class="callout-title"></p>\n<p>Label the box.</p>' in body.html
    assert "<blockquote>\n<p>[!NOTE] with text on its line is a quote</p>" in body.html
    assert "[!WARNING]" not in body.html


def test_githubs_emoji_shortcodes_print_as_emoji_outside_code():
    body = to_html(article("## Ship it :rocket:\n\nDone :white_check_mark: at 10:30:00, ratio a:b:c, :nothing_here:,"
                           " and `:tada:` in code.\n"))
    assert "Ship it \U0001F680" in body.html and "Done \u2705 at 10:30:00, ratio a:b:c, :nothing_here:," in body.html
    assert "<code>:tada:</code>" in body.html


def test_tex_math_is_drawn_and_money_is_not_math():
    body = to_html(article("Energy $E = mc^2$ costs from $5 to $10 in $HOME.\n\n"
                           "$$\n\\int_0^1 x\\,dx = \\frac{1}{2}\n$$\n\n```math\n\\sqrt{2}\n```\n"))
    pictures = re.findall(r'<img class="math" alt="([^"]*)" src="data:image/svg\+xml;base64,', body.html)
    assert pictures == ["E = mc^2", "\\int_0^1 x\\,dx = \\frac{1}{2}", "\\sqrt{2}"]
    assert body.html.count('<p class="math-display">') == 2
    text = re.sub(r"<[^>]+>", " ", body.html)
    assert "from $5 to $10 in $HOME." in html_module.unescape(text)
    assert not body.diagnostics


def test_math_mathtext_cannot_draw_prints_as_its_tex_with_a_warning():
    nested = "{" * 500 + "x" + "}" * 500  # deeper than mathtext's parser can recurse
    body = to_html(article(f"Text.\n\n$$\n\\begin{{align}} x &= 1 \\end{{align}}\n$$\n\nAnd ${nested}$.\n",
                           first_line=3))
    assert '<pre class="math"><code class="math">\\begin{align} x &amp;= 1 \\end{align}</code></pre>' in body.html
    assert f'<code class="math">{nested}</code>' in body.html
    assert [(d.code, d.line) for d in body.diagnostics] == [("W110", 5), ("W110", 9)]


def test_math_past_an_articles_budget_prints_as_tex_with_one_warning(monkeypatch):
    from generator.markup import math

    monkeypatch.setattr(math, "MAX_DRAWN_TEX", 7)  # `handout check` draws without a time limit
    body = to_html(article("$a+b$ and $c+d$.\n\n$e+f$ and $g+h$.\n"))
    assert re.findall(r'class="math" alt="([^"]+)"', body.html) == ["a+b", "c+d"]
    assert re.findall(r'<code class="math">([^<]+)</code>', body.html) == ["e+f", "g+h"]
    assert [(d.code, d.line) for d in body.diagnostics] == [("W110", 3)]
    assert "more math than the 7 characters" in body.diagnostics[0].message


def test_a_messages_html_part_prints_math_as_its_tex():
    # Mail programs draw no SVG picture reliably: a message's math is its TeX, as code.
    from generator.mail.compose import html_of

    assert html_of("Dose $d \\times w$ mg.\n\n$$\n\\frac{1}{2}\n$$\n") == (
        '<p>Dose <code class="math">d \\times w</code> mg.</p>\n'
        '<pre class="math"><code class="math">\\frac{1}{2}</code></pre>\n')
