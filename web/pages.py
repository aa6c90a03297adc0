"""Pages: the dashboard's routes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from web.state import get_services


def routes(templates: Jinja2Templates) -> list[BaseRoute]:
    async def home(request: Request) -> Response:
        svc = get_services(request)
        return templates.TemplateResponse(
            request, "home.html", {"app_env": svc.settings.app_env.value}
        )

    return [Route("/", home, name="home")]
