"""Health: /healthz (the process is up), /readyz (it can do its job), /metrics (Prometheus).

/healthz does no I/O, so a load balancer or orchestrator never restarts a healthy process because
a dependency is slow. /readyz answers 503 with the failing parts as JSON while MongoDB or Redis is
unreachable or no worker has sent a heartbeat lately. Neither needs a login; /metrics carries no
tenant data but should only be reachable from the monitoring network (see docs/deploy.md).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from web.state import get_services

_NO_STORE = {"Cache-Control": "no-store"}


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=_NO_STORE)


async def readyz(request: Request) -> Response:
    readiness = await get_services(request).health.readiness()
    return JSONResponse(
        readiness.to_json(), status_code=200 if readiness.ready else 503, headers=_NO_STORE
    )


async def metrics(request: Request) -> Response:
    exposition = await get_services(request).health.metrics()
    return Response(exposition.body, media_type=exposition.content_type, headers=_NO_STORE)


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, name="healthz"),
        Route("/readyz", readyz, name="readyz"),
        Route("/metrics", metrics, name="metrics"),
    ]
