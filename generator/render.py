"""Stage 3: an article and its HTML body placed in a theme's Jinja2 template.

Templates are looked up first in the working project's templates/ folder, then
in the built-in ones, so a user restyles by overriding one file, not by forking.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

import jinja2

from . import __version__, fonts
from .article import Article
from .errors import ThemeError
from .markup import Body

DEFAULT_THEME = "handout"
DEFAULT_PAPER = "a4"
PAGE_SIZES = {"a4": "A4", "letter": "letter"}


def builtin_templates() -> Path:
    # Installed, the themes ship inside the package (see pyproject.toml);
    # in a source checkout they stand beside it.
    packaged = Path(__file__).parent / "templates"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "templates"


@dataclass(frozen=True)
class Page:
    """The complete HTML of one handout, ready for the PDF stage."""

    html: str
    base_url: str
    theme: str
    paper: str


class Renderer:
    """The themes of one project, read once for a whole build.

    Templates are looked up first in the project's templates/ folder, then in
    the built-in ones. A new Renderer sees template files added since the last.
    """

    def __init__(self, project_dir: Path):
        self.project_dir = project_dir.resolve()
        self.template_dirs = [self.project_dir / "templates", builtin_templates()]
        self.themes = sorted({
            theme.name
            for root in self.template_dirs if root.is_dir()
            for theme in root.iterdir() if (theme / "article.html").is_file()
        })
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(root) for root in self.template_dirs]),
            autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
            undefined=jinja2.StrictUndefined,
        )

    def check_theme(self, theme: str, source: Path | None = None) -> None:
        if theme not in self.themes:
            raise ThemeError(f"unknown theme '{theme}' (known themes: {', '.join(self.themes)})", source)

    def render(self, article: Article, body: Body, theme: str | None = None, paper: str | None = None) -> Page:
        """Fill the theme's article.html; options given here win over front matter."""
        theme = theme or article.meta.theme or DEFAULT_THEME
        paper = (paper or article.meta.paper or DEFAULT_PAPER).lower()
        self.check_theme(theme, article.source)
        try:
            html = self.env.get_template(f"{theme}/article.html").render(
                meta=article.meta,
                body=body,
                paper=paper,
                page_size=PAGE_SIZES[paper],
                timestamp=build_timestamp(article.source),
                font_faces=fonts.font_face_css(article.body + " ".join(map(str, vars(article.meta).values()))),
                cjk_fonts=fonts.cjk_stack(article.meta.lang),
                generator=f"handout {__version__}",
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
        return Page(html=html, base_url=article.source.parent.resolve().as_uri() + "/", theme=theme, paper=paper)

    def template_frame(self, exc: BaseException) -> tuple[str | None, int | None]:
        """The template file and line where a rendering error happened.

        Jinja2 rewrites tracebacks so that frames inside templates carry the
        template's file name and line; the innermost such frame is the culprit.
        """
        roots = [str(root.resolve()) for root in self.template_dirs]
        found: tuple[str | None, int | None] = (None, None)
        tb = exc.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if any(filename.startswith(root) for root in roots):
                found = (filename, tb.tb_lineno)
            tb = tb.tb_next
        return found


def build_timestamp(source: Path) -> str:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else the article's mtime."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = int(epoch) if epoch and epoch.isdigit() else int(source.stat().st_mtime)
    return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
