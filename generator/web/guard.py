"""Only the person who started `handout serve` uses it, from their own browser.

- Host: a page of another site whose name is made to point at this machine (DNS
  rebinding) sends its own name as Host; only this server's names are answered.
- Access token: on an address other than this machine's own (--host), the address
  printed at start carries a random token; the first visit with it sets a cookie.
- CSRF: every POST carries the browser's own random token in a header, which a page
  of another site cannot read, so it cannot send a request on the person's behalf.
"""

from __future__ import annotations

import hmac
import json
import secrets

from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ACCESS_COOKIE = "handout_access"
CSRF_COOKIE = "handout_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD")
# JSON escapes quotes and line ends (and a dropped file comes as base64): a paste at the
# size limit takes up to this many times its bytes.
JSON_OVERHEAD = 6


class TooLarge(Exception):
    pass


def allowed_hosts(host: str) -> list[str]:
    """The Host names this server answers to: its own, and this machine's loopback names.
    Bound to every address, any name may reach it; then the access token guards it."""
    if host in ("0.0.0.0", "::"):
        return ["*"]
    return sorted({*LOOPBACK, host})


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class Guard(BaseHTTPMiddleware):
    def __init__(self, app, access_token: str | None):
        super().__init__(app)
        self.access_token = access_token

    async def dispatch(self, request: Request, call_next) -> Response:
        if self.access_token and not same(request.cookies.get(ACCESS_COOKIE), self.access_token):
            if not same(request.query_params.get("token"), self.access_token):
                return PlainTextResponse("Open the address that handout serve printed when it started"
                                         " (it ends with ?token=...).", status_code=403)
            response = RedirectResponse(request.url.remove_query_params("token"), status_code=303)
            response.set_cookie(ACCESS_COOKIE, self.access_token, httponly=True, samesite="strict")
            return response
        csrf = request.cookies.get(CSRF_COOKIE)
        if request.method not in SAFE_METHODS and not (csrf and same(request.headers.get(CSRF_HEADER), csrf)):
            return PlainTextResponse("Refused: this request did not come from handout's own page"
                                     " (reload the page and try again).", status_code=403)
        request.state.csrf = csrf or secrets.token_urlsafe(24)
        response = await call_next(request)
        if not csrf:
            response.set_cookie(CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict")
        return response


async def limited_json(request: Request, max_bytes: int) -> dict:
    """The request's JSON body, refused past the project's article size limit, read no further."""
    limit = max_bytes * JSON_OVERHEAD + 64 * 1024
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge()
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise HTTPException(400, "The request is not the page's own (not a JSON object).")
    return data
