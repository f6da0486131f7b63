"""Pasted web text: headings guessed, furniture removed and reported, text kept word for word."""

from __future__ import annotations

from pathlib import Path

from conftest import run
from markdown_it import MarkdownIt

from generator.markup.html import PARSER
from generator.read.plaintext import convert

PATH = Path("pasted.txt")
WRAPPED = """\
Washing hands well

Wash your hands with soap and clean running water for
at least twenty seconds, and dry them with a clean towel
or let them dry in the air before you touch food again.

Before meals and after the toilet, every time.
"""


def headings(markdown: str) -> list[str]:
    return [line[3:] for line in markdown.splitlines() if line.startswith("## ")]


def rendered_text(markdown: str) -> str:
    """What a reader sees of the Markdown, as handout reads it: its text with the markup gone."""
    tokens = PARSER.parse(markdown)
    return " ".join(
        child.content for token in tokens if token.children
        for child in token.children if child.type == "text"
    )


def test_first_line_is_the_title():
    assert convert(WRAPPED, PATH).title == "Washing hands well"


def test_hard_wrapped_lines_join_into_one_paragraph_not_headings():
    result = convert(WRAPPED, PATH)
    assert headings(result.markdown) == []
    assert "for at least twenty seconds, and dry them with a clean towel or let them" in result.markdown
    assert result.diagnostics == ()


def test_short_line_before_a_paragraph_is_a_heading_and_a_run_of_two_is_heading_and_subheading():
    text = ("Title\n\nIntro paragraph that is long enough to be text.\n\n"
            "Symptoms\nFever\nA fever is a body temperature above 38 degrees.\n")
    assert headings(convert(text, PATH).markdown) == ["Symptoms", "Fever"]


def test_three_short_lines_are_an_address_not_headings():
    text = ("Title\n\nCity Clinic\n12 Main Street\nSpringfield\n"
            "Open every weekday from eight until six in the evening.\n")
    markdown = convert(text, PATH).markdown
    assert headings(markdown) == []
    assert "City Clinic\\\n12 Main Street\\\nSpringfield" in markdown


def test_lines_ending_in_punctuation_or_starting_lowercase_are_not_headings():
    text = "Title\n\nCall us today:\nwe answer quickly.\n\nnote this\nThe end.\n"
    assert headings(convert(text, PATH).markdown) == []


def test_boilerplate_is_removed_and_each_removal_reported_with_its_line():
    text = (
        "Title\n\nArticle text.\n\nShare this:\nTweet\nFacebook\n\nLeave a Reply\nCancel reply\n"
        "Your email address will not be published. Required fields are marked *\n"
        "Comment *\nName *\nEmail *\nWebsite\n"
        "Save my name, email, and website in this browser for the next time I comment.\n"
        "\nWe use cookies to improve your experience.\n"
    )
    result = convert(text, PATH)
    assert rendered_text(result.markdown) == "Article text."
    removed = [(d.line, d.kind, d.words) for d in result.diagnostics if d.code == "W102"]
    assert removed == [(5, "share", 4), (9, "form", 39), (18, "cookie", 7)]
    assert all(d.path == PATH for d in result.diagnostics)
    assert result.diagnostics[0].message == "removed share (3 lines, 4 words): 'Share this: | Tweet | Facebook'"


def test_each_removal_knows_how_many_of_the_bodys_blocks_came_before_it():
    text = ("Title\n\nFirst paragraph of the article, long enough to be one, with several words in it.\n\n"
            "Advertisement\n\nSecond paragraph of the article, after the advert, also with several words in it.\n\n"
            "We use cookies to improve your experience.\n")
    result = convert(text, PATH)
    blocks = result.markdown.strip().split("\n\n")
    assert [(r.kind, r.after) for r in result.removed] == [("ad", 1), ("cookie", 2)]
    assert blocks[0].startswith("First paragraph") and blocks[1].startswith("Second paragraph")


def test_article_words_that_look_like_form_labels_stay_when_no_form_is_near():
    text = "Title\n\nWebsite\nOur website lists the opening hours.\n\nComment\nShare your comment with the nurse.\n"
    result = convert(text, PATH)
    assert headings(result.markdown) == ["Website", "Comment"]
    assert result.diagnostics == ()


def test_sentence_that_mentions_cookies_is_not_boilerplate():
    text = "Title\n\nWe use cookies as a reward in class, sparingly.\n"
    assert "cookies as a reward" in convert(text, PATH).markdown


def test_truncated_ending_is_kept_and_reported():
    result = convert("Title\n\nFirst sentence. The second one stops in the midd\n", PATH)
    assert "stops in the midd" in result.markdown
    (warning,) = result.diagnostics
    assert warning.code == "W103" and warning.line == 3
    assert "text appears truncated at line 3" in warning.message


def test_ending_with_a_quote_after_the_full_stop_is_not_truncated():
    assert convert('Title\n\nShe said "wash your hands."\n', PATH).diagnostics == ()


def test_markdown_characters_in_pasted_text_print_as_themselves():
    text = (
        "Title\n\n"
        "Use *only* 2 tablets, not 3_4 or _five_; see [note] <b>here</b> & &amp; ~this~ `x` a|b \\n.\n\n"
        "Save to $HOME/$USER, $x$ is no formula.\n\n"
        "# not a heading, just a hash.\n\n"
        "1. not a list item, a sentence.\n\n"
        "- dash at the start, also text.\n"
    )
    markdown = convert(text, PATH).markdown
    expected = (
        "Use *only* 2 tablets, not 3_4 or _five_; see [note] <b>here</b> & &amp; ~this~ `x` a|b \\n. "
        "Save to $HOME/$USER, $x$ is no formula. # not a heading, just a hash. 1. not a list item, a sentence."
        " - dash at the start, also text."
    )
    assert rendered_text(markdown) == expected


FLU_PAGE = (Path(__file__).parent / "pasted" / "flu-season.txt").read_text(encoding="utf-8")


def test_the_sites_menu_above_the_article_is_furniture_and_the_title_comes_after_it():
    result = convert(FLU_PAGE, PATH)
    assert result.title == "Flu season: what you need to know"
    removed = {d.line: d for d in result.diagnostics if d.code == "W102"}
    # Skip to main content, Home | About us | ..., Search...: one block.
    assert removed[1].kind == "menu" and removed[1].words == 13
    assert "Home | About us | Services | Contact" in removed[1].message


def test_bullets_and_numbered_lines_become_lists_under_a_question_heading():
    markdown = convert(FLU_PAGE, PATH).markdown
    assert headings(markdown) == ["WHO SHOULD GET VACCINATED?", "How to book"]
    assert "- Adults over 65\n- Pregnant women, at any stage of pregnancy\n" in markdown
    assert "1. Call the clinic on 020 7946 0958 between 8:00 and 18:00.\n2. Or book online" in markdown


def test_share_buttons_related_titles_and_the_footer_are_removed_and_reported():
    result = convert(FLU_PAGE, PATH)
    removed = [(d.line, d.kind) for d in result.diagnostics if d.code == "W102"]
    assert removed == [(1, "menu"), (8, "cookie"), (25, "share"), (28, "related"), (32, "form"), (39, "legal")]
    assert rendered_text(result.markdown).endswith("aching muscles for a day or two.")
    assert not [d for d in result.diagnostics if d.code == "W103"]  # the footer was the "truncated" end


def test_separated_values_inside_the_article_are_not_a_menu():
    text = "Title\n\nOpening times this week:\n\nMonday | Tuesday | Wednesday\n08:00 | 08:00 | 09:00\n\nCall ahead.\n"
    result = convert(text, PATH)
    assert "Monday \\| Tuesday \\| Wednesday" in result.markdown and result.diagnostics == ()


def test_a_single_dash_line_stays_a_sentence_and_two_bullets_make_a_list():
    assert "- " not in convert("Title\n\n- one line with a dash stays text.\n", PATH).markdown.replace("\\- ", "")
    assert convert("Title\n\n• first\n• second\n", PATH).markdown == "- first\n- second\n"


def test_a_sentence_that_starts_like_a_copyright_line_stays():
    text = "Title\n\nText.\n\nCopyright 2023 reforms changed the law for every pharmacy in the country.\n"
    result = convert(text, PATH)
    assert "Copyright 2023 reforms changed the law" in result.markdown and result.diagnostics == ()
    footer = convert("Title\n\nText.\n\nCopyright 2025 Northside Clinic Ltd.\n", PATH)
    assert [d.code for d in footer.diagnostics] == ["W102"]


def test_menu_and_search_are_headings_of_an_article_unless_beside_the_sites_furniture():
    text = "Title\n\nMenu\nSoup of the day, bread and fruit.\n\nSearch\nLook the word up in the index.\n"
    result = convert(text, PATH)
    assert headings(result.markdown) == ["Menu", "Search"] and result.diagnostics == ()


def list_items(markdown: str) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [tokens[i + 2].content for i, token in enumerate(tokens) if token.type == "list_item_open"]


def test_short_lines_under_a_colon_are_a_list():
    text = ("Title\n\nYou will need these things for the walk:\nA warm coat\ngood boots\nA map of the hills\n\n"
            "Then we walk up the hill and look at the view from the top.\n")
    markdown = convert(text, PATH).markdown
    assert list_items(markdown) == ["A warm coat", "good boots", "A map of the hills"]
    assert headings(markdown) == []


def test_two_short_lines_under_a_colon_are_a_list_not_headings():
    text = ("Title\n\nPack these:\nWarm coat\nGood boots\n"
            "The rest of the gear is waiting for you at the hut, as always.\n")
    assert list_items(convert(text, PATH).markdown) == ["Warm coat", "Good boots"]


def test_short_parallel_lines_a_blank_line_apart_are_a_list():
    text = ("Title\n\nWe sell three kinds of fruit in the shop all year round.\n\nApples from the valley\n\n"
            "Pears from the old orchard\n\nPlums in late summer\n\n"
            "Come and taste them on Saturdays, when the market is open from eight in the morning.\n")
    markdown = convert(text, PATH).markdown
    assert list_items(markdown) == ["Apples from the valley", "Pears from the old orchard", "Plums in late summer"]


def test_every_kind_of_bullet_and_number_makes_a_list_even_a_blank_line_apart():
    for bullet in "-*•●▪–✓·":
        text = (f"Title\n\n{bullet} first thing\n{bullet} second thing\n\n"
                f"{bullet} third thing\n\n{bullet} fourth thing\n")
        assert list_items(convert(text, PATH).markdown) == ["first thing", "second thing", "third thing",
                                                            "fourth thing"], bullet
    numbered = convert("Title\n\n1) Call the clinic.\n\n2) Book a time.\n\n3) Come in.\n", PATH).markdown
    assert list_items(numbered) == ["Call the clinic.", "Book a time.", "Come in."]
    assert numbered.startswith("1. ")


def test_bylines_and_dates_in_other_languages_are_the_title_blocks():
    german = "Die Gemeinde hat am Montag den Haushalt {} für die Schule und das Bad beschlossen.\n\n"
    french = "La commune a voté lundi le budget {} de l'école et de la piscine pour l'année.\n\n"
    spanish = "El ayuntamiento aprobó el lunes el presupuesto {} de la escuela y de la piscina.\n\n"
    for byline, date, author, when, sentence in (
        ("Von Anna Keller", "5. März 2024", "Anna Keller", "5. März 2024", german),
        ("Par Jean Dupont", "5 mars 2024", "Jean Dupont", "5 mars 2024", french),
        ("Por María López", "5 de marzo de 2024", "María López", "5 de marzo de 2024", spanish),
        ("Par Jean Dupont, le 5 mars 2024 à 10h", "", "Jean Dupont", "5 mars 2024", french),
    ):
        text = f"Un titre\n\n{byline}\n{date}\n\n" + "".join(sentence.format(i) for i in range(4))
        result = convert(text, PATH)
        assert (result.title, result.author, result.date) == ("Un titre", author, when), byline
        assert rendered_text(result.markdown).startswith(sentence.format(0).strip()), byline


def test_a_long_first_paragraph_never_becomes_the_title():
    text = ("The clinic will offer free flu shots to everyone over sixty from the first week of October, and "
            "appointments can be made by phone or at the front desk during opening hours.\n\n"
            "Bring your card and a list of your medicines. The shot takes five minutes.\n")
    converted = convert(text, Path("flu-shots.txt"))
    assert converted.title == "flu shots"
    assert converted.markdown.startswith("The clinic will offer free flu shots to everyone over sixty")


def test_build_and_check_agree_on_what_is_cut_off(project):
    # Thai ends a sentence with a space, not a mark: neither the build (W103) nor the check (L305)
    # calls it cut off, while an English paragraph without its full stop is cut off for both.
    (project / "content" / "thai.txt").write_text(
        "Flu shots\n\nThe clinic gives flu shots to everyone.\n\nล้างมือด้วยสบู่และน้ำสะอาดทุกครั้ง\n", encoding="utf-8")
    (project / "content" / "cut.txt").write_text(
        "Flu shots\n\nThe clinic gives flu shots to everyone.\n\nBring your card, and a list of the medicines you "
        "take every day, because the nurse will ask about them before the shot and write down the\n",
        encoding="utf-8")
    built = run("build", "--check")
    assert "thai.txt" not in built.stderr.replace("thai.txt -> ", "")
    assert "[W103]" in built.stderr and "content/cut.txt:5: warning: text appears truncated" in built.stderr
    assert "content/thai.txt -> output/thai.pdf" in built.stdout and "[L305]" in built.stdout
    assert "thai.txt:5" not in built.stdout
