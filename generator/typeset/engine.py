"""WeasyPrint, imported without looking its C libraries up under other systems' names.

WeasyPrint opens each of its C libraries (GObject, Pango, HarfBuzz, Fontconfig)
by trying a list of names, Windows' first ("libgobject-2.0-0"), the Linux
soname ("libgobject-2.0.so.0") among the last. cffi hands each name it cannot
open as it is to ctypes.util.find_library, which on Linux runs ldconfig, then
gcc, then ld, to look for it: fifteen lookups, a fifth of a second of every
process that typesets (WeasyPrint issue 1125). On Linux the sonames in the lists
are opened directly, by the dynamic linker's own search, so while WeasyPrint is
imported find_library finds nothing, and the same libraries load without the
lookups (a test compares them). Elsewhere (Windows' DLLs are found by
find_library) nothing changes.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def opened_by_soname() -> Iterator[None]:
    """On Linux, ctypes.util.find_library finds nothing while the block runs."""
    if not sys.platform.startswith("linux"):
        yield
        return
    find_library = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        yield
    finally:
        ctypes.util.find_library = find_library


with opened_by_soname():
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcherResponse

__all__ = ["FontConfiguration", "URLFetcherResponse", "weasyprint"]
