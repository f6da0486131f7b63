"""Imported by the workers' fork server alone (pool.PRELOAD): it ends without the interpreter's teardown.

The fork server ends when the run that started it does. Python then tears down
everything it imported, WeasyPrint's too: a tenth of a second and more, while it
still holds the run's standard output and error open, so a pipe or a program
reading them (`handout mail ... | tee`) waits for it. Nothing it holds needs
tearing down: its workers have ended, and it writes no file. Workers forked
from it end with os._exit, as multiprocessing's always do, and never run this.
"""

import atexit
import os

atexit.register(os._exit, 0)
