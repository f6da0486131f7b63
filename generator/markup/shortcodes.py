"""GitHub's emoji shortcodes (:rocket:, :+1:), as the emoji they name.

Shared by the Markdown stage (the body's text) and the reader (a title taken
from the first heading); the emoji package, which knows the names and keeps
them in step with Unicode, is imported only when a text has a colon.
"""

from __future__ import annotations

import re

# A shortcode stands apart from the words and numbers around it: not "10:30:00" nor "a:b:c".
SHORTCODE = re.compile(r"(?<![\w:]):[a-z0-9_+\-]+:(?![\w:])")


def with_emoji(text: str) -> str:
    """`text` with each shortcode it holds written as its emoji (unknown names stay as written)."""
    if ":" not in text:
        return text
    import emoji

    return SHORTCODE.sub(lambda code: emoji.emojize(code[0], language="alias"), text)
