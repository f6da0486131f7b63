"""The language a text is written in, and that language's most common words.

Language identification is py3langid's (a naive Bayes model over byte n-grams
that ships inside the wheel, so it works offline); the common words are
jusText's stoplists, made from Wikipedia for about a hundred languages. A
line of prose is dense with such words in any language; a menu, a share bar
or a list of tags is not.
"""

from __future__ import annotations

import functools

# py3langid's ISO 639-1 codes -> the names jusText files its stoplists under.
STOPLIST_NAMES = {
    "af": "Afrikaans", "an": "Aragonese", "ar": "Arabic", "az": "Azerbaijani", "be": "Belarusian",
    "bg": "Bulgarian", "bn": "Bengali", "br": "Breton", "bs": "Bosnian", "ca": "Catalan", "cs": "Czech",
    "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English", "eo": "Esperanto",
    "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "fy": "West_Frisian", "ga": "Irish", "gl": "Galician", "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi",
    "hr": "Croatian", "ht": "Haitian", "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian", "ig": "Igbo",
    "is": "Icelandic", "it": "Italian", "jv": "Javanese", "ka": "Georgian", "kk": "Kazakh", "kn": "Kannada",
    "ko": "Korean", "ku": "Kurdish", "ky": "Kyrgyz", "la": "Latin", "lb": "Luxembourgish", "lt": "Lithuanian",
    "lv": "Latvian", "mk": "Macedonian", "ml": "Malayalam", "mr": "Marathi", "ms": "Malay", "mt": "Maltese",
    "ne": "Nepali", "nl": "Dutch", "nn": "Norwegian_Nynorsk", "no": "Norwegian_Bokmal", "oc": "Occitan",
    "pl": "Polish", "pt": "Portuguese", "qu": "Quechua", "ro": "Romanian", "ru": "Russian", "sk": "Slovak",
    "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil",
    "te": "Telugu", "tk": "Turkmen", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu",
    "uz": "Uzbek", "vi": "Vietnamese", "vo": "Volapuk", "wa": "Walloon", "yo": "Yoruba",
}
# The identifier needs this much text to tell related languages apart; a page's
# prose is far longer, and reading all of a 5 MB paste would only cost time.
# The longest lines are read: a page's menus (often in English) come first.
SAMPLE_CHARS = 20_000
# Fewer letters than this say nothing reliable about a language.
MIN_LETTERS = 20


def detect(text: str) -> str | None:
    """The BCP-47 primary tag ('en', 'de', 'zh') of the text's language, or None if it has too few letters."""
    sample = "\n".join(sorted(text.splitlines(), key=len, reverse=True))[:SAMPLE_CHARS]
    if sum(c.isalpha() for c in sample) < MIN_LETTERS:
        return None
    import py3langid  # loads its model on first use: only pasted text pays for it

    code, _ = py3langid.classify(sample)
    return None if code == "zxx" else code


@functools.cache
def stopwords(lang: str | None) -> frozenset[str]:
    """The language's most common words, lower-cased; empty when jusText has no list for it."""
    name = STOPLIST_NAMES.get((lang or "").split("-")[0].lower())
    if name is None:
        return frozenset()
    import justext

    return frozenset(justext.get_stoplist(name))
