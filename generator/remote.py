"""Fetching an http(s) address within a read policy (sandbox.py): only public addresses (or
networks trusted on purpose), the address checked pinned for the connection, within a size cap
and a time limit in all, and a few redirects, each checked again.

Apart from sandbox.py, which a build loads to start: what a no-op rebuild never needs, the
network modules (http.client, ssl, socket), is loaded only where an address is fetched.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from urllib.parse import urljoin, urlsplit

from .config import MEGABYTE
from .errors import Refused
from .sandbox import MAX_REDIRECTS, ReadPolicy


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
