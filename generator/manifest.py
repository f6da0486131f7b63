"""What the last build made from what: the record that makes rebuilds incremental.

output/.handout-manifest.json keeps, for each handout, its article and a
fingerprint of everything that went into it: the article, the files it
names (images), the templates and themes, the options and settings, and
handout's version, and each file it was written as. A handout whose
fingerprint has not changed, and whose files are on disk as recorded, is not
built again.

The manifest is true to disk at every moment: a handout's entry is recorded
and saved as soon as its files are written, and a file that is not as
recorded (a build stopped between writing it and saving the manifest) makes
its handout be built again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote

from . import __version__, fonts
from .diagnostics import Diagnostic
from .output import write_atomically
from .sandbox import ReadPolicy

FILENAME = ".handout-manifest.json"
# handout's own code is an input too, not only its version: an install from a
# checkout between releases makes other handouts under the same version number.
CODE = Path(__file__).parent
FORMAT = 2
# Files an article may name: Markdown images, HTML src and href, CSS url().
REFERENCE = re.compile(r"""!\[[^\]]*\]\(\s*<?([^)\s>]+)|\b(?:src|href|data)\s*=\s*["']([^"']+)|url\(\s*["']?([^"')]+)""")


@dataclass(frozen=True)
class Entry:
    # The article, relative to the output folder: the same file from any working directory.
    source: str
    fingerprint: str
    pages: int
    diagnostics: list[dict]
    # Each file the handout was written as (the PDF, its booklet and n-up sheets), as it was
    # on disk once written: name -> [size, mtime_ns, sha256].
    files: dict[str, list]


def digest(*parts: bytes | str) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part if isinstance(part, bytes) else part.encode())
        sha.update(b"\0")
    return sha.hexdigest()


def files_digest(roots: list[Path]) -> str:
    """One digest of every file under `roots` (templates, themes), names and contents."""
    parts = []
    for root in roots:
        if root.is_file():
            parts += [str(root), root.read_bytes()]
        elif root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                parts += [str(path.relative_to(root)), path.read_bytes()]
    return digest(*parts)


def build_digest(template_roots: list[Path], settings: list[Path], options: str) -> str:
    """What every handout of a build shares: handout, its fonts, templates, settings, options."""
    versions = [
        f"{name}={importlib.metadata.version(name)}"
        for name in ("weasyprint", "pygments", "markdown-it-py", "mdit-py-plugins", *fonts.font_packages())
    ]
    code = sorted(CODE.glob("*.py"))
    return digest(__version__, *versions, files_digest(template_roots + settings + code), options,
                  os.environ.get("SOURCE_DATE_EPOCH", ""), str(fonts.cache_dir()))


def article_digest(source: Path, text: str, shared: str, policy: ReadPolicy) -> str:
    """The fingerprint of one handout: the shared digest, the article and the files it names.

    Only files the read policy allows are opened, regular files only (not a
    FIFO or a device): an article naming /etc/shadow or /proc/self/mem gets its
    warning from the build, and its contents are never read, not even to hash.
    """
    named = sorted({
        source.parent / unquote((match[0] or match[1] or match[2]).split("#")[0].split("?")[0])
        for match in REFERENCE.findall(text)
    })
    return digest(shared, str(source.resolve()), text, *(part for path in named for part in readable(path, policy)))


def readable(path: Path, policy: ReadPolicy) -> tuple[str, bytes] | tuple[()]:
    """(name, contents) of a file the build may read, else nothing."""
    if not policy.allows_path(path):
        return ()
    try:
        with open(path, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NONBLOCK)) as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                return ()
            return str(path.resolve()), stream.read()
    except (OSError, ValueError):
        return ()


class Manifest:
    def __init__(self, output_dir: Path):
        self.path = output_dir / FILENAME
        self.folder = output_dir.resolve()
        self.entries: dict[str, Entry] = {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") == FORMAT:
                self.entries = {name: Entry(**entry) for name, entry in data["handouts"].items()}
        except (OSError, ValueError, TypeError, KeyError):
            pass  # no manifest, or one from another version: everything is built

    def unchanged(self, target: Path, fingerprint: str) -> Entry | None:
        entry = self.entries.get(target.name)
        if entry and entry.fingerprint == fingerprint and all(
                as_recorded(target.parent / name, stamp) for name, stamp in entry.files.items()):
            return entry
        return None

    def record(self, target: Path, source: Path, fingerprint: str, pages: int,
               diagnostics: tuple[Diagnostic, ...], files: tuple[Path, ...]) -> None:
        """The handout written from `source` as `files`, the first its PDF, `target`."""
        try:
            stamps = {path.name: stamp(path) for path in files}
        except OSError:  # gone already: nothing on disk to vouch for
            self.forget(target)
            return
        self.entries[target.name] = Entry(os.path.relpath(source.resolve(), self.folder), fingerprint, pages, [d.as_dict() for d in diagnostics],
                                          stamps)

    def source_of(self, entry: Entry) -> Path:
        """The article an entry was built from, resolved."""
        return (self.folder / entry.source).resolve()

    def forget(self, target: Path) -> None:
        self.entries.pop(target.name, None)

    def save(self) -> None:
        write_atomically(self.path, json.dumps(
            {"format": FORMAT, "handouts": {name: asdict(e) for name, e in sorted(self.entries.items())}},
            indent=1, ensure_ascii=False).encode("utf-8"))


def stamp(path: Path) -> list:
    """What identifies a file as written: [size, mtime_ns, sha256]."""
    data = path.read_bytes()
    return [len(data), path.stat().st_mtime_ns, hashlib.sha256(data).hexdigest()]


def as_recorded(path: Path, recorded: list) -> bool:
    """Whether `path` is as recorded: the same size and time, or else the same bytes."""
    try:
        status = path.stat()
        return status.st_size == recorded[0] and (
            status.st_mtime_ns == recorded[1] or hashlib.sha256(path.read_bytes()).hexdigest() == recorded[2])
    except OSError:
        return False


def diagnostics_of(entry: Entry) -> tuple[Diagnostic, ...]:
    return tuple(
        Diagnostic(d["code"], d["message"], Path(d["file"]) if d["file"] else None, d["line"], d["page"],
                   d.get("kind"), d.get("words"))
        for d in entry.diagnostics
    )
