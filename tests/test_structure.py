"""One owner for every fact: what the layout itself must hold (issue 14)."""

from __future__ import annotations

import re

from conftest import REPO

SOURCES = sorted((REPO / "generator").rglob("*.py"))


def modules_with(pattern: str) -> list[str]:
    """The modules of generator/ whose code matches `pattern`."""
    found = re.compile(pattern)
    return [path.relative_to(REPO).as_posix() for path in SOURCES if found.search(path.read_text(encoding="utf-8"))]


def test_did_you_mean_is_written_once():
    assert modules_with(r"get_close_matches") == ["generator/diagnostics.py"]


def test_one_atomic_writer():
    # Handouts, the manifest, imports, the font cache and the mail outbox all go through it.
    assert modules_with(r"os\.replace\(|mkstemp\(|\.write_bytes\(") == ["generator/output/files.py"]


def test_other_stages_take_only_the_build_api_from_build_py():
    # build.py orchestrates: what check, mail, import and serve need of a project
    # (its articles, what may be read) lives in the module that owns it. Mail's stamps are
    # typeset by build.py too: untrusted text, within the same workers and time limit.
    imports = re.compile(r"from \.+build import (?:\(([^)]*)\)|([^\n#]*))")
    borrowed = {name.strip() for path in SOURCES if path.name != "build.py"
                for found in imports.findall(path.read_text(encoding="utf-8"))
                for name in "".join(found).split(",") if name.strip()}
    assert borrowed <= {"build", "BuildOptions", "BuildResult", "StampBatch"}


def all_subclasses(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in (direct, *all_subclasses(direct))}


def test_every_error_a_user_can_meet_is_declared_in_errors_py():
    import importlib
    import pkgutil

    import generator
    from generator.errors import HandoutError, Refused

    for module in pkgutil.walk_packages(generator.__path__, "generator."):
        if not module.name.startswith(("generator.web", "generator.__main__")):
            importlib.import_module(module.name)
    elsewhere = {f"{cls.__module__}.{cls.__name__}" for cls in all_subclasses(HandoutError) | {Refused}
                 if cls.__module__ != "generator.errors"}
    assert elsewhere == set()
