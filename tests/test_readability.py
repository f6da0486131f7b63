"""Plain-language checks: reading grades by section and language, and the findings of [check]'s limits."""

from __future__ import annotations

import json

import pytest
from conftest import run, write

PLAIN = "We wash our hands. Soap kills germs. Dry them well.\n"
# Ten words in three sentences, with eleven syllables ("our" has two in the CMU dictionary):
# Flesch-Kincaid gives 0.39 * 10/3 + 11.8 * 11/10 - 15.59 = -1.31.
PLAIN_GRADE = -1.3
DENSE = (
    "Pharmacological immunization substantially diminishes the epidemiological transmissibility of "
    "communicable respiratory pathogens, notwithstanding considerable interindividual variability in "
    "immunological responsiveness attributable to comorbidities, immunosenescence and concomitant "
    "immunosuppressive medication.\n"
)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """One build and one JSON check of articles whose readability is known."""
    root = tmp_path_factory.mktemp("readable")
    write(root / "content" / "plain.md", "---\ntitle: Clean hands\n---\n" + PLAIN)
    write(root / "content" / "dense.md", "---\ntitle: Vaccines\n---\n" + DENSE)
    write(root / "content" / "sections.md",
          f"---\ntitle: Two parts\n---\n## Easy part\n\n{PLAIN}\n## Hard part\n\n{DENSE}")
    write(root / "content" / "german.md", "---\ntitle: Hände\nlang: de\n---\n"
          "Wir waschen die Hände. Seife tötet Keime. Dann trocknen wir sie gut ab.\n")
    write(root / "content" / "french.md", "---\ntitle: Mains\nlang: fr\n---\n"
          "Nous lavons nos mains. Le savon tue les microbes.\n")
    write(root / "handout.toml", "[check]\nmax_grade = 8\nmax_sentence_words = 25\nmax_word_syllables = 5\n")
    import os
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = run("build", "--check", "--format", "json")
        text = run("check")
    finally:
        os.chdir(cwd)
    report = json.loads(result.stdout)
    return {h["article"].split("/")[-1]: h for h in report["handouts"]}, text.stdout


def test_a_plain_text_has_its_flesch_kincaid_grade(reports):
    plain = reports[0]["plain.md"]["readability"]
    assert plain["formula"] == "Flesch-Kincaid" and plain["lang"] == "en"
    assert plain["grade"] == PLAIN_GRADE
    assert (plain["words"], plain["sentences"]) == (10, 3)
    assert not [f for f in reports[0]["plain.md"]["findings"] if f["code"].startswith("L32")]


def test_a_dense_text_is_over_the_limits_with_its_lines(reports):
    dense = reports[0]["dense.md"]
    assert dense["readability"]["grade"] > 20
    codes = {f["code"]: f for f in dense["findings"]}
    assert "over [check] max_grade 8" in codes["L320"]["message"]
    assert codes["L321"]["line"] == 4 and "a sentence of 26 words (over 25)" in codes["L321"]["message"]
    assert codes["L322"]["line"] == 4
    # Over 5 syllables: these (8, 6, 6); not "immunization" (5).
    for word in ("epidemiological", "Pharmacological", "interindividual"):
        assert word in codes["L322"]["message"]
    assert "immunization" not in codes["L322"]["message"]


def test_each_section_has_its_grade(reports):
    article = reports[0]["sections.md"]["readability"]
    easy, hard = article["sections"]
    assert (easy["heading"], easy["line"], easy["grade"]) == ("Easy part", 4, PLAIN_GRADE)
    assert hard["heading"] == "Hard part" and hard["line"] == 8 and hard["grade"] > 20
    assert easy["grade"] < article["grade"] < hard["grade"]
    l320 = next(f for f in reports[0]["sections.md"]["findings"] if f["code"] == "L320")
    assert "hardest: 'Hard part'" in l320["message"] and l320["line"] == 8


def test_each_language_with_its_own_formula_or_none(reports):
    german = reports[0]["german.md"]["readability"]
    assert german["formula"] == "Wiener Sachtextformel" and german["grade"] < 4
    french = reports[0]["french.md"]["readability"]
    assert (french["formula"], french["grade"]) == (None, None)
    assert "reading grade not measured for fr" in reports[1]
    assert "reading grade -1.3 (Flesch-Kincaid)" in reports[1]


def test_the_limits_are_off_by_default(project):
    write(project / "content" / "dense.md", "---\ntitle: Vaccines\n---\n" + DENSE)
    result = run("build", "--check", "--format", "json")
    (handout,) = json.loads(result.stdout)["handouts"]
    assert handout["readability"]["grade"] > 20 and handout["findings"] == []


def test_a_limit_of_the_wrong_kind_is_one_clear_error(project):
    write(project / "content" / "plain.md", PLAIN)
    write(project / "handout.toml", "[check]\nmax_grade = \"easy\"\n")
    result = run("check")
    assert result.exit_code != 0
    assert "handout.toml" in result.output and "check.max_grade must be" in result.output
