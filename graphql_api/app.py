"""The GraphQL endpoint mounted by the web app (filled in by the GraphQL API work)."""

from __future__ import annotations

from starlette.routing import BaseRoute


def graphql_routes() -> list[BaseRoute]:
    return []
