"""The sample article, pasted web text, comes out as a clean handout."""

from __future__ import annotations

import shutil

from conftest import (
    SAMPLE,
    SAMPLE_SLUG,
    body_sentences,
    page_texts,
    pdf_words,
    run,
    text_lines_inside,
    words,
)
from pypdf import PdfReader

SECTION_HEADINGS = [
    "Historic Qualifications and Clinical Use",
    "Pharmacology and System of Action",
    "Therapeutic Purposes",
    "Depression",
    "Continual Soreness",
    "Other Psychiatric Disorders",
    "Administration and Security",
    "Potential Instructions",
    "Summary",
]
TITLE = "The Therapeutic Likely of Ketamine: An extensive Overview"
BOILERPLATE = ["Leave a Reply", "Your email address will not be published", "Required fields are marked"]


def test_every_body_sentence_is_printed_in_order(sample_pdf):
    printed = pdf_words(sample_pdf)
    position = 0
    sentences = body_sentences()
    assert len(sentences) > 20
    for sentence in sentences:
        found = printed.find(words(sentence), position)
        assert found >= 0, f"missing or out of order: {sentence!r}"
        position = found + len(sentence)


def test_comment_form_is_not_on_the_page(sample_pdf):
    printed = " ".join(page_texts(sample_pdf))
    for phrase in BOILERPLATE:
        assert phrase not in printed


def test_nine_section_headings_make_the_outline(sample_pdf):
    outline = PdfReader(sample_pdf).outline
    assert outline[0]["/Title"] == TITLE
    assert [item["/Title"] for item in outline[1]] == SECTION_HEADINGS


def test_footer_numbers_every_page(sample_pdf):
    texts = page_texts(sample_pdf)
    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert f"page {number} of {len(texts)}" in text
        assert "Ketamine: An extensive Overview" in text.split("\n")[-1]


def test_metadata(sample_pdf):
    reader = PdfReader(sample_pdf)
    assert reader.metadata.title == TITLE
    assert reader.metadata.creator.startswith("handout ")
    assert reader.metadata.creation_date is not None
    assert reader.metadata.modification_date is not None
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_lines_hold_about_75_characters(sample_pdf):
    lines = [line for text in PdfReader(sample_pdf).pages for line in text.extract_text().split("\n")]
    body_lines = [line for line in lines if "page" not in line]
    assert max(len(line) for line in body_lines) <= 78
    assert max(len(line) for line in body_lines) >= 65  # the measure is used, not a narrow column


def test_build_reports_every_cleaning(project):
    shutil.copy(SAMPLE, project / "content")
    result = run("build", "--verbose")
    assert result.exit_code == 0
    warnings = result.stderr.splitlines()
    name = f"content/{SAMPLE.name}"
    # The comment form is one block of furniture: one warning with its kind and size.
    assert any(w.startswith(f"{name}:30: warning: removed form (2 lines, 15 words): 'Leave a Reply | Your email")
               for w in warnings)
    assert any(w.startswith(f"{name}:28: warning: text appears truncated at line 28") for w in warnings)
    assert len(warnings) == 2
    assert f"{name} -> output/{SAMPLE_SLUG}.pdf (2 pages," in result.stdout
    assert "1 of 1 handouts built into output/ (0 failed, 2 warnings)" in result.stdout


def test_truncated_ending_is_kept(sample_pdf):
    assert text_lines_inside(sample_pdf, margin_mm=20)[-1][-1].endswith("might lead to innovativ")
