"""What the last build made from what: the record that makes rebuilds incremental.

output/.handout-manifest.json keeps, for each handout, its article and a
fingerprint of everything that went into it: the article, the templates and
themes, the options and settings, and handout's version; the project's files
typesetting read for it (images, a stylesheet), as recorded while they were
read, not guessed from the text; and each file it was written as. A handout
whose fingerprint and files read have not changed, and whose files are on
disk as recorded, is not built again.

The manifest is true to disk at every moment: a handout's entry is recorded
and saved as soon as its files are written, and a file that is not as
recorded (a build stopped between writing it and saving the manifest) makes
its handout be built again.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import __version__
from ..diagnostics import Diagnostic
from ..sandbox import ReadPolicy
from ..typeset import fonts
from .files import write_atomically

FILENAME = ".handout-manifest.json"
# handout's own code is an input too, not only its version: an install from a
# checkout between releases makes other handouts under the same version number.
CODE = Path(__file__).parent.parent
FORMAT = 3


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
    # The project's files typesetting read for it (images, a stylesheet), as the
    # build recorded them while it read them: path -> sha256.
    inputs: dict[str, str]


def digest(*parts: bytes | str) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part if isinstance(part, bytes) else part.encode())
        sha.update(b"\0")
    return sha.hexdigest()


def files_digest(roots: list[Path]) -> str:
    """One digest of every file under `roots` (templates, themes), names and contents."""
    parts: list[bytes | str] = []
    for root in roots:
        if root.is_file():
            parts += [str(root), root.read_bytes()]
        elif root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                parts += [str(path.relative_to(root)), path.read_bytes()]
    return digest(*parts)


def build_digest(template_roots: list[Path], settings: list[Path], options: str) -> str:
    """What every handout of a build shares: handout, its fonts, templates, settings, options."""
    import importlib.metadata  # here: the workers' fork server imports this module, and never this (16 ms)

    versions = [
        f"{name}={importlib.metadata.version(name)}"
        for name in ("weasyprint", "pygments", "markdown-it-py", "mdit-py-plugins", "uharfbuzz", *fonts.font_packages())
    ]
    code = sorted(CODE.rglob("*.py"))
    return digest(__version__, *versions, files_digest(template_roots + settings + code), options,
                  os.environ.get("SOURCE_DATE_EPOCH", ""), str(fonts.cache_dir()))


def article_digest(source: Path, text: str, shared: str) -> str:
    """The fingerprint of one handout's own inputs before it is typeset: the shared
    digest and the article. The files it turned out to read are checked apart
    (Manifest.unchanged), from the list typesetting recorded."""
    return digest(shared, str(source.resolve()), text)


def input_digest(path: Path, policy: ReadPolicy) -> str | None:
    """The digest of a file a handout was made from, if the build may still read it.

    Only files the read policy allows are opened, regular files only (not a
    FIFO or a device): their contents are never read otherwise, not even to hash.
    """
    found = readable(path, policy)
    return hashlib.sha256(found[1]).hexdigest() if found else None


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

    def unchanged(self, target: Path, fingerprint: str, policy: ReadPolicy) -> Entry | None:
        """The entry of a handout that need not be built again: its article and settings as
        before, every file it was made from as before, and its files on disk as written."""
        entry = self.entries.get(target.name)
        if entry and entry.fingerprint == fingerprint and all(
                input_digest(Path(path), policy) == sha256 for path, sha256 in entry.inputs.items()) and all(
                as_recorded(target.parent / name, stamp) for name, stamp in entry.files.items()):
            return entry
        return None

    def record(self, target: Path, source: Path, fingerprint: str, pages: int,
               diagnostics: tuple[Diagnostic, ...], files: tuple[Path, ...], inputs: tuple[Path, ...],
               policy: ReadPolicy) -> None:
        """The handout written from `source` as `files`, the first its PDF, `target`,
        made from the project's files `inputs`."""
        try:
            stamps = {path.name: stamp(path) for path in files}
        except OSError:  # gone already: nothing on disk to vouch for
            self.forget(target)
            return
        read = {str(path.resolve()): input_digest(path, policy) for path in inputs}
        self.entries[target.name] = Entry(os.path.relpath(source.resolve(), self.folder), fingerprint, pages,
                                          [d.as_dict() for d in diagnostics], stamps,
                                          {path: sha256 for path, sha256 in sorted(read.items()) if sha256})

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
