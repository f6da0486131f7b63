"""Where a build's files go, and the one way any of handout's files is written.

write_atomically is the only writer of output files (handouts, booklets, the
manifest, imported Markdown): a reader, or the next build, never sees half a
file, and a failed write leaves the last good file where it was. One build
of a project at a time writes its output folder (output_lock), and one sender
at a time keeps a send log (file_lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from ..errors import OutputError

# What each kind of output beside a handout is, for messages.
KINDS = {"": "handout", "booklet": "booklet", "2up": "2-up sheets", "4up": "4-up sheets"}


def cache_root() -> Path:
    """The folder handout keeps what it makes once for all later runs (static fonts, the
    language model uncompressed): HANDOUT_CACHE_DIR, else the user's cache folder's handout/."""
    if os.environ.get("HANDOUT_CACHE_DIR"):
        return Path(os.environ["HANDOUT_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "handout"


def output_path(output_dir: Path, slug: str, kind: str = "") -> Path:
    """The file an article's handout (kind "") or its booklet or n-up sheets ("booklet",
    "2up", "4up") is written to: the one answer to where an output goes, for build and check."""
    return output_dir / (f"{slug}-{kind}.pdf" if kind else f"{slug}.pdf")


def write_atomically(target: Path, data: bytes, source: Path | None = None) -> None:
    """Write to a temporary file of its own beside the target, then rename it into place.

    Each write has its own temporary name, so builds running at once never
    rename each other's half-written files. A failure is an OutputError naming
    `source` (the article the file is made from) or else the target. Ctrl-C
    waits for the write to end, so it leaves no temporary file behind.
    """
    with interrupts_deferred():
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
def interrupts_deferred() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) that comes while the block runs until it has run, then deliver it.

    Python raises KeyboardInterrupt between any two steps of the main thread, in
    tempfile.mkstemp after it made the file too, where no cleanup can see the
    file. Only the main thread gets KeyboardInterrupt: elsewhere nothing waits.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[FrameType | None] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            if callable(previous):
                previous(signal.SIGINT, held[0])
            elif previous == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)


@contextlib.contextmanager
def output_lock(output_dir: Path, waiting: Callable[[], None]) -> Iterator[None]:
    """Hold the output folder for one build: a second build of the project waits here.

    The lock is on the folder itself, so it leaves no file behind. A folder that
    cannot be made or opened is not locked: nothing can be written there either,
    and each handout says why when it is written.
    """
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        folder = os.open(output_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield
        return
    with held(folder, lambda holder: waiting()):
        yield


@contextlib.contextmanager
def file_lock(path: Path, taken: Callable[[int | None], None]) -> Iterator[None]:
    """Hold `path` (made, empty, when missing) for one writer at a time, as output_lock holds
    a folder; an OutputError when it cannot be opened."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(f"cannot open {path} ({exc.strerror})", path) from None
    with held(descriptor, taken):
        yield


@contextlib.contextmanager
def held(descriptor: int, taken: Callable[[int | None], None]) -> Iterator[None]:
    """An exclusive lock on an open file or folder while the block runs, closing it after.

    When another holds it, `taken` is told first, with the holder's process id where
    the system says (None otherwise): it raises to give up, or returns to wait.
    flock, not fcntl's record locks, so that two threads of one process exclude each
    other too; and the system releases it when its holder ends, however it ends.
    """
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            taken(lock_holder(descriptor))
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def lock_holder(descriptor: int) -> int | None:
    """The process holding a flock on this file, from Linux's /proc/locks; None where unknown."""
    status = os.fstat(descriptor)
    file = f"{os.major(status.st_dev):02x}:{os.minor(status.st_dev):02x}:{status.st_ino}"
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for fields in map(str.split, lines):
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; a waiter's line has "->" after its number
        if fields[1:2] == ["FLOCK"] and len(fields) > 5 and fields[5] == file and fields[4].isdigit():
            return int(fields[4]) or None  # 0: a process this one cannot see
    return None
