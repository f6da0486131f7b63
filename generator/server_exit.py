"""Imported by the workers' fork server (pool.PRELOAD): it ends without the interpreter's teardown.

The fork server ends when the run that started it does. Python then tears down
everything it imported, WeasyPrint's too: a tenth of a second and more, while it
still holds the run's standard output and error open, so a pipe or a program
reading them (`handout mail ... | tee`) waits for it. Nothing it holds needs
tearing down: its workers have ended, and it writes no file. Workers forked
from it end with os._exit, as multiprocessing's always do, and never run this.

Only the fork server: any other process that imports this module (one that
imports every module, as a test does) must keep its own exit status.
"""

import atexit
import multiprocessing.forkserver
import os
import sys
from types import FrameType


def imported_by_fork_server() -> bool:
    """Whether multiprocessing's fork server is importing this module, as it imports its preloads."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is multiprocessing.forkserver.main.__code__:
            return True
        frame = frame.f_back
    return False


if imported_by_fork_server():
    atexit.register(os._exit, 0)
