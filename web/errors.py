"""Errors: the one place domain errors become HTTP responses (C10)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from scheduler.errors import (
    AuthenticationFailed,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    SchedulerError,
    ValidationFailed,
)

Handler = Callable[[Request, Exception], Awaitable[Response]]
STATUS: dict[type[SchedulerError], int] = {
    NotFoundError: 404,
    ValidationFailed: 422,
    ConflictError: 409,
    PermissionDenied: 403,
    AuthenticationFailed: 401,
}


def exception_handlers(templates: Jinja2Templates) -> dict[type[Exception], Handler]:
    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SchedulerError)
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        return JSONResponse({"error": type(exc).__name__, "message": str(exc)}, status_code=status)

    return {SchedulerError: domain_error}
