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

import http.client
import ipaddress
import re
import socket
import ssl
import stat
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import PIL.Image

from .config import MEGABYTE
from .errors import ArticleError, Refused, UsageError
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
    try:
        with PIL.Image.open(image) as opened:
            return opened.width * opened.height
    except PIL.Image.DecompressionBombError as exc:  # Pillow's own, larger limit
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        return int(pixels.group(1)) if pixels else sys.maxsize  # over Pillow's own limit: over any
    except (PIL.UnidentifiedImageError, OSError, ValueError):
        return 0  # not a raster image (SVG, CSS, a font): WeasyPrint draws it, or says it cannot


def vetted_address(host: str, port: int, policy: ReadPolicy) -> str:
    """An address of `host` that is public (or trusted), else Refused.

    Every address the name resolves to must pass, so a name cannot point one
    lookup outside and the connection inside (the check and the connection
    use the same resolved address).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Refused(f"{host}: cannot resolve the name ({exc.strerror})") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        trusted = any(address in network for network in policy.trusted_networks)
        if not trusted and (address.is_loopback or address.is_private or address.is_link_local
                            or address.is_multicast or address.is_reserved or address.is_unspecified):
            raise Refused(f"{host} is at {address}, a loopback, private, link-local or multicast address; not fetched")
    return str(addresses[0])


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the vetted address, whatever the name resolves to by then."""

    def __init__(self, host, address, **kwargs):
        super().__init__(host, **kwargs)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, address, **kwargs):
        self.context = ssl.create_default_context()
        super().__init__(host, context=self.context, **kwargs)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.context.wrap_socket(sock, server_hostname=self.host)


def read_within(response: http.client.HTTPResponse, policy: ReadPolicy, url: str) -> bytes:
    """The response's body, within the size cap and within the timeout in all: the
    socket's timeout bounds each read, and a server sending a byte a second would
    pass every one of them."""
    deadline = time.monotonic() + policy.remote_timeout
    chunks, size = [], 0
    while chunk := response.read1(64 * 1024):
        chunks.append(chunk)
        size += len(chunk)
        if size > policy.remote_max_bytes:
            raise Refused(f"{url} is over the {policy.remote_max_bytes / MEGABYTE:.0f} MB cap")
        if time.monotonic() > deadline:
            raise Refused(f"{url} took longer than {policy.remote_timeout:g} s to arrive; not used")
    return b"".join(chunks)


def fetch_remote(url: str, policy: ReadPolicy, accept: str = "image/*, text/css") -> tuple[bytes, str, str]:
    """(body, content type, final URL) of an http(s) URL, within the policy."""
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(f"{url}: only http and https addresses are fetched")
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        address = vetted_address(parts.hostname, port, policy)
        connection_class = PinnedHTTPSConnection if https else PinnedHTTPConnection
        connection = connection_class(parts.hostname, address, port=port, timeout=policy.remote_timeout)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", path, headers={"User-Agent": "handout", "Accept": accept})
            response = connection.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                url = urljoin(url, response.getheader("Location", ""))
                continue
            if response.status != 200:
                raise Refused(f"{url}: the server answered {response.status}")
            declared = int(response.getheader("Content-Length") or 0)
            if declared > policy.remote_max_bytes:
                raise Refused(f"{url} is {declared / MEGABYTE:.1f} MB,"
                              f" over the {policy.remote_max_bytes / MEGABYTE:.0f} MB cap")
            body = read_within(response, policy, url)
            return body, response.getheader("Content-Type", "application/octet-stream"), url
        except (OSError, http.client.HTTPException) as exc:
            raise Refused(f"{url}: {exc}") from None
        finally:
            connection.close()
    raise Refused(f"{url}: more than {MAX_REDIRECTS} redirects")


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
