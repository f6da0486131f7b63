"""What a build may read: the project's own folders, and the network only when asked.

Every file and URL that WeasyPrint wants (images, stylesheets, @import, fonts,
attachments) goes through pdf.SafeFetcher, which asks the ReadPolicy here. Files are read only from the allowed
folders; http(s) only with --allow-remote, then with a timeout, a size cap,
no redirect to another scheme, and never to loopback, private, link-local
(169.254.169.254, the cloud metadata address) or multicast addresses, also
after DNS resolution and at each redirect. Everything refused is recorded,
so the build can name it in a warning.
"""

from __future__ import annotations

import ipaddress
import re
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .config import MEGABYTE
from .errors import ArticleError, UsageError
from .typeset import fonts, themes

REMOTE_TIMEOUT = 10.0
REMOTE_MAX_BYTES = 20 * MEGABYTE
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class ReadPolicy:
    """Where a build may read from."""

    roots: tuple[Path, ...]
    allow_remote: bool = False
    # Networks a user trusts on purpose (an intranet image server), else never fetched.
    trusted_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    remote_timeout: float = REMOTE_TIMEOUT
    remote_max_bytes: int = REMOTE_MAX_BYTES
    # [limits] image_megapixels: for every image WeasyPrint loads, from Markdown, raw HTML, CSS or SVG.
    max_pixels: int = 50_000_000

    def allows_path(self, path: Path) -> bool:
        return self.refusal(path) is None

    def refusal(self, path: Path) -> str | None:
        """Why `path` may not be read ("is outside ..."), or None if it may."""
        try:
            resolved = path.resolve()  # follows symbolic links: a link out of the project is out
            if not any(resolved.is_relative_to(root.resolve()) for root in self.roots):
                return OUTSIDE
            status = resolved.stat()
        except FileNotFoundError:
            return None  # inside, and missing: the reader says so
        except (OSError, ValueError, RuntimeError):  # a NUL in the name, a loop of links
            return OUTSIDE
        # A hard link is the same file under another name, maybe outside the project,
        # and nothing tells where the other names are. Installed packages (fonts) are trusted.
        if stat.S_ISREG(status.st_mode) and status.st_nlink > 1 and not resolved.is_relative_to(INSTALLED):
            return "has another name elsewhere (a hard link), which may be outside the project"
        return None


OUTSIDE = "is outside the project's content, templates, themes and assets folders"
INSTALLED = Path(sys.prefix).resolve()


def pixel_count(image: Path | BinaryIO) -> int:
    """Width times height from the image's header, without decoding it; 0 if not a raster image."""
    import PIL.Image  # Pillow: where images are read, not where a build starts

    try:
        with PIL.Image.open(image) as opened:
            return opened.width * opened.height
    except PIL.Image.DecompressionBombError as exc:  # Pillow's own, larger limit
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        return int(pixels.group(1)) if pixels else sys.maxsize  # over Pillow's own limit: over any
    except (PIL.UnidentifiedImageError, OSError, ValueError):
        return 0  # not a raster image (SVG, CSS, a font): WeasyPrint draws it, or says it cannot


def read_policy(project_dir: Path, paths: list[Path], extra_roots: Sequence[Path] = (),
                allow_remote: bool = False, trusted_networks: tuple[str, ...] = ()) -> ReadPolicy:
    """What a build may read: the project's content, templates, themes and assets folders,
    the folders named on the command line, the built-in themes and fonts, and `extra_roots`."""
    try:
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in trusted_networks)
    except ValueError as exc:
        raise UsageError(f"--trust-network: {exc}") from None
    project_folders = [project_dir / name for name in ("content", "templates", "themes", "assets")]
    return ReadPolicy(
        roots=tuple([*project_folders, *(p for p in paths if p.is_dir()), themes.builtin_templates(),
                     *fonts.font_dirs(), *extra_roots]),
        allow_remote=allow_remote,
        trusted_networks=networks,
    )


def check_source(source: Path, policy: ReadPolicy) -> None:
    """An article is read where it is named, never through a link out of the project."""
    if source.is_symlink() and not policy.allows_path(source):
        raise ArticleError(f"is a link to {source.resolve()}, outside the project; not read", source)
