"""The Starlette application: routes, lifespan and middleware, built by `create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from scheduler.services import Services, build_services
from scheduler.settings import Settings, load_settings
from web.state import AppState, get_services
from web.templating import STATIC_DIR, create_templates


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Starlette:
    """Build the app; with `services` given (tests, `dev`), the lifespan uses them as they are."""
    templates = create_templates()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[AppState]:
        if services is not None:
            yield {"services": services}
            return
        async with build_services(settings or load_settings()) as built:
            yield {"services": built}

    async def home(request: Request) -> Response:
        svc = get_services(request)
        return templates.TemplateResponse(
            request, "home.html", {"app_env": svc.settings.app_env.value}
        )

    routes = [
        Route("/", home, name="home"),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
