"""Stage 3: an article and its HTML body placed in a theme's Jinja2 template.

Templates are looked up first in the working project's templates/ folder (so
a user restyles by overriding one file, not by forking), then in its own
themes/, then in the built-in themes. See themes.py for how themes extend
each other.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from .. import __version__
from ..article import Article, Metadata, language_of, text_direction
from ..config import Defaults
from ..errors import ThemeError
from . import fonts, themes

if TYPE_CHECKING:
    from ..markup.html import Body

DEFAULT_THEME = "handout"
DEFAULT_LANG = "en"
PAGE_SIZES = {"a4": "A4", "letter": "letter"}
TEMPLATE_MARKUP = re.compile(r"\{[{%]")
# The page of a booklet folded from a sheet of the paper: what `--fit N --booklet` lays out on.
HALF_PAPERS = {"a4": "a5", "letter": "half-letter"}
HALF_PAGE_SIZES = {"a5": "A5", "half-letter": "5.5in 8.5in"}
HALF = 0.7  # as wide as the whole page
# Signs the renderer prints that are in no article: the bullets of lists nested one, two and
# three deep (WeasyPrint's disc, circle and square). Found fonts as the article's own characters
# are, so they print from handout's fonts, never from whatever the machine falls back to.
LIST_MARKERS = "\u2022\u25e6\u25aa"


@dataclass(frozen=True)
class Page:
    """The complete HTML of one handout, ready for the PDF stage."""

    html: str
    base_url: str
    theme: str
    paper: str
    timestamp: str = ""  # the PDF's dates, ISO 8601
    css: str = ""  # the theme's stylesheet
    # @font-face rules for the article's other scripts, apart from the theme's stylesheet:
    # that one is then the same for every article in the Latin, Greek and Cyrillic
    # scripts, and parsed once per process.
    fallback_css: str = ""


class Renderer:
    """The themes of one project, read once for a whole build.

    A new Renderer sees template files added since the last.
    """

    def __init__(self, project_dir: Path, defaults: Defaults | None = None, extra_css: Path | None = None,
                 paper: str = "a4"):
        self.project_dir = project_dir.resolve()
        self.defaults = defaults or Defaults()
        # The paper where neither the build, the front matter nor handout.toml names one: the system's.
        self.paper = paper
        self.extra_css = extra_css
        self.template_roots = themes.template_roots(self.project_dir)
        self.themes = themes.discover(self.project_dir)
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(root) for root in self.template_roots]),
            autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
            undefined=jinja2.StrictUndefined,
        )
        self.template_names = set(self.env.list_templates())

    def check_theme(self, theme: str, source: Path | None = None) -> list[themes.Theme]:
        return themes.lineage(self.themes, theme, source)

    def template_file(self, theme: str, name: str, source: Path | None = None) -> Path | None:
        """The file of the theme's template `name`: its own or its nearest ancestor's; None if none has one."""
        return next((t.folder / name for t in self.check_theme(theme, source)
                     if f"{t.name}/{name}" in self.template_names), None)

    def metadata(self, meta: Metadata) -> Metadata:
        """Front matter, with the project's defaults where it is silent."""
        return dataclasses.replace(
            meta,
            author=meta.author or self.defaults.author,
            lang=meta.lang or self.defaults.lang or DEFAULT_LANG,
            cover=meta.cover if meta.cover is not None else bool(self.defaults.cover),
            toc=meta.toc if meta.toc is not None else bool(self.defaults.toc),
            # Still a template ({{ recipient.name }}): for handout mail to fill in, not to print.
            personal=None if TEMPLATE_MARKUP.search(meta.personal or "") else meta.personal,
        )

    def render(self, article: Article, body: Body, theme: str | None = None, paper: str | None = None,
               half_size: bool = False) -> Page:
        """Fill the theme's article.html; options given here win over front matter and handout.toml.
        `half_size`: on pages half the paper, as a booklet folded from it has."""
        return self.page(article, "article.html", {"body": body}, article.body, theme, paper, half_size)

    def render_stamps(self, article: Article, lines: tuple[str, ...], theme: str | None = None,
                      paper: str | None = None) -> Page:
        """Fill the theme's stamps.html: each line drawn apart (a form of its own), where
        article.html prints `personal:` on the article's first page, and nothing else."""
        return self.page(article, "stamps.html", {"lines": lines}, "\n".join(lines), theme, paper)

    def page(self, article: Article, template: str, own: dict, text: str, theme: str | None,
             paper: str | None, half_size: bool = False) -> Page:
        """The theme's `template` and stylesheet filled for the article, with `own` values
        added; `text` is what the page prints beside the front matter (for its fonts)."""
        from ..markup.html import code_css
        theme = theme or article.meta.theme or self.defaults.theme or DEFAULT_THEME
        paper = (paper or article.meta.paper or self.defaults.paper or self.paper).lower()
        lineage = self.check_theme(theme, article.source)
        meta = self.metadata(article.meta)
        lang = meta.lang or DEFAULT_LANG  # metadata() has filled it in
        timestamp = build_timestamp(article)
        labels = labels_for(lang)
        footer_budget = round(themes.footer_title_chars(lineage) * (HALF if half_size else 1.0))
        # Fonts for the article's other scripts (and its labels'): their families go into
        # the theme's font lists.
        fallback_fonts = fonts.fallback_fonts(fonts.shapeable(" ".join(map(str, (
            text, LIST_MARKERS, *vars(meta).values(), *vars(labels).values())))), lang)
        context = dict(
            meta=meta,
            **own,
            paper=paper,
            page_size=HALF_PAGE_SIZES[HALF_PAPERS[paper]] if half_size else PAGE_SIZES[paper],
            footer_title=shortened(meta.title, footer_budget),
            code_css=code_css(),
            # --css: linked after the theme's styles, so it wins, and its url()s resolve beside it.
            extra_stylesheets=[self.extra_css.resolve().as_uri()] if self.extra_css else [],
            font_faces=fonts.font_face_css(fonts.shared_fonts()),
            fallback_fonts=fonts.fallback_stack(fallback_fonts),
            direction=text_direction(lang),
            labels=labels,
            page_numbers=labels.page_numbers_css(),
            organisation=self.defaults.organisation,
            logo=self.defaults.logo.as_uri() if self.defaults.logo else None,
            qr_code=qr_code(meta.source_url),
            timestamp=timestamp,
            generator=f"handout {__version__}",
            theme=theme,
        )
        try:
            chosen = self.env.select_template([f"{t.name}/{template}" for t in lineage])
            html = fonts.shapeable(chosen.render(context))
            # The lineage's style.css files, parent first, as one stylesheet apart from the
            # HTML: the PDF stage parses each different one once per process, not per article.
            css = "\n".join(
                self.env.get_template(f"{t.name}/style.css").render(context)
                for t in reversed(lineage) if f"{t.name}/style.css" in self.template_names
            )
        except jinja2.TemplateSyntaxError as exc:
            raise ThemeError(f"template error: {exc.message}", exc.filename or exc.name, exc.lineno) from None
        except jinja2.TemplateNotFound as exc:
            raise ThemeError(f"template not found: {exc.name}", *self.template_frame(exc)) from None
        except Exception as exc:  # noqa: BLE001 - any failure inside a user's template is theirs to fix
            where = self.template_frame(exc)
            if where[0] is None:
                raise
            raise ThemeError(f"template error: {exc}", *where) from None
        return Page(html=html, base_url=article.source.parent.resolve().as_uri() + "/", theme=theme, paper=paper,
                    timestamp=timestamp, css=css, fallback_css=fonts.font_face_css(fallback_fonts))

    def template_frame(self, exc: BaseException) -> tuple[str | None, int | None]:
        """The template file and line where a rendering error happened.

        Jinja2 rewrites tracebacks so that frames inside templates carry the
        template's file name and line; the innermost such frame is the culprit.
        """
        roots = [str(root.resolve()) for root in self.template_roots]
        found: tuple[str | None, int | None] = (None, None)
        tb = exc.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if any(filename.startswith(root) for root in roots):
                found = (filename, tb.tb_lineno)
            tb = tb.tb_next
        return found


def shortened(title: str, budget: int) -> str:
    """The title within `budget` narrow characters (a wide one, as in Chinese, counts two), cut
    after a word where one ends in its last third, and marked with an ellipsis."""
    widths = [2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in title]
    if sum(widths) <= budget:
        return title
    end, used = 0, 0
    while used + widths[end] <= budget - 1:
        used, end = used + widths[end], end + 1
    word_end = title.rfind(" ", 0, end + 1)
    if word_end > end * 2 // 3:
        end = word_end
    return title[:end].rstrip(" ,;:-–—") + "…"


@dataclass(frozen=True)
class Labels:
    """The words a handout adds to the article's, in the article's language."""

    page_of: str  # {page} and {pages} stand for the numbers
    contents: str
    source: str
    figure: str
    # The titles of callouts written without one, in markup.html's CALLOUTS order.
    callouts: tuple[str, str, str, str, str]

    def page_numbers_css(self) -> str:
        """page_of as the value of a CSS content property, with the page counters in it."""
        counters = {"{page}": "counter(page)", "{pages}": "counter(pages)"}
        parts = re.split(r"(\{page\}|\{pages\})", self.page_of)
        return " ".join(counters.get(part) or json.dumps(part, ensure_ascii=False) for part in parts if part)

    def callout_titles(self) -> list[tuple[str, str]]:
        """(callout name, its title): for the theme's stylesheet, which prints the title of a
        callout that names none."""
        from ..markup.html import CALLOUTS

        return list(zip(CALLOUTS, self.callouts, strict=True))


LABELS = {
    "en": Labels("page {page} of {pages}", "Contents", "Source", "Figure",
                 ("Note", "Tip", "Important", "Warning", "Caution")),
    "de": Labels("Seite {page} von {pages}", "Inhalt", "Quelle", "Abbildung",
                 ("Hinweis", "Tipp", "Wichtig", "Warnung", "Vorsicht")),
    "fr": Labels("page {page} sur {pages}", "Sommaire", "Source", "Figure",
                 ("Remarque", "Astuce", "Important", "Avertissement", "Attention")),
    "es": Labels("página {page} de {pages}", "Índice", "Fuente", "Figura",
                 ("Nota", "Consejo", "Importante", "Advertencia", "Precaución")),
    "it": Labels("pagina {page} di {pages}", "Indice", "Fonte", "Figura",
                 ("Nota", "Suggerimento", "Importante", "Avvertenza", "Attenzione")),
    "pt": Labels("página {page} de {pages}", "Sumário", "Fonte", "Figura",
                 ("Nota", "Dica", "Importante", "Aviso", "Cuidado")),
    "nl": Labels("pagina {page} van {pages}", "Inhoud", "Bron", "Figuur",
                 ("Opmerking", "Tip", "Belangrijk", "Waarschuwing", "Let op")),
    "pl": Labels("strona {page} z {pages}", "Spis treści", "Źródło", "Rysunek",
                 ("Uwaga", "Wskazówka", "Ważne", "Ostrzeżenie", "Przestroga")),
    "ru": Labels("страница {page} из {pages}", "Содержание", "Источник", "Рисунок",
                 ("Примечание", "Совет", "Важно", "Предупреждение", "Осторожно")),
    "uk": Labels("сторінка {page} з {pages}", "Зміст", "Джерело", "Рисунок",
                 ("Примітка", "Порада", "Важливо", "Попередження", "Обережно")),
    "el": Labels("σελίδα {page} από {pages}", "Περιεχόμενα", "Πηγή", "Εικόνα",
                 ("Σημείωση", "Συμβουλή", "Σημαντικό", "Προειδοποίηση", "Προσοχή")),
    "tr": Labels("sayfa {page} / {pages}", "İçindekiler", "Kaynak", "Şekil",
                 ("Not", "İpucu", "Önemli", "Uyarı", "Dikkat")),
    "vi": Labels("trang {page} / {pages}", "Mục lục", "Nguồn", "Hình",
                 ("Ghi chú", "Mẹo", "Quan trọng", "Cảnh báo", "Thận trọng")),
    "ar": Labels("صفحة {page} من {pages}", "المحتويات", "المصدر", "شكل",
                 ("ملاحظة", "نصيحة", "مهم", "تحذير", "تنبيه")),
    "he": Labels("עמוד {page} מתוך {pages}", "תוכן העניינים", "מקור", "איור",
                 ("הערה", "טיפ", "חשוב", "אזהרה", "זהירות")),
    "fa": Labels("صفحه {page} از {pages}", "فهرست مطالب", "منبع", "شکل",
                 ("یادداشت", "نکته", "مهم", "هشدار", "احتیاط")),
    "zh": Labels("第 {page} 页，共 {pages} 页", "目录", "来源", "图",
                 ("注意", "提示", "重要", "警告", "小心")),
    "zh-hant": Labels("第 {page} 頁，共 {pages} 頁", "目錄", "來源", "圖",
                 ("注意", "提示", "重要", "警告", "小心")),
    "ja": Labels("{page} / {pages} ページ", "目次", "出典", "図",
                 ("注記", "ヒント", "重要", "警告", "注意")),
    "ko": Labels("{page} / {pages} 페이지", "목차", "출처", "그림",
                 ("참고", "팁", "중요", "경고", "주의")),
}


def labels_for(lang: str) -> Labels:
    """The labels of a language tag; English when unknown."""
    return LABELS.get(language_of(lang), LABELS["en"])


def qr_code(url: str | None) -> str | None:
    """An SVG QR code of the article's source, so a printed page leads back to it."""
    if not url:
        return None
    import segno  # only articles with a source need it

    return segno.make(url, error="m").svg_data_uri(scale=1, border=0, dark="#1a1a1a")


def build_timestamp(article: Article) -> str:
    """The PDF's dates: SOURCE_DATE_EPOCH when set, else the article's own date, else its file's time.

    The first two make the same article give the same PDF on any machine.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        moment = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
    else:
        try:
            day = datetime.date.fromisoformat((article.meta.date or "")[:10])
            moment = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
        except ValueError:
            moment = datetime.datetime.fromtimestamp(int(article.source.stat().st_mtime), datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
