"""The token and body-size guards, on a small real ASGI app."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from loopml.serving._guard import BodyLimit, TokenGuard


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


def test_token_is_required_except_on_health_routes() -> None:
    client = TestClient(TokenGuard(_app(), "s3cret"))  # type: ignore[arg-type]
    assert client.get("/healthz").status_code == 200
    denied = client.post("/echo", content=b"x")
    assert denied.status_code == 401 and "Bearer" in denied.json()["error"]
    assert denied.headers["www-authenticate"] == "Bearer"
    assert (
        client.post("/echo", content=b"x", headers={"Authorization": "Bearer wrong"}).status_code
        == 401
    )
    ok = client.post("/echo", content=b"xyz", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok.json() == {"bytes": 3}


def test_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        TokenGuard(_app(), "")  # type: ignore[arg-type]


def test_body_limit_counts_what_streams_in() -> None:
    client = TestClient(BodyLimit(_app(), 10))  # type: ignore[arg-type]
    assert client.post("/echo", content=b"x" * 10).json() == {"bytes": 10}
    over = client.post("/echo", content=b"x" * 11)
    assert over.status_code == 413 and "limit of 10 bytes" in over.json()["error"]

    def chunks():  # no Content-Length: chunked transfer
        yield b"x" * 6
        yield b"x" * 6

    assert client.post("/echo", content=chunks()).status_code == 413
