"""The installed package, run as a user runs it, far from the source tree.

A template or module left out of the wheel fails here even when every other
test passes against the source checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE, SAMPLE_SLUG, page_texts


def in_project(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(args, cwd=project, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def installed(tmp_path) -> Path:
    """The folder the package is installed in; skips only outside CI for a source checkout."""
    found = in_project(tmp_path, sys.executable, "-c", "import generator; print(generator.__file__)")
    assert found.returncode == 0, found.stderr
    package = Path(found.stdout.strip()).parent
    if package == REPO / "generator":  # the source tree itself (a .venv inside the clone is fine)
        if os.environ.get("CI"):
            pytest.fail(f"CI must test the installed package, but generator comes from {package}")
        pytest.skip("generator is imported from the source tree (editable install)")
    return package


def test_installed_command_builds_with_the_built_in_templates(installed, tmp_path):
    assert (installed / "templates" / "handout" / "article.html").is_file()
    (tmp_path / "content").mkdir()
    shutil.copy(SAMPLE, tmp_path / "content")
    handout = Path(sys.executable).with_name("handout")
    result = in_project(tmp_path, str(handout), "build")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    texts = page_texts(tmp_path / "output" / f"{SAMPLE_SLUG}.pdf")
    assert "Historic Qualifications and Clinical Use" in texts[0]
    assert f"page 1 of {len(texts)}" in texts[0]


def test_python_dash_m_generator(installed, tmp_path):
    result = in_project(tmp_path, sys.executable, "-m", "generator", "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("handout, version ")
