"""The UI's token rule for people: a login form that leaves a session cookie.

`loopml serve` takes ``Authorization: Bearer <token>``, which scripts send but a browser
does not. With a token set, the UI accepts either that header or a cookie that only the
login form hands out: an HMAC of the token, so the token itself never sits in a cookie.
Everything else (the pages, the charts, the stylesheet) needs one of the two; a browser
asking for a page without is sent to ``/login``, a script gets 401.

The cookie is ``HttpOnly`` (no script reads it) and ``SameSite=Strict`` (no other site
sends it); the UI is read-only, so there is no form to forge but the login itself.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from loopml.serving._guard import ASGIApp, Receive, Scope, Send

__all__ = ["COOKIE", "LoginGuard"]

COOKIE = "loopml_ui"
_OPEN = frozenset({"/healthz"})
_MAX_FORM_BYTES = 8192

_FORM = """<!doctype html><html><head><meta charset="utf-8"><title>loopml: sign in</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto}}
input{{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;margin:.5rem 0}}
.error{{color:#b00020}}</style></head><body><h1>loopml</h1>
<p>This UI needs the token it was started with (<code>--token-file</code> or
<code>LOOPML_TOKEN</code>).</p>{error}
<form method="post" action="/login"><input type="hidden" name="next" value="{next}">
<input type="password" name="token" placeholder="token" autofocus required>
<input type="submit" value="sign in"></form></body></html>"""


class LoginGuard:
    """Require the bearer token or the login cookie on every route but ``/healthz``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token:
            raise ValueError("the token must not be empty")
        self.app = app
        self.token = token.encode()
        self.bearer = b"Bearer " + self.token
        self.session = hmac.new(self.token, b"loopml ui session", hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in _OPEN:
            await self.app(scope, receive, send)
            return
        if scope.get("path") == "/login":
            await self._login(scope, receive, send)
            return
        if self._allowed(scope):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope.get("method") == "GET" and b"text/html" in headers.get(b"accept", b""):
            target = scope.get("path", "/") + (
                "?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""
            )
            await _respond(send, 303, b"", [(b"location", f"/login?next={quote(target)}".encode())])
            return
        await _respond(
            send,
            401,
            b'{"error": "missing or wrong token: send `Authorization: Bearer <token>` '
            b'or sign in at /login"}',
            [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
        )

    def _allowed(self, scope: Scope) -> bool:
        headers = dict(scope.get("headers") or [])
        # Constant-time comparisons: a wrong guess does not reveal how much of it matched.
        if hmac.compare_digest(headers.get(b"authorization", b""), self.bearer):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
        except Exception:  # a malformed Cookie header is no session
            return False
        morsel = cookie.get(COOKIE)
        return morsel is not None and hmac.compare_digest(morsel.value, self.session)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if scope.get("method") != "POST":
            page = _FORM.format(error="", next=html.escape(_local(query.get("next", ["/"])[0])))
            await _respond(send, 200, page.encode(), [(b"content-type", b"text/html")])
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > _MAX_FORM_BYTES:
                await _respond(send, 413, b"the login form is too large", [])
                return
            if not message.get("more_body"):
                break
        form = parse_qs(body.decode("utf-8", "replace"))
        given = form.get("token", [""])[0].encode()
        target = _local(form.get("next", ["/"])[0])
        if not hmac.compare_digest(given, self.token):
            page = _FORM.format(
                error='<p class="error">That is not the token.</p>', next=html.escape(target)
            )
            await _respond(send, 401, page.encode(), [(b"content-type", b"text/html")])
            return
        cookie = f"{COOKIE}={self.session}; HttpOnly; SameSite=Strict; Path=/"
        await _respond(
            send, 303, b"", [(b"location", target.encode()), (b"set-cookie", cookie.encode())]
        )


def _local(target: str) -> str:
    """Return ``target`` if it is a path on this site, else ``/``: no open redirect."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


async def _respond(send: Send, status: int, body: bytes, headers: list[Any]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})
