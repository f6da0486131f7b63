"""handout: articles in, print-ready PDF handouts out.

The Python API the `handout` command is built on::

    from generator import build, BuildOptions
    results = build(["content"], BuildOptions(output_dir=Path("output")))
"""

__version__ = "0.1.0"

from .build import BuildOptions, BuildResult, build  # noqa: E402
from .errors import HandoutError  # noqa: E402

__all__ = ["BuildOptions", "BuildResult", "HandoutError", "build", "__version__"]
