"""The language a text is written in, and that language's most common words.

Language identification is py3langid's (a naive Bayes model over byte n-grams
that ships inside the wheel, so it works offline); the common words are
jusText's stoplists, made from Wikipedia for about a hundred languages. A
line of prose is dense with such words in any language; a menu, a share bar
or a list of tags is not.
"""

from __future__ import annotations

import array
import functools
import io
import os
import threading
from pathlib import Path

from ..errors import OutputError
from ..output.files import cache_root, write_atomically

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
    code, _ = identifier().classify(sample)
    return None if code == "zxx" else code


# Held while the identifier is made: two threads asking at once make it once.
MAKING = threading.Lock()
# The model's arrays, each kept in the cache as a .npy file.
MODEL_PARTS = ("ptc", "pc", "classes", "nextmove", "row", "output")


def identifier():
    """py3langid's identifier, made once a process, on first use: only pasted text pays for it.

    Its model ships LZMA-compressed: reading it costs 0.4 s, each process,
    before the first article is converted. Read once, its arrays are kept
    uncompressed in handout's cache (70 MB), which later runs map in 30 ms.
    """
    with MAKING:
        return made_identifier()


@functools.cache
def made_identifier():
    # One thread for NumPy's BLAS, set before NumPy starts it: classifying a text is one small
    # product, and an idle BLAS thread spins on a core the build's workers need.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from py3langid import langid, modelio

    model = langid.MODEL_DIR / langid.MODEL_FILE
    stat = model.stat()
    folder = cache_root() / "language" / f"py3langid-{stat.st_size}-{stat.st_mtime_ns}"
    try:
        ptc, pc, classes, nextmove, row, output = cached_model(folder)
    except (OSError, ValueError):
        ptc, pc, classes, nextmove, row, output = modelio.load_model(model)
        keep_model(folder, dict(zip(MODEL_PARTS, (ptc, pc, classes, nextmove, row, output), strict=True)))
    return langid.LanguageIdentifier(ptc, pc, classes, nextmove, output, tk_row=row)


def cached_model(folder: Path) -> tuple:
    """The model's arrays as keep_model left them: py3langid's tokenizer tables are arrays of the
    standard library (typecodes I and H), the rest NumPy's and lists."""
    import numpy as np

    parts = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in MODEL_PARTS}
    tables = {}
    for name, typecode in (("nextmove", "I"), ("row", "H")):
        tables[name] = array.array(typecode)
        if parts[name].dtype.itemsize != tables[name].itemsize:
            raise ValueError(f"{name}: not the table kept")
        tables[name].frombytes(parts[name].tobytes())
    return (np.asarray(parts["ptc"]), np.asarray(parts["pc"]), parts["classes"].tolist(), tables["nextmove"],
            tables["row"], parts["output"].tolist())


def keep_model(folder: Path, parts: dict) -> None:
    """The model's arrays in the cache, for the next run; a cache that cannot be written is left alone."""
    import numpy as np

    for name, value in parts.items():
        data = io.BytesIO()
        np.save(data, np.asarray(value), allow_pickle=False)
        try:
            write_atomically(folder / f"{name}.npy", data.getvalue())
        except OutputError:
            return


@functools.cache
def stopwords(lang: str | None) -> frozenset[str]:
    """The language's most common words, lower-cased; empty when jusText has no list for it."""
    name = STOPLIST_NAMES.get((lang or "").split("-")[0].lower())
    if name is None:
        return frozenset()
    import justext

    return frozenset(justext.get_stoplist(name))
