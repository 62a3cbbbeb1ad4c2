"""The explorer's web app: `create_app` turns a latent space into a FastAPI application.

The order follows the app's layers: request body limit, error handlers, the API under
``/api`` (metadata endpoint first), and the built frontend mounted last at ``/``.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from latentspace.errors import InvalidParameterError, LatentSpaceError, NoDecoderError
from latentspace.server.routes import router
from latentspace.server.schemas import MAX_BODY_BYTES
from latentspace.server.state import ExplorerState

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
# Repeated rejections of the same kind are logged this many times, then every
# REPEATED_LOG_EVERY-th time with a count, so a looping client cannot flood the log.
FIRST_LOGGED = 20
REPEATED_LOG_EVERY = 1000

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>latentspace explorer</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The explorer frontend is not built</h1>
<p>The API is running (see <a href="/api/space">/api/space</a> and
<a href="/api/docs">/api/docs</a>), but the web app was not found in the package.
Build it from a source checkout with <code>make web</code>, then restart the server.</p>
</body></html>
"""


def create_app(space: Any, static_dir: Path | None = None) -> FastAPI:
    """Create the explorer app for a latent space.

    Parameters
    ----------
    space : LatentSpace
        The space to explore. Walk endpoints return 409 when it has no decoder.
    static_dir : path, optional
        Folder of the built frontend; defaults to the package's ``server/static``. When
        it has no ``index.html``, ``/`` shows how to build the frontend.

    Returns
    -------
    FastAPI
        Serve it with `latentspace.server.serve`, uvicorn, or FastAPI's TestClient.
    """
    app = FastAPI(title="latentspace explorer", docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.state.explorer = ExplorerState(space)
    # The middleware added last runs first: the body limit, then the error catcher.
    app.add_middleware(CatchServerErrors)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    add_error_handlers(app)
    app.include_router(router)
    mount_frontend(app, STATIC_DIR if static_dir is None else Path(static_dir))
    return app


def mount_frontend(app: FastAPI, static_dir: Path) -> None:
    """Serve the built frontend at ``/``, or a page explaining how to build it."""
    if (static_dir / "index.html").is_file():
        app.mount("/", StaticFiles(directory=static_dir, html=True), name="frontend")
        return
    logger.warning("Explorer frontend not found in %s; run `make web` to build it.", static_dir)

    @app.get("/", include_in_schema=False)
    def frontend_not_built() -> HTMLResponse:
        return HTMLResponse(NOT_BUILT_PAGE)


# ------------------------------------------------------------------ errors


class RejectionLog:
    """Logs rejected requests, thinning out repeats of the same status and path."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[int, str]] = Counter()

    def log(self, method: str, path: str, status: int, detail: str) -> None:
        key = (status, path)
        self.counts[key] += 1
        count = self.counts[key]
        if count <= FIRST_LOGGED or count % REPEATED_LOG_EVERY == 0:
            suffix = f" (rejected {count} times)" if count > FIRST_LOGGED else ""
            logger.warning("%s %s rejected with %d: %s%s", method, path, status, detail, suffix)


def add_error_handlers(app: FastAPI) -> None:
    """Return every error as ``{"detail": "<message>"}`` and log it with the request."""
    rejections = RejectionLog()
    app.state.rejections = rejections

    def reject(request: Request, status: int, detail: str) -> JSONResponse:
        rejections.log(request.method, request.url.path, status, detail)
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return reject(request, error.status_code, str(error.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return reject(request, 422, describe_validation_errors(error.errors()))

    @app.exception_handler(NoDecoderError)
    async def no_decoder(request: Request, error: NoDecoderError) -> JSONResponse:
        return reject(request, 409, str(error))

    @app.exception_handler(LatentSpaceError)
    async def space_error(request: Request, error: LatentSpaceError) -> JSONResponse:
        # Raised by the space for a request it cannot serve; the message names the fix.
        status = 422 if isinstance(error, InvalidParameterError) else 400
        return reject(request, status, str(error))


def describe_validation_errors(errors: list[dict]) -> str:
    """Join pydantic's errors into one line: field, rule and the value received."""
    parts = []
    for error in errors[:5]:
        field = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        part = f"{field or 'body'}: {message}"
        value = error.get("input")
        if error.get("type") != "missing" and not isinstance(value, dict):
            part += f", received {short_repr(value)}"
        parts.append(part)
    if len(errors) > 5:
        parts.append(f"and {len(errors) - 5} more errors")
    return "; ".join(parts)


def short_repr(value: Any, limit: int = 80) -> str:
    """Return `repr(value)`, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class CatchServerErrors:
    """Log an unexpected exception once, with the request, and return 500 as JSON.

    Starlette's own 500 handler re-raises the exception, so uvicorn would log the
    traceback a second time. An exception raised after the response started is re-raised,
    since the response can no longer change.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_and_track(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_and_track)
        except Exception as error:
            logger.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if started:
                raise
            body = {"detail": f"internal error ({type(error).__name__}); see the server log"}
            await JSONResponse(body, status_code=500)(scope, receive, send)


# ------------------------------------------------------------------ body size limit


class BodySizeLimit:
    """Reject request bodies above `max_bytes` with 413, by header and by actual length.

    The declared Content-Length is checked first. The body is then read in full while
    counting its bytes, so a chunked upload without Content-Length cannot exceed the
    limit either. Buffering is cheap because accepted bodies are small.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await self._reject(scope, receive, send, 400,
                                   f"Content-Length: invalid value {declared[:20]!r}; "
                                   "expected a number of bytes")
                return
            if int(declared) > self.max_bytes:
                await self._reject(scope, receive, send, 413, self._too_large(int(declared)))
                return

        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # The client disconnected before sending its body.
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, receive, send, 413, self._too_large(size, "at least "))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)

        await self.app(scope, replay_body(b"".join(chunks), receive), send)

    def _too_large(self, size: int, qualifier: str = "") -> str:
        return (f"request body: {qualifier}{size} bytes received; the maximum is "
                f"{self.max_bytes} bytes")

    async def _reject(self, scope: Scope, receive: Receive, send: Send, status: int,
                      detail: str) -> None:
        method, path = scope.get("method", "?"), scope.get("path", "?")
        app = scope.get("app")
        rejections = getattr(getattr(app, "state", None), "rejections", None)
        if rejections is not None:
            rejections.log(method, path, status, detail)
        else:
            logger.warning("%s %s rejected with %d: %s", method, path, status, detail)
        await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """Return a `receive` that yields `body` once, then defers to the original."""
    sent = False

    async def receive_again() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again
