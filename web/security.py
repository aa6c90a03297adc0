"""Security: the middleware every request passes through.

Session contract (read by `graphql_api` too, which may not import `web`): the signed session
cookie holds `user_id` (str) once logged in, and `csrf` (str), the token forms and HTMX requests
must echo.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware

from scheduler.settings import Settings

DEV_SESSION_SECRET = "development-only-session-secret"


def middleware(settings: Settings) -> list[Middleware]:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else DEV_SESSION_SECRET
    return [
        Middleware(
            SessionMiddleware,
            secret_key=secret,
            session_cookie="ts_session",
            same_site="lax",
            https_only=settings.app_env.value == "production",
        )
    ]
