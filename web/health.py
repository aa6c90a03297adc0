"""Health: /healthz (the process is up). /readyz and /metrics come with the operations work."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def routes() -> list[BaseRoute]:
    return [Route("/healthz", healthz, name="healthz")]
