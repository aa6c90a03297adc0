"""State: what the lifespan hands to every request."""

from __future__ import annotations

from typing import TypedDict, cast

from starlette.requests import HTTPConnection

from scheduler.services import Services


class AppState(TypedDict):
    services: Services


def get_services(conn: HTTPConnection) -> Services:
    return cast(Services, conn.state.services)
