"""The handout each recipient gets: one PDF for all, or one built for each.

An article that uses recipient fields (`Prepared for {{ recipient.name }}`)
is filled in for each recipient and built in parallel. Those copies and
their PDFs hold the recipients' data, so they live in a private temporary
folder (mode 0700) that is removed however the run ends (short of SIGKILL,
which leaves it there, private, never in content/).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import yaml

from ..errors import MailError
from ..read.load import EXTENSIONS, FRONT_MATTER, SLUG, read_text, slug_for
from .compose import Handout
from .recipients import Recipient
from .templates import TEMPLATE_SECONDS, compile_template, fill_in

PERSONAL = re.compile(r"\{[{%][^}]*\brecipient\b")


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A folder only this user can read, removed when the block ends, however it ends."""
    folder = Path(tempfile.mkdtemp(prefix="handout-mail-"))  # mode 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def handouts_for(article: Path, recipients: tuple[Recipient, ...], options, workspace: Path,
                 seconds: float = TEMPLATE_SECONDS) -> dict[int, Handout]:
    """Each recipient's handout, by row. Personal ones are built inside `workspace`."""
    from ..build import build

    text = read_text(article)
    if not PERSONAL.search(text):
        (result,) = build([article], options)
        if result.error or not result.output:
            raise result.error or MailError("the handout was not built", article)
        shared = Handout.of(result.output)
        return {recipient.row: shared for recipient in recipients}
    template = compile_template(text, article)
    folder = mirror(article.parent, workspace / "articles")
    copies: dict[int, Path] = {}
    filename = None
    for recipient in recipients:
        personal, slug = with_own_slug(fill_in(template, {"recipient": recipient.fields}, article, seconds,
                                               recipient.row), f"-for-{recipient.row}")
        filename = f"{slug or slug_for(article)}.pdf"
        copies[recipient.row] = folder / f"{article.stem}-for-{recipient.row}{article.suffix}"
        copies[recipient.row].write_text(personal, encoding="utf-8")
    results = build(list(copies.values()), replace(options, output_dir=workspace / "handouts"))
    handouts = {}
    for row, result in zip(copies, results, strict=True):
        if result.error or not result.output:
            problem, line = (result.error.problem, result.error.line) if result.error else ("not built", None)
            raise MailError(f"the handout for row {row}: {problem}", article, line)
        handouts[row] = Handout.of(result.output, filename)
    return handouts


def with_own_slug(text: str, suffix: str) -> tuple[str, str | None]:
    """The article with `suffix` added to the slug its front matter gives (so each
    recipient's copy has a handout of its own), and that slug; or the text as it is
    and None when it gives none (the copy's file name then makes the handout's)."""
    match = FRONT_MATTER.match(text)
    try:
        node = yaml.compose(match["yaml"] or "", Loader=yaml.SafeLoader) if match else None
    except yaml.YAMLError:
        return text, None  # the build names the problem
    if match is None or not isinstance(node, yaml.MappingNode):
        return text, None
    for key, value in node.value:
        if key.value == "slug" and isinstance(value, yaml.ScalarNode) and SLUG.match(str(value.value)):
            start = match.start("yaml") + value.start_mark.index
            end = match.start("yaml") + value.end_mark.index
            return text[:start] + value.value + suffix + text[end:], value.value
    return text, None


def mirror(folder: Path, into: Path) -> Path:
    """A folder in `into` from which relative paths lead where they lead from `folder`:
    links to the entries of `folder` and of each folder above it, up to the working
    directory. A copy of an article placed in it finds its images as the article does."""
    folder, top = folder.resolve(), Path.cwd().resolve()
    if not folder.is_relative_to(top):
        top = folder
    level = top
    for part in (None, *folder.relative_to(top).parts):
        level = level / part if part else level
        inside = into / level.relative_to(top)
        inside.mkdir(parents=True, exist_ok=True)
        for entry in level.iterdir():
            on_the_way = folder.is_relative_to(entry) and entry.is_dir()
            an_article = level == folder and entry.suffix.lower() in EXTENSIONS
            if not on_the_way and not an_article:
                (inside / entry.name).symlink_to(entry)
    return into / folder.relative_to(top)
