"""Jinja2 templates filled in for each recipient, in a sandbox bounded in time and size.

The message (subject and body) and a personal article are written by users
and filled in with the recipients' columns, once per recipient: a template
must not be able to run for ever or fill the memory. Jinja's sandbox stops
access to Python's internals; BoundedEnvironment also caps range() and the
results of *, +, ** and %, the text a template makes, and (time_limit) the
time it may take, in any thread.
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2
import jinja2.sandbox
from jinja2.exceptions import SecurityError

from ..config import MEGABYTE, MailSettings
from ..errors import HandoutError, MailError, TemplateTimeout
from ..read.load import FRONT_MATTER, front_matter_mapping, read_text

# Numbers a range() may give, and items (characters of a string, members of a list)
# that one *, + or % may make: far over what a message or a handout needs.
MAX_RANGE = 10_000
MAX_ITEMS = 1_000_000
# Characters a template may write in all: a handout article's own limit (5 MB).
MAX_TEXT = 5 * MEGABYTE
# Digits a power (**) may have.
MAX_DIGITS = 10_000
# A printf-style width or precision of seven digits or more ('%9999999d').
HUGE_WIDTH = re.compile(r"%[-+ #0]*(\d{7,}|\d*\.\d{7,})")
TEMPLATE_SECONDS = MailSettings.template_seconds


def bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() of {len(numbers)} numbers is over the limit of {MAX_RANGE}")
    return numbers


class BoundedEnvironment(jinja2.sandbox.SandboxedEnvironment):
    """Jinja's sandbox, with range() and the operators that can make huge values capped."""

    intercepted_binops = frozenset({"*", "+", "**", "%"})

    def __init__(self, **options):
        super().__init__(**options)
        self.globals["range"] = bounded_range

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for items, times in ((left, right), (right, left)):
                if isinstance(items, (str, list, tuple)) and isinstance(times, int) and len(items) * times > MAX_ITEMS:
                    raise SecurityError(f"a {type(items).__name__} of {len(items)} times {times} would hold"
                                        f" {len(items) * times} items, over the limit of {MAX_ITEMS}")
        elif operator == "+":
            if (isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple))
                    and len(left) + len(right) > MAX_ITEMS):
                raise SecurityError(f"joining {len(left)} and {len(right)} items is over the limit of {MAX_ITEMS}")
        elif operator == "**":
            if (isinstance(left, (int, float)) and isinstance(right, (int, float)) and abs(left) > 1
                    and right * math.log10(abs(left)) > MAX_DIGITS):
                raise SecurityError(f"{left} ** {right} has more than {MAX_DIGITS} digits")
        elif operator == "%" and isinstance(left, str) and (huge := HUGE_WIDTH.search(left)):
            raise SecurityError(f"the format '{huge[0]}' asks for a width over {MAX_ITEMS}")
        return super().call_binop(context, operator, left, right)


ENVIRONMENT = BoundedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


def compile_template(text: str, path: Path, first_line: int = 1) -> jinja2.Template:
    try:
        return ENVIRONMENT.from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        line = first_line + exc.lineno - 1 if exc.lineno else None
        raise MailError(f"template error: {exc.message}", path, line) from None


@contextlib.contextmanager
def time_limit(seconds: float, timed_out: Callable[[], BaseException]):
    """Stop a template that runs past `seconds` with the error `timed_out()` makes, in
    whichever thread it runs (the command line's main thread, the web page's workers).

    Jinja compiles a template to Python code of its own (named "<template>"): a trace
    function on this thread looks at the clock at each line of that code, loops
    included, and raises there once the time is up. The rest of the thread's code is
    not traced, and a single long step of Python's own (a huge join) is bounded by the
    size limits instead. A timer signal would stop it in the main thread only.
    """
    deadline = time.monotonic() + seconds

    def each_line(frame, event, arg):
        if time.monotonic() > deadline:
            raise timed_out()
        return each_line

    def each_call(frame, event, arg):
        return each_line if frame.f_code.co_filename == "<template>" else None

    previous = sys.gettrace()
    sys.settrace(each_call)
    try:
        yield
    finally:
        sys.settrace(previous)


def fill_in(template: jinja2.Template, context: dict, path: Path, seconds: float, row: int,
            first_line: int = 1) -> str:
    """The template's text for one recipient (row), within MAX_TEXT characters and `seconds`.

    Anything it raises becomes one MailError naming the file, the row and, where
    Jinja knows it, the line.
    """
    def too_slow() -> TemplateTimeout:
        return TemplateTimeout(f"row {row}: filling in the template took longer than {seconds:g} s"
                         " (a loop too long?) ([mail] template_seconds in handout.toml)", path)

    chunks, size = [], 0
    try:
        with time_limit(seconds, too_slow):
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_TEXT:
                    raise MailError(f"row {row}: the template makes more than {MAX_TEXT} characters", path)
                chunks.append(chunk)
    except HandoutError:
        raise
    except MemoryError:
        raise MailError(f"row {row}: the template needs more memory than there is", path) from None
    except Exception as exc:  # noqa: BLE001 - any error in a user's template is theirs to fix
        line = template_line(exc)
        problem = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
        name = "" if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: "
        raise MailError(f"row {row}: template error: {name}{problem}", path,
                        first_line + line - 1 if line else None) from None
    return "".join(chunks)


def template_line(exc: BaseException) -> int | None:
    """The template's line where `exc` was raised: Jinja puts it in the traceback."""
    line, frame = None, exc.__traceback__
    while frame:
        if frame.tb_frame.f_code.co_filename == "<template>":
            line = frame.tb_lineno
        frame = frame.tb_next
    return line


@dataclass(frozen=True)
class MessageTemplate:
    path: Path
    subject: jinja2.Template
    body: jinja2.Template
    body_first_line: int
    seconds: float = TEMPLATE_SECONDS
    written: tuple[str, str] = ("", "")  # the subject and the body as written

    def __reduce__(self):
        # Compiled templates do not pickle: a worker process that makes messages compiles the text.
        return written_message, (*self.written, self.path, self.seconds, self.body_first_line)


def read_message(path: Path, seconds: float = TEMPLATE_SECONDS) -> MessageTemplate:
    """A message template: Markdown with `subject:` in its front matter."""
    text = read_text(path)
    match = FRONT_MATTER.match(text)
    front, _ = front_matter_mapping(match["yaml"] or "", path, MailError) if match else ({}, {})
    if match is None or not str(front.get("subject", "")).strip():
        raise MailError("the message needs front matter with a subject: line", path, 1)
    first_line = text[: match.end()].count("\n") + 1
    return written_message(str(front["subject"]), text[match.end():], path, seconds, first_line)


def written_message(subject: str, body: str, path: Path, seconds: float = TEMPLATE_SECONDS,
                    body_first_line: int = 1) -> MessageTemplate:
    """A message template from its subject and body as written (the web page's fields);
    `path` names it in messages."""
    if not subject.strip():
        raise MailError("the message needs a subject", path)
    return MessageTemplate(path, compile_template(subject, path), compile_template(body, path, body_first_line),
                           body_first_line, seconds, (subject, body))


def render_for(template: MessageTemplate, fields: dict[str, str], row: int) -> tuple[str, str]:
    """(subject, Markdown body) for one recipient's columns."""
    context = {**fields, "recipient": fields}
    subject = " ".join(fill_in(template.subject, context, template.path, template.seconds, row).split())
    body = fill_in(template.body, context, template.path, template.seconds, row, template.body_first_line)
    return subject, body
