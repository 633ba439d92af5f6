"""Two pure-ASGI middlewares for the FastAPI apps (console, web chat, Telegram bridge): refuse a request
before its body is read.

* :class:`BodyLimit`: a request whose ``Content-Length`` is larger than the app's limit gets 413 at once,
  without reading the body; a body without ``Content-Length`` (chunked) is counted while the app reads it and
  refused with 413 as soon as more than the limit has arrived. Nothing larger than the limit is ever held in
  memory.
* :func:`validation_error_handler`: 422 with FastAPI's error list, without the rejected input. FastAPI's own
  handler echoes the input and fails with a 500 when it cannot be written as JSON: a body that is not UTF-8,
  ``Infinity``.
* :class:`TokenGuard`: on the given paths, a request without the right shared token in a header gets 401 (503
  when no token is configured) before its body is read or parsed. FastAPI reads and decodes a JSON body
  *before* it runs the dependencies, so a dependency alone would answer a malformed body with 422 and an
  oversized one with 413 before looking at the token. Add it after ``BodyLimit`` (``add_middleware`` puts the
  last one outermost).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.tokens import same

KIB = 1024
MIB = 1024 * KIB


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body without Content-Length passes the limit. An ``HTTPException``, so
    that FastAPI passes it on (other errors while reading become 400) and the app's handlers answer 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, too_large_text(max_bytes))


def too_large_text(max_bytes: int) -> str:
    return f"Anfrage zu groß (höchstens {max_bytes:,} Bytes)".replace(",", ".")


async def send_json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})


async def validation_error_handler(_: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 answer without echoing the rejected input: type, location and message of each error."""
    errors = [{k: e[k] for k in ("type", "loc", "msg") if k in e} for e in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await send_json(send, 413, too_large_text(self.max_bytes))
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await send_json(send, 413, too_large_text(self.max_bytes))


class TokenGuard:
    def __init__(self, app: ASGIApp, *, paths: tuple[str, ...], header: str,
                 expected: Callable[[], str | None], unset_status: int = 503,
                 unset_detail: str = "Schnittstelle abgeschaltet (kein Token konfiguriert)") -> None:
        """``paths``: exact paths, or prefixes ending in "/"; ``expected``: the configured token (read per
        request, so tests and settings can change it)."""
        self.app = app
        self.exact = tuple(p for p in paths if not p.endswith("/"))
        self.prefixes = tuple(p for p in paths if p.endswith("/"))
        self.header = header.lower().encode("latin-1")
        self.header_name = header
        self.expected = expected
        self.unset_status = unset_status
        self.unset_detail = unset_detail

    def guarded(self, path: str) -> bool:
        return path in self.exact or path.startswith(self.prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.guarded(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        expected = self.expected()
        if not expected:
            await send_json(send, self.unset_status, self.unset_detail)
            return
        given = next((v for n, v in scope.get("headers", []) if n == self.header), None)
        if not same(given.decode("latin-1") if given is not None else None, expected):
            await send_json(send, 401, f"Ungültiges {self.header_name}")
            return
        await self.app(scope, receive, send)
