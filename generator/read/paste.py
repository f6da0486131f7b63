"""The article inside a whole web page pasted as text.

A browser's select-all and copy gives one line per block of the page: menus,
share bars, related headlines, comments and footers come along with the
article. As jusText and boilerpipe do on HTML, each line is judged by its own
signals, all of them true of web pages in any language: prose is long and
dense with the language's common words (jusText's stoplists), furniture is
short, link-like, repeated on the page or shaped like a counter. The article
is then the run of lines with the highest total score (Finn's Body Text
Extraction: prose adds its words, furniture subtracts), so a short heading or
list item inside the article stays while the menu above and the comments below
go. The title is the heading-like line before the body, above the byline and
date when the page has them.

Everything here is linear in the size of the text: no regular expression may
backtrack over a line more than a bounded number of times.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from . import language

# Latin and most scripts; the danda of the Indic scripts; Arabic and Urdu; CJK full stops;
# Armenian, Ethiopic, Myanmar and Khmer full stops.
END_PUNCTUATION = ".!?…।॥؟۔。！？։።፧။។"
CLOSERS = "\"'”’»)]"
# A heading may ask a question ("Who should get vaccinated?"), but not end a sentence.
HEADING_END_PUNCTUATION = ".,;:!…"
MAX_HEADING_CHARS = 70
MAX_HEADING_WORDS = 12
BULLET = re.compile(r"[-*+•·–—▪◦●✓✔]\s+")
NUMBERED = re.compile(r"(\d{1,3})[.)]\s+")

# "Comments" in the languages of most of the web: a comment section's heading and counter say it.
COMMENTS_WORD = r"(comments?|kommentare?|commentaires?|comentarios?|comentários?|commenti|reacties|komentarz[ey]?)"
# What furniture says of itself, wherever it stands (English, the web's lingua franca;
# the scores below find the rest in any language). Each matches a whole line.
FURNITURE = {
    "cookie": [r"(this|our) (web)?site uses cookies\b.*",
               r"we use cookies\b.*\b(experience|website|site|consent|analytics|traffic|personali[sz]e"
               r"|advertising|browsing)\b.*",
               r"(accept|reject|allow)( all)? cookies", r"cookie (settings|policy|preferences)"],
    "form": [r"leave a (reply|comment)( cancel reply)?", r"post a comment", r"cancel reply",
             r"your email address will not be published\.?( required fields are marked \*?)?",
             r"required fields are marked \*?",
             r"save my name,? email,? and website in this browser for the next time I comment\.?",
             r"you must be logged in to post a comment\.?", r"notify me of (follow-up comments|new posts) by email\.?",
             r"this site uses akismet to reduce spam\..*", r"subscribe to (our|the) newsletter.*",
             r"sign (in|up)( to .{0,40})?", r"log ?in( to .{0,40})?|register|create (an|your) account"],
    "share": [r"(share|like) this( article| post| story)?:?", r"click to (share|print|email) .*",
              r"share on (facebook|twitter|x|linkedin|whatsapp|pinterest|reddit|email)",
              r"share( this)? (article|story|post)( on .{0,30})?", r"\d[\d.,]*[km]? (shares?|likes?|views?)"],
    "related": [r"related (posts?|articles?|stories|content|coverage|news)( from .*)?:?",
                r"(you may|you might) also (like|enjoy):?", r"more (articles|stories|posts|news)( from .*)?:?",
                r"(read|see) (more|also|next):?",
                r"(most (read|popular|viewed)|trending( now| news)?|recommended( for you)?|popular posts"
                r"|recent posts|latest news)"],
    "comments": [rf"\d+ {COMMENTS_WORD}", rf"(view|show|load|read|see|hide) (all )?(\d+ )?{COMMENTS_WORD}",
                 r"\d+ repl(y|ies)", rf"(top rated|top|newest|oldest|latest|reader) {COMMENTS_WORD}",
                 r"join the (conversation|discussion)", r"comments are closed\.?",
                 r"(deixe|deja|laisser|lascia|hinterlasse|schreibe|laat) (uma?|un|una|einen|een) "
                 r"(resposta|comentário|respuesta|comentario|réponse|commentaire|commento|risposta|kommentar|antwort|reactie)"],
    "menu": [r"skip to (main )?content", r"toggle (navigation|menu)|back to top|print this page",
             r"search( this site| the site| our site)?\s*(\.\.\.|…)"],
    "legal": [r"(©|\(c\)|copyright\s*©)\s*\d{4}\b.*", r"copyright\s+\d{4}([-–]\d{4})?(\s+[\w&'’.,-]+){0,5}\.?",
              r"all rights reserved\.?", r"(privacy|cookies?) (policy|notice)|terms (of (use|service)|and conditions)"],
    "ad": [r"advertisement|sponsored( content)?|ad|ads by .{0,30}|story continues below( advertisement)?"],
    "other": [r"posted in .*", r"tagged:? .*", r"tags?:.*", r"filed under:? .*", r"\d+ min(ute)?s? read",
              r"loading\.*"],
}
# Words that are furniture only beside other furniture: as a heading of an article they stay.
FURNITURE_NEAR = {
    "menu": re.compile(r"(main )?menu|search( this site| the site| our site)?|home|close( \(x\))?", re.I),
    "comments": re.compile(rf"{COMMENTS_WORD}( \(\d+\))?|reply|report( abuse)?", re.I),
}
COMMENT_FORM = re.compile("|".join(FURNITURE["form"][:4]), re.I)
FURNITURE_LINE = {kind: re.compile("|".join(f"(?:{p})" for p in patterns), re.I)
                  for kind, patterns in FURNITURE.items()}
LEGAL_LINK = re.compile(r"(privacy|cookies?)( policy| notice| settings)?|terms( of (use|service))?|"
                        r"terms (and|&) conditions|accessibility( statement)?|site ?map|disclaimer|imprint|"
                        r"legal( notice)?|contact( us)?|about( us)?|careers|advertise( with us)?", re.I)
# Words of share bars and comment forms: a line made only of them is a row of buttons or labels.
BUTTON_WORDS = frozenset(
    "name e-mail email mail website comment comments post submit send tweet pin it print share shares facebook "
    "twitter x linkedin whatsapp pinterest reddit telegram messenger copy link flipboard tumblr pocket "
    "google+ sms save like follow subscribe".split())
# Separators of a site's menu or breadcrumb ("Home | News | Sport", "Home > World").
MENU_SEPARATOR = re.compile(r"\s+[|·•/>›»]\s+")
MAX_MENU_ITEM_CHARS = 30
# Brackets, arrows and ellipses around a link's words.
LINK_DECORATION = re.compile(r"^[\s\[\](){}»›<>+|·•]+|[\s\[\](){}»›<>+|·•:.…]+$")
# A byline, a date line and a photo credit: the title block's and the picture's, not the body's.
MONTH = (r"(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|oct(ober)?|"
         r"nov(ember)?|dec(ember)?)\.?")
DATE = re.compile(rf"\b({MONTH}\s+\d{{1,2}}(st|nd|rd|th)?,?\s+\d{{4}}|"
                  rf"\d{{1,2}}(st|nd|rd|th)?\s+(of\s+)?{MONTH},?\s+\d{{4}}|"
                  r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4})\b", re.I)
# A date with its month in words, in any language ("5. März 2024", "5 de marzo de 2024", "mars 5, 2024"):
# dateparser, which knows the month names of some 200 locales offline, says whether the word is a month.
WORD_DATE = re.compile(r"\b\d{1,2}\.?[ \t]+(?:de[ \t]+)?[^\W\d_]{3,12}\.?,?[ \t]+(?:de[ \t]+)?\d{4}\b|"
                       r"\b[^\W\d_]{3,12}\.?[ \t]+\d{1,2}\.?,?[ \t]+\d{4}\b")
NAME = r"[^\W\d_][\w.'’-]*(?:[ \t]+(?:(?:and|&)[ \t]+)?[^\W\d_][\w.'’-]*){0,5}"
BYLINE = re.compile(rf"(?:.{{0,40}}\s)?(?:by|von|par|por|di|door|av|af|przez)[ \t]+(?P<name>{NAME})", re.I)
AGENCY_BYLINE = re.compile(rf"(?P<name>{NAME}),[ \t]+(the[ \t]+)?[\w. ]{{0,30}}"
                           r"(writer|reporter|correspondent|editor|staff|contributor|columnist)s?", re.I)
CREDIT = re.compile(r"((photo|image|picture|video|credit|foto|bild|imagen|crédit)s?"
                    r"(\s+\d+\s+of\s+\d+|\s*:|\s+by\b|\s+credit\b).*|"
                    r".*\b(getty images|shutterstock|istock(photo)?|ap photo|afp|reuters|epa)\b\)?)", re.I)
MAX_META_WORDS = 16
URL = re.compile(r"(https?://|www\.)\S+")

# Scores, in words: a line of prose adds its words; a short line of no sentence (a
# menu item, a headline elsewhere) subtracts a little; furniture subtracts a lot, so the
# article's run stops at the share bar or the comment form between it and other prose.
PROSE_WORDS = 10
SHORT_PENALTY = 3
FURNITURE_PENALTY = 12
# Other stories' headlines (and their one-line teasers, at most MAX_TEASER_WORDS) come in runs
# of at least HEADLINE_RUN lines on pages where at least HEADLINE_PAGE_SHARE of the long lines end sentences.
HEADLINE_RUN = 3
MAX_TEASER_WORDS = 50
HEADLINE_PAGE_SHARE = 0.25
# An article's least score (its prose words, less its furniture) before a comment section can end it.
MIN_ARTICLE_SCORE = 80
# Prose in a language with a stoplist has at least this share of its common words.
MIN_STOPWORD_DENSITY = 0.2
# A line repeated this often on the page in shape (digits aside) is a counter or a date stamp.
REPEATED_SHAPE = 3
# How far above the body the byline may stand, and the title above the byline, in lines.
HEADER_WINDOW = 12
TITLE_WINDOW = 8
MAX_TITLE_CHARS = 200
MAX_TITLE_WORDS = 25
# A selection with no more than this many lines above its first paragraph is read as the user chose it.
SELECTION_HEADER = 5


@dataclass(frozen=True)
class Line:
    number: int
    text: str


@dataclass(frozen=True)
class Removal:
    """Adjacent removed lines of one kind (menu, share, related, comments, form...)."""

    kind: str
    lines: tuple[Line, ...]

    @property
    def words(self) -> int:
        return sum(len(line.text.split()) for line in self.lines)


@dataclass(frozen=True)
class Page:
    title: Line | None
    author: str | None
    date: str | None
    body: tuple[Line, ...]  # the article's lines from below the title, removed ones blank
    removals: tuple[Removal, ...]
    lang: str | None


def word_count(text: str) -> int:
    # Chinese, Japanese and Thai run words together: about two characters make a word.
    wide = sum(1 for c in text if "\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" or "\u0e00" <= c <= "\u0e7f")
    return max(len(text.split()), wide // 2)


def is_heading_like(text: str) -> bool:
    return (
        len(text) <= MAX_HEADING_CHARS
        and len(text.split()) <= MAX_HEADING_WORDS
        and not text.rstrip(CLOSERS).endswith(tuple(HEADING_END_PUNCTUATION))
        and not text[0].islower()
        and not (BULLET.match(text) or NUMBERED.match(text))
        and any(c.isalpha() for c in text)
    )


UNPUNCTUATED_SCRIPT_END = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]$")


def ends_sentence(text: str) -> bool:
    return text.rstrip(CLOSERS)[-1:] in END_PUNCTUATION


def stops_mid_sentence(text: str) -> bool:
    """Whether the last paragraph of an article is cut off: it ends with no end punctuation.
    The one rule for the build's W103 and the check's L305. (Thai, Lao, Khmer and
    Myanmar end a sentence with a space, not a mark: their text never counts as cut off.)"""
    text = text.rstrip()
    return bool(text) and not ends_sentence(text) and not UNPUNCTUATED_SCRIPT_END.search(text)


def furniture_kind(text: str) -> str | None:
    """What furniture the line is by its own words, or None."""
    bare = link_text(text)
    for kind, pattern in FURNITURE_LINE.items():
        if pattern.fullmatch(bare):
            return kind
    words = [w for w in re.split(r"[\s|·•,/]+", text.lower().replace("*", " ")) if w]
    if len(words) > 1 and all(w in BUTTON_WORDS for w in words):
        return button_kind(text)
    parts = MENU_SEPARATOR.split(text)
    if len(parts) >= 2 and all(LEGAL_LINK.fullmatch(p.strip()) for p in parts):
        return "legal"
    return None


def link_text(text: str) -> str:
    """The words of a link or button without its decoration: "[ 12 comments ]", "» Read more…", "Related:"."""
    return LINK_DECORATION.sub("", text) or text


def menu_like(text: str) -> bool:
    """Short items between bars: a menu at the top of a page, or a table's row in an article."""
    parts = MENU_SEPARATOR.split(text)
    return len(parts) >= 3 and all(0 < len(p) <= MAX_MENU_ITEM_CHARS for p in parts)


def button_kind(text: str) -> str | None:
    """'share', 'form', 'menu' or 'comments' when the line is only a button or a field label ("Tweet", "Name *")."""
    words = [w for w in re.split(r"[\s|·•,/]+", text.lower().replace("*", " ")) if w]
    if words and len(words) <= 40 and all(w in BUTTON_WORDS for w in words):
        return "share" if {"tweet", "share", "facebook", "pin", "twitter"} & set(words) else "form"
    for kind, pattern in FURNITURE_NEAR.items():
        if pattern.fullmatch(text.strip(" *")):
            return kind
    return None


def shape(text: str) -> str:
    return re.sub(r"\d+", "0", text.casefold())


def find_date(text: str, lang: str | None) -> str | None:
    """The first date in the text, as written, or None."""
    numeric = DATE.search(text)
    if numeric:
        return numeric[0]
    for match in WORD_DATE.finditer(text):
        if is_date(match[0], lang):
            return match[0]
    return None


def is_date(text: str, lang: str | None) -> bool:
    import dateparser  # loads its locales on first use: only pasted text pays for it

    settings = {"STRICT_PARSING": True, "REQUIRE_PARTS": ["day", "month", "year"]}
    try:
        return dateparser.parse(text, languages=[lang] if lang else None, settings=settings) is not None
    except ValueError:  # a language dateparser does not know: try them all
        return dateparser.parse(text, settings=settings) is not None


def byline_and_date(text: str, lang: str | None = None) -> tuple[str | None, str | None] | None:
    """(author, date) when the line is a byline or a date line, else None."""
    if len(text.split()) > MAX_META_WORDS:
        return None
    date = find_date(text, lang)
    parts = [p.strip() for p in re.split(r"\s[|·•—–/]\s|\s{2,}", text) if p.strip()]
    author = None
    for part in parts:
        match = (BYLINE.fullmatch(part) or AGENCY_BYLINE.fullmatch(part)
                 or BYLINE.fullmatch(part.split(",")[0]))
        if match and match["name"][0].isupper():
            name = (DATE.split(match["name"])[0].split(date)[0] if date else match["name"]).strip(" ,")
            author = re.split(r"\s+(?:on|am|le|el|il|op|em|updated|published)\s", name, maxsplit=1, flags=re.I)[0]
            author = author.strip(" ,") or None
            break
    if author is None and date is None:
        return None
    if author is None and len(text.split()) > 10:
        return None  # a sentence that mentions a date
    return author, date


def find_article(lines: list[Line], lang: str | None = None) -> Page:
    """The article in the pasted lines: its title, byline and date, body, and what was removed."""
    content = [line for line in lines if line.text]
    lang = lang or language.detect("\n".join(line.text for line in content))
    stop = language.stopwords(lang)
    texts = [line.text for line in content]
    kinds = line_kinds(texts)
    start, end = article_span(texts, kinds, stop, lang)
    header = title_block(texts, kinds, start, end, lang)
    removed = removed_lines(texts, kinds, header, end)
    title_index, meta = header.title_index, header.meta

    kept_numbers = {content[i].number for i in range(len(content)) if i not in removed and i not in meta}
    if title_index is not None:
        kept_numbers.discard(content[title_index].number)
    title = content[title_index] if title_index is not None else None
    below = title.number if title is not None else 0
    body = tuple(Line(line.number, line.text if line.number in kept_numbers else "")
                 for line in lines if line.number > below)
    return Page(title=title, author=header.author, date=header.date, body=body,
                removals=tuple(group_removals(content, removed)), lang=lang)


def line_kinds(texts: list[str]) -> list[str | None]:
    """The kind of furniture each line is (menu, share, related...), None for what may be prose."""
    exact = Counter(t.casefold() for t in texts)
    shapes = Counter(shape(t) for t in texts)
    kinds: list[str | None] = []
    for text in texts:
        kind = furniture_kind(text)
        words = word_count(text)
        # Article paragraphs are not said twice; a page's menus, teasers and dialogs often are.
        if kind is None and (exact[text.casefold()] >= 2 or words <= 8 and shapes[shape(text)] >= REPEATED_SHAPE):
            kind = "repeated"
        kinds.append(kind)
    # One button or field label ("Facebook", "Website") is furniture beside others, a word elsewhere;
    # so are values between bars, a menu at the top of a page but a table's row in an article.
    # A pass each way lets such a run grow from the furniture it touches, in linear time.
    for order in (range(len(texts)), range(len(texts) - 1, -1, -1)):
        for i in order:
            if kinds[i] is not None:
                continue
            near = [j for j in (i - 1, i + 1) if 0 <= j < len(texts)]
            buttons = button_kind(texts[i])
            if buttons and any(kinds[j] or button_kind(texts[j]) for j in near):
                kinds[i] = buttons
            elif menu_like(texts[i]) and any(kinds[j] for j in near):
                kinds[i] = "menu"
    return kinds


def article_span(texts: list[str], kinds: list[str | None], stop: frozenset[str],
                 lang: str | None) -> tuple[int, int]:
    """The first and last line of the article's body: the run of lines with the best score."""
    scores = [line_score(text, word_count(text), kind, stop) for text, kind in zip(texts, kinds, strict=True)]
    headlines = headline_runs(texts, kinds)
    scores = [min(score, -SHORT_PENALTY) if i in headlines else score for i, score in enumerate(scores)]

    stops = frozenset(i for i, kind in enumerate(kinds) if kind == "comments" or COMMENT_FORM.fullmatch(texts[i]))
    start, end = best_span(scores, stops)
    if start is None:
        # No prose: a note, kept whole.
        start, end = 0, len(texts) - 1
    while end + 1 < len(texts) and kinds[end + 1] is None and continues_article(texts[end + 1], stop):
        end += 1
    # A date line can look like a list item ("5. März 2024") and start the run: it is the title block's.
    while start < end and byline_and_date(texts[start], lang):
        start += 1
    return start, end


@dataclass(frozen=True)
class TitleBlock:
    """What stands above the body: the title's line, bylines and dates, picture credits."""

    title_index: int | None
    meta: dict[int, tuple[str | None, str | None]]  # line -> (author, date)
    credits: set[int]
    author: str | None
    date: str | None
    first_kept: int  # the first line that may belong to the body


def title_block(texts: list[str], kinds: list[str | None], start: int, end: int, lang: str | None) -> TitleBlock:
    """The title block: the title, then byline, date and picture credits, then the body."""
    selection = not any(kinds[:start]) and start <= SELECTION_HEADER
    meta: dict[int, tuple[str | None, str | None]] = {}
    credits: set[int] = set()
    for i in range(start - 1, max(-1, start - 1 - HEADER_WINDOW), -1):
        found = byline_and_date(texts[i], lang)
        if found:
            meta[i] = found
        elif CREDIT.fullmatch(texts[i]) and len(texts[i].split()) <= MAX_META_WORDS:
            credits.add(i)
    author = next((a for i, (a, _) in sorted(meta.items()) if a), None)
    date = next((d for i, (_, d) in sorted(meta.items()) if d), None)
    if selection:
        title_index = next((i for i in range(start) if i not in meta and i not in credits), None)
        if title_index is not None and not is_title_like(texts[title_index]):
            title_index = None
        if title_index is None and start == 0 and end > 0 and is_title_like(texts[0]):
            title_index, start = 0, 1
    else:
        title_index = choose_title(texts, kinds, min(meta, default=start), meta, credits)
    # In a selection the lines under the title are the user's; on a whole page, what stands between
    # the title block and the first paragraph is a share bar, a caption or a kicker.
    first_kept = title_index + 1 if selection and title_index is not None else start
    return TitleBlock(title_index, meta, credits, author, date, first_kept)


def removed_lines(texts: list[str], kinds: list[str | None], header: TitleBlock, end: int) -> dict[int, str]:
    """Each line left out of the handout, with the kind of furniture it was."""
    title_key = texts[header.title_index].casefold() if header.title_index is not None else None
    removed: dict[int, str] = {}
    section = None
    for i, text in enumerate(texts):
        if i == header.title_index or i in header.meta:
            continue
        kind = kinds[i]
        if title_key is not None and text.casefold() == title_key:
            removed[i] = "title-copy"
        elif i in header.credits or (header.first_kept <= i <= end and CREDIT.fullmatch(text)
                                     and len(text.split()) <= MAX_META_WORDS):
            removed[i] = "credit"
        elif i < header.first_kept:
            removed[i] = kind if kind not in (None, "repeated") else "menu"
        elif i > end:
            # Below the article, what a heading ("Related stories", "12 comments") begins runs on.
            if kind not in (None, "repeated"):
                section = kind if kind in ("related", "comments") else section
                removed[i] = kind
            else:
                removed[i] = section or ("related" if is_heading_like(text) else "other")
        elif kind is not None and kind != "repeated":
            removed[i] = kind
    return removed


def is_title_like(text: str) -> bool:
    return (len(text) <= MAX_TITLE_CHARS and len(text.split()) <= MAX_TITLE_WORDS and "\t" not in text
            and not text.rstrip(CLOSERS).endswith(tuple(HEADING_END_PUNCTUATION)) and not text[0].islower()
            and sum(c.isalpha() for c in text) >= 3 and not (BULLET.match(text) or NUMBERED.match(text)))


def choose_title(texts: list[str], kinds: list[str | None], above: int, meta: dict, credits: set[int]) -> int | None:
    """The page's headline: the fullest heading-like line a little above the byline (or the body)."""
    best, best_score = None, 0.0
    exact = Counter(t.casefold() for t in texts)
    for distance, i in enumerate(range(above - 1, max(-1, above - 1 - TITLE_WINDOW), -1)):
        if (i in meta or i in credits or kinds[i] not in (None, "repeated") or not is_title_like(texts[i])
                or menu_like(texts[i])):  # a site's menu, however many words it has
            continue
        # Headlines are several words, and pages often print theirs twice (breadcrumb, heading).
        score = min(len(texts[i].split()), 15) + (3 if exact[texts[i].casefold()] >= 2 else 0) - 0.3 * distance
        if score > best_score:
            best, best_score = i, score
    return best


def headline_runs(texts: list[str], kinds: list[str | None]) -> set[int]:
    """Lines in runs of headlines: 3 or more lines in a row, none of them furniture, that end no sentence.

    Lists of other stories ("Most popular", "Trending") are such runs, with or
    without a heading; a list the article introduces ends its introduction with
    a colon. Only on pages whose own prose ends its sentences: in Thai, say, it does not.
    """
    long = [t for t in texts if word_count(t) >= PROSE_WORDS]
    if sum(1 for t in long if ends_sentence(t)) < HEADLINE_PAGE_SHARE * len(long):
        return set()
    found: set[int] = set()
    run: list[int] = []
    for i, text in enumerate(texts + ["."]):
        if (i < len(texts) and kinds[i] in (None, "repeated") and not ends_sentence(text) and not text.endswith(":")
                and word_count(text) <= MAX_TEASER_WORDS and not (BULLET.match(text) or NUMBERED.match(text))):
            run.append(i)
            continue
        if len(run) >= HEADLINE_RUN and not (run[0] > 0 and texts[run[0] - 1].endswith(":")):
            found.update(run)
        run = []
    return found


def line_score(text: str, words: int, kind: str | None, stop: frozenset[str]) -> float:
    if kind is not None:
        return -(FURNITURE_PENALTY + words)
    # A list item, a table row or a link the author wrote out: the article's, not a menu's,
    # but no proof of prose either.
    if BULLET.match(text) or NUMBERED.match(text) or "\t" in text or URL.fullmatch(text):
        return max(0, words / 4)
    if stop:
        common = sum(1 for w in text.split() if w.strip(".,;:!?\"'()[]«»“”‘’").casefold() in stop)
        if common < MIN_STOPWORD_DENSITY * words:
            return -SHORT_PENALTY
    if words >= PROSE_WORDS:
        return words
    if ends_sentence(text) and words >= 5:
        return words
    return -SHORT_PENALTY


def best_span(scores: list[float], stops: frozenset[int] = frozenset()) -> tuple[int | None, int]:
    """The first and last index of the run of lines with the highest total score (Kadane's algorithm).

    Comments follow the article they discuss: once an article has been found,
    the search ends at a comment section's first line (`stops`), however much
    prose the comments hold.
    """
    best, best_start, best_end = 0.0, None, -1
    total, start = 0.0, 0
    for i, score in enumerate(scores):
        if i in stops and best >= MIN_ARTICLE_SCORE:
            break
        if total <= 0:
            total, start = 0.0, i
        total += score
        if total > best:
            best, best_start, best_end = total, start, i
    return best_start, best_end


def continues_article(text: str, stop: frozenset[str]) -> bool:
    """Whether a line right after the article's last paragraph is still the article ('See the photos:')."""
    if not (ends_sentence(text) or text.endswith(":")):
        return False
    return not stop or any(w.casefold() in stop for w in text.split())


def group_removals(content: list[Line], removed: dict[int, str]) -> list[Removal]:
    groups: list[Removal] = []
    previous = None
    for i in sorted(removed):
        kind = removed[i]
        if groups and previous == i - 1 and groups[-1].kind == kind:
            groups[-1] = Removal(kind, groups[-1].lines + (content[i],))
        else:
            groups.append(Removal(kind, (content[i],)))
        previous = i
    return groups
