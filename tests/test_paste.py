"""Whole web pages pasted as text: the article found, its furniture reported, in any language, in linear time."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import page_texts, run, words
from pypdf import PdfReader

from generator.read.plaintext import convert

PASTED = Path(__file__).parent / "pasted"
# Each case runs in a child process: a hang fails the test instead of stalling CI.
LIMIT_SECONDS = 60


def convert_in_child(text: str) -> subprocess.CompletedProcess:
    code = ("import sys; from pathlib import Path; from generator.read.plaintext import convert; "
            "r = convert(sys.stdin.read(), Path('p.txt')); print(len(r.markdown))")
    return subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True,
                          timeout=LIMIT_SECONDS, cwd=Path(__file__).parent.parent)


def test_a_long_share_bar_does_not_hang():
    # Each extra button word tripled the time of the old form-field pattern.
    # (the pattern failed only at the last word, after trying every way to split the others)
    bar = " ".join(["Share", "Tweet", "Pin", "Email", "Print", "WhatsApp"] * 3) + " 1.2K"
    text = f"A title\n{bar}\n\nThe article says one thing and says it in a sentence of several words.\n"
    assert len(text.encode()) < 300
    assert convert_in_child(text).returncode == 0


def test_a_one_megabyte_page_finishes():
    # A long list of related titles: the old code walked back over the whole list for each title.
    menu = "\n".join(f"Section {i}" for i in range(40))
    para = "The council met on Tuesday and agreed that the new ferry will sail from the first week of April.\n"
    related = "\n".join(f"Another story about the harbour, number {i}" for i in range(25_000))
    page = menu + "\n" + para * 20 + "Related posts\n" + related + "\n"
    assert len(page.encode()) > 1_000_000
    result = convert_in_child(page)
    assert result.returncode == 0, result.stderr


def build(project, name: str) -> tuple[list[str], str, object]:
    shutil.copy(PASTED / name, project / "content")
    result = run("build", "--verbose")
    assert result.exit_code == 0, result.stderr
    pdf = project / "output" / (Path(name).stem + ".pdf")
    return page_texts(pdf), result.stderr, PdfReader(pdf)


def test_a_whole_english_page_prints_only_its_article(project):
    texts, stderr, reader = build(project, "harbour-news.txt")
    printed = words(" ".join(texts))
    assert reader.metadata.title == "New ferry link to the islands opens in spring"
    assert "Maria Lindqvist" in printed and "March 5, 2024" in printed  # the title block's byline and date
    assert words("from the middle of March.") in printed
    assert words("Now the boats are ready and the crews are trained.") in printed
    for furniture in ("Harbour Gazette", "Sign in", "Tweet", "Council votes", "Jonas", "Leave a Reply",
                      "cookies", "Privacy Policy", "2 hours ago"):
        assert words(furniture) not in printed, furniture
    assert reader.trailer["/Root"]["/Lang"] == "en"
    kinds = [line.split(": removed ")[1].split(" (")[0] for line in stderr.splitlines() if "[W102]" in line]
    assert kinds == ["menu", "form", "menu", "share", "form", "credit", "related", "comments", "form", "cookie",
                     "legal"]
    assert "harbour-news.txt:31: warning: removed comments (9 lines, 61 words): '12 comments | Jonas P." in stderr


def test_a_whole_german_page_loses_its_german_furniture_and_prints_as_german(project):
    texts, stderr, reader = build(project, "bahnhof-de.txt")
    printed = words(" ".join(texts))
    assert reader.metadata.title == "Der neue Bahnhof öffnet im Herbst"
    assert reader.trailer["/Root"]["/Lang"] == "de"
    assert "Katrin Albrecht" in printed
    assert words("die auf mehr Kunden hoffen.") in printed
    for furniture in ("Startseite", "Anmelden", "Teilen", "Schwimmbad", "Kommentare", "Cookies", "Impressum"):
        assert words(furniture) not in printed, furniture


def test_code_pasted_in_a_text_file_builds_or_fails_in_one_line(project):
    (project / "content" / "script.txt").write_text(
        'import sys\n\n\ndef main(argv):\n    """Print the arguments."""\n    for arg in argv[1:]:\n'
        '        print({"arg": arg, "n": [1, 2, 3]})\n\n\nif __name__ == "__main__":\n    main(sys.argv)\n')
    result = run("build")
    assert "Traceback" not in result.stderr
    assert result.exit_code == 0 or result.stderr.count("error:") == 1


def test_comments_longer_than_the_article_end_it_at_their_heading():
    article = "".join(f"The library will open on Sundays from month {i}, the council said on Monday"
                      " after a long vote.\n\n"
                      f"Readers had asked for longer hours for {i + 2} years, and the new budget pays"
                      " for more staff.\n\n"
                      for i in range(3))
    page = ("Library to open on Sundays\n\n" + article + "[ 14 comments ]\n\nTop Rated Comments\n\n"
            + "".join(f"reader{i}\n\n2 days ago at 07:5{i} am\n\nI think this is a very good idea and I hope they "
                      f"keep the cafe open on Sundays as well, it is lovely, {i} times.\n\n" for i in range(8)))
    result = convert(page, Path("library.txt"))
    assert "Readers had asked for longer hours for 4 years" in result.markdown
    assert "cafe" not in result.markdown and "reader1" not in result.markdown
    assert [d.kind for d in result.diagnostics if d.code == "W102"][0] == "comments"


def test_a_run_of_other_stories_headlines_is_not_the_article_but_a_list_it_introduces_is():
    popular = ("Most read\n\n"
               "Council sought state funding for a new bus lane on the ring road but the mayor is unswayed\n"
               "The county fair will be free to attend for families from next summer on all days\n"
               "A man dies after crashing into a power pole on the old harbour road late on Sunday night\n"
               "Tow-truck drivers to the rescue for the owner of a sailboat frozen in the river ice\n\n")
    article = ("The ferry to the islands will sail twice a day from April, the harbour board said on Monday.\n\n"
               "Tickets go on sale next week; islanders travel free, and visitors pay the summer fare all year.\n\n"
               "The old boat will be sold, the board said, because it is too slow for two return trips a day.\n\n"
               "Crews have trained on the new boat since January and know every rock in the sound by now.\n\n"
               "The boat carries these goods every morning:\n\nfresh bread from the mainland bakery near the station\n"
               "the post and parcels for the shop and the school on the big island\n"
               "medicine for the island pharmacy and the doctor who visits on Thursdays\n\n"
               "The board hopes to add a third sailing in the summer if enough people use the service.\n")
    result = convert("Ferry to sail twice a day\n\n" + popular + article, Path("ferry.txt"))
    assert "sailboat" not in result.markdown and "county fair" not in result.markdown
    assert "medicine for the island pharmacy" in result.markdown and "third sailing" in result.markdown


PAGES_IN_OTHER_LANGUAGES = [
    ("lac-fr.txt", "Le lac rouvre à la baignade cet été", "fr",
     ("Jean Dupont", "5 mars 2024", "qui espère que les familles de la région reviendront.",
      "deux maîtres-nageurs chaque jour", "des toilettes neuves près du parking"),
     ("Accueil", "Se connecter", "Partager", "À lire aussi", "marché de Noël", "Laisser un", "Paul M.",
      "grandes chaleurs", "Mentions légales", "Journal du Lac"),
     "Pour la saison, la mairie prévoit :\n\n- deux maîtres-nageurs chaque jour\n- une plage"),
    ("huerto-es.txt", "El huerto escolar da su primera cosecha", "es",
     ("María López", "5 de marzo de 2024", "que prepara una ensalada con la cosecha cada viernes.",
      "Lechugas de hoja roja", "Habas y guisantes"),
     ("Inicio", "Iniciar sesión", "Compartir", "Te puede interesar", "biblioteca", "Deja una", "Luisa G.",
      "Aviso legal", "Diario del Barrio"),
     "Este año han plantado:\n\n- Lechugas de hoja roja\n- Tomates de pera\n- Habas y guisantes\n"),
]


@pytest.mark.parametrize("name, title, lang, kept, furniture, list_markdown", PAGES_IN_OTHER_LANGUAGES)
def test_a_whole_page_in_french_or_spanish_keeps_its_article_byline_date_and_list(
        project, name, title, lang, kept, furniture, list_markdown):
    texts, _, reader = build(project, name)
    printed = words(" ".join(texts))
    assert reader.metadata.title == title
    assert reader.trailer["/Root"]["/Lang"] == lang  # the language detected, in the PDF
    for phrase in kept:  # the byline, the date, the last sentence, the list's items
        assert words(phrase) in printed, phrase
    for phrase in furniture:  # menu, share bar, related headlines, comment form and comment, footer
        assert words(phrase) not in printed, phrase
    assert list_markdown in convert((PASTED / name).read_text(encoding="utf-8"), Path(name)).markdown


def test_front_matter_lang_wins_over_the_detected_language(project):
    page = (PASTED / "lac-fr.txt").read_text(encoding="utf-8")
    (project / "content" / "lac.txt").write_text("---\nlang: fr-CA\n---\n" + page, encoding="utf-8")
    assert run("build").exit_code == 0
    assert PdfReader(project / "output" / "lac.pdf").trailer["/Root"]["/Lang"] == "fr-CA"


def test_the_language_model_kept_uncompressed_in_the_cache_reads_as_the_shipped_one(tmp_path, monkeypatch):
    # py3langid's model is kept uncompressed in handout's cache (30 ms to map, 0.4 s to decompress);
    # what it says must be what the model it ships says, and a damaged copy is made again.
    import py3langid

    from generator.read import language

    monkeypatch.setenv("HANDOUT_CACHE_DIR", str(tmp_path))
    samples = [(PASTED / name).read_text(encoding="utf-8")[:3000] for name in ("lac-fr.txt", *sorted(
        p.name for p in PASTED.glob("*.txt")))[:4]] + ["Wash your hands with soap.", "Lávese las manos con jabón."]
    shipped = [py3langid.classify(sample) for sample in samples]
    from py3langid import modelio

    decompress = modelio.load_model
    for damage, allowed in ((None, True), (None, False), (b"not an array", True)):  # made, read back, made again
        language.made_identifier.cache_clear()
        if damage:
            (next((tmp_path / "language").glob("*/nextmove.npy"))).write_bytes(damage)
        monkeypatch.setattr(modelio, "load_model", decompress if allowed else None)
        kept = language.identifier()
        assert [kept.classify(sample) for sample in samples] == shipped
        assert {p.name for p in (tmp_path / "language").glob("*/*.npy")} == {f"{n}.npy" for n in language.MODEL_PARTS}
    language.made_identifier.cache_clear()
