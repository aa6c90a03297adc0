"""Security: the middleware every request passes through.

- The signed session cookie `ts_session` (Starlette's `SessionMiddleware`: HttpOnly, SameSite=Lax,
  Secure in production). Session contract (read by `graphql_api` too, which may not import `web`):
  it holds `user_id` (str) once logged in, and `csrf` (str), the token forms and HTMX requests must
  echo.
- `SecurityMiddleware` (pure ASGI: `BaseHTTPMiddleware` would buffer the SSE stream):
  * CSRF: every POST/PUT/PATCH/DELETE must carry the session's token, as the `X-CSRF-Token`
    header (htmx adds it from `hx-headers` on `<body>`) or the `csrf_token` form field; and no
    state-changing request may come from another site (`Origin`, `Sec-Fetch-Site`).
  * Bodies are read whole before the check, so they are capped: 1 MiB for forms, and
    IMPORT_MAX_BYTES (plus room for the other fields) for the import upload (`UPLOAD_PATHS`),
    refused with a message saying the limit.
  * `/graphql` authenticates on its own (session or API token) and is exempt from the token
    check, but a POST must be JSON: a cross-site HTML form cannot send that, and a cross-site
    script cannot either without a CORS preflight, which is never granted. Cross-site WebSocket
    handshakes are refused.
  * Security headers on every response: a CSP allowing only this origin's files (plus a
    per-request nonce, `request.state.csp_nonce`, for the rare inline script or style), no
    framing, nosniff, a same-origin referrer policy. A response that sets its own
    `Content-Security-Policy` (a page with special needs, e.g. GraphiQL) keeps it.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scheduler.platform.settings import Environment, Settings

DEV_SESSION_SECRET = "development-only-session-secret"
SESSION_COOKIE = "ts_session"
SESSION_MAX_AGE = 7 * 24 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_EXEMPT_PREFIX = "/graphql"
MAX_FORM_BYTES = 1 << 20  # dashboard forms are small; anything bigger is refused
# The import form carries a file: up to IMPORT_MAX_BYTES, plus room for its other fields (a file
# a little over the limit then reaches the importer, which says how to split it).
UPLOAD_PATHS = frozenset({"/import", "/import/check"})
UPLOAD_SLACK = 64 * 1024
CSRF_FAILED = (
    "This form has expired or was sent from another site, so it was not accepted. "
    "Reload the page and try again."
)


def session_secret(settings: Settings) -> str:
    """The key that signs session cookies and OAuth states (SECRET_KEY; required in production)."""
    return settings.secret_key.get_secret_value() if settings.secret_key else DEV_SESSION_SECRET


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def middleware(settings: Settings) -> list[Middleware]:
    production = settings.app_env is Environment.PRODUCTION
    return [
        Middleware(
            SessionMiddleware,
            secret_key=session_secret(settings),
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=production,
        ),
        Middleware(
            SecurityMiddleware,
            production=production,
            upload_bytes=settings.import_max_bytes + UPLOAD_SLACK,
        ),
    ]


class SecurityMiddleware:
    """CSRF checks, cross-site refusals and security headers (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, *, production: bool = False, upload_bytes: int = MAX_FORM_BYTES
    ) -> None:
        self.app = app
        self.production = production
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if _cross_site(Headers(scope=scope)):
                await send({"type": "websocket.close", "code": 1008, "reason": "cross-site"})
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        send = self._with_headers(send, nonce)
        refusal, receive = await self._check(scope, receive)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope, receive: Receive) -> tuple[Response | None, Receive]:
        """A refusal for a request that fails the CSRF rules (and the receive to use after)."""
        if scope["method"] in SAFE_METHODS:
            return None, receive
        headers = Headers(scope=scope)
        if _cross_site(headers):
            return _refuse(headers, 403, CSRF_FAILED), receive
        path: str = scope["path"]
        if path == CSRF_EXEMPT_PREFIX or path.startswith(CSRF_EXEMPT_PREFIX + "/"):
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if scope["method"] == "POST" and media_type != "application/json":
                message = "Send GraphQL requests as JSON (Content-Type: application/json)."
                return PlainTextResponse(message, status_code=415), receive
            return None, receive
        upload = path in UPLOAD_PATHS
        limit = self.upload_bytes if upload else MAX_FORM_BYTES
        declared = headers.get("content-length", "")
        # A body declared over the limit is refused before it is sent, not read first.
        too_large = declared.isdigit() and int(declared) > limit
        body = None if too_large else await _read_body(receive, limit)
        if body is None:
            message = "The form is too large to be accepted."
            if upload:
                megabytes = (self.upload_bytes - UPLOAD_SLACK) / 1_000_000
                message = (
                    f"The file is too large to import: files of up to {megabytes:g} MB are "
                    "accepted. Split it into smaller files and import each."
                )
            return _refuse(headers, 413, message), receive
        replay = _replay(body, receive)
        sent = headers.get("x-csrf-token") or await _form_token(scope, headers, body)
        expected = scope.get("session", {}).get("csrf")
        valid = (
            isinstance(expected, str)
            and bool(expected)
            and bool(sent)
            and hmac.compare_digest(expected.encode(), (sent or "").encode())
        )
        return (None if valid else _refuse(headers, 403, CSRF_FAILED)), replay

    def _with_headers(self, send: Send, nonce: str) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = content_security_policy(nonce)
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                if self.production:
                    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
            await send(message)

        return send_with_headers


def _cross_site(headers: Headers) -> bool:
    """True when the browser says the request comes from another site."""
    if headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    # Compare hosts only: behind a TLS-terminating proxy the scheme we see is http.
    return origin == "null" or urlsplit(origin).netloc.lower() != headers.get("host", "").lower()


def _refuse(headers: Headers, status: int, message: str) -> Response:
    if headers.get("hx-request") == "true":
        # htmx swaps 4xx responses (see the htmx-config in layout.html): show it as a flash.
        response: Response = HTMLResponse(
            f'<p class="flash error" role="alert">{message}</p>', status_code=status
        )
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return HTMLResponse(
        "<!doctype html><title>Not accepted</title>"
        f'<p>{message}</p><p><a href="/">Back to the dashboard</a></p>',
        status_code=status,
    )


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the buffered body over once, then waits on the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _form_token(scope: Scope, headers: Headers, body: bytes) -> str | None:
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get("csrf_token")
        return values[0] if values else None
    if media_type == "multipart/form-data":
        request = Request(scope, _replay(body, _no_more_messages))
        try:
            async with request.form() as form:
                value = form.get("csrf_token")
        except HTTPException:  # a malformed multipart body carries no token
            return None
        return value if isinstance(value, str) else None
    return None


async def _no_more_messages() -> Message:  # pragma: no cover - the body is complete
    return {"type": "http.disconnect"}
