"""Stage 1, reading: what a source file holds, found and cleaned before it becomes an Article.

The modules here take text or bytes and return plain data; load.py chooses
among them by the file's extension.
"""
