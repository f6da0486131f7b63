"""Where a build's files go, and the one way any of handout's files is written.

write_atomically is the only writer of output files (handouts, booklets, the
manifest, imported Markdown): a reader, or the next build, never sees half a
file, and a failed write leaves the last good file where it was. One build
of a project at a time writes its output folder (output_lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import OutputError

# What each kind of output beside a handout is, for messages.
KINDS = {"": "handout", "booklet": "booklet", "2up": "2-up sheets", "4up": "4-up sheets"}


def output_path(output_dir: Path, slug: str, kind: str = "") -> Path:
    """The file an article's handout (kind "") or its booklet or n-up sheets ("booklet",
    "2up", "4up") is written to: the one answer to where an output goes, for build and check."""
    return output_dir / (f"{slug}-{kind}.pdf" if kind else f"{slug}.pdf")


def write_atomically(target: Path, data: bytes, source: Path | None = None) -> None:
    """Write to a temporary file of its own beside the target, then rename it into place.

    Each write has its own temporary name, so builds running at once never
    rename each other's half-written files. A failure is an OutputError naming
    `source` (the article the file is made from) or else the target.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write to {target.parent} ({exc.strerror})", source or target) from None
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a handout is for sharing
        os.replace(temporary, target)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {target} ({exc.strerror})", source or target) from None
        raise


@contextlib.contextmanager
def output_lock(output_dir: Path, waiting: Callable[[], None]) -> Iterator[None]:
    """Hold the output folder for one build: a second build of the project waits here.

    The lock is on the folder itself (flock on its descriptor), so it leaves no
    file behind, and the system releases it when the build ends however it ends.
    A folder that cannot be made or opened is not locked: nothing can be written
    there either, and each handout says why when it is written.
    """
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        folder = os.open(output_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)
