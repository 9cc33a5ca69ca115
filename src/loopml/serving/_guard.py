"""ASGI guards every route passes through: the bearer token and the body-size limit.

Both are enforced here, once, for every route the app has or will have, rather than in
each handler: a route added later cannot forget them.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

__all__ = ["HEALTH_PATHS", "BodyLimit", "TokenGuard"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Probes must answer without credentials (load balancers, Kubernetes).
HEALTH_PATHS = frozenset({"/healthz", "/readyz", "/v2/health/live", "/v2/health/ready"})


async def _reply(send: Send, status: int, body: dict[str, Any], headers: list[Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class TokenGuard:
    """Require ``Authorization: Bearer <token>`` on every HTTP route but the health ones."""

    def __init__(self, app: ASGIApp, token: str, *, open_paths: Collection[str] = HEALTH_PATHS):
        if not token:
            raise ValueError("the token must not be empty")
        self.app = app
        self.expected = f"Bearer {token}".encode()
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.open_paths:
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        # Constant-time: the comparison does not reveal how much of the token matched.
        if not hmac.compare_digest(given, self.expected):
            await _reply(
                send,
                401,
                {"error": "missing or wrong token: send `Authorization: Bearer <token>`"},
                [(b"www-authenticate", b"Bearer")],
            )
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Answer 413 once a request body passes ``max_bytes``, counted as it streams in.

    Content-Length is not trusted: a client can send more than it announced, or announce
    nothing (chunked encoding). The handler never sees an oversized body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be >= 1, but got {max_bytes}")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _reply(
                    send,
                    413,
                    {
                        "error": f"the request body is over the limit of {self.max_bytes} "
                        "bytes: send fewer rows per request"
                    },
                    [],
                )
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
