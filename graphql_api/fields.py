"""Fields: typed decorators for resolvers, and the ones that demand an authenticated caller.

`strawberry.field(description=...)` is typed as returning `Any`, which strict mypy refuses as a
decorator; these keep the resolver's own type. Every root field is declared with an
`authenticated_*` decorator except `health` (a test walks the schema to hold that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

from graphql_api.auth import IsAuthenticated

F = TypeVar("F", bound=Callable[..., Any])


def field(*, description: str | None = None) -> Callable[[F], F]:
    """A resolved field of a type (reached through an authenticated root field)."""
    return cast(Callable[[F], F], strawberry.field(description=description))


def public_field(*, description: str | None = None) -> Callable[[F], F]:
    """A root field anyone may ask for, without credentials."""
    return cast(Callable[[F], F], strawberry.field(description=description))


def authenticated_field(*, description: str | None = None) -> Callable[[F], F]:
    """A root query field; without valid credentials it is an UNAUTHENTICATED error."""
    return cast(
        Callable[[F], F],
        strawberry.field(permission_classes=[IsAuthenticated], description=description),
    )


def authenticated_mutation(*, description: str | None = None) -> Callable[[F], F]:
    return cast(
        Callable[[F], F],
        strawberry.mutation(permission_classes=[IsAuthenticated], description=description),
    )


def authenticated_subscription(*, description: str | None = None) -> Callable[[F], F]:
    return cast(
        Callable[[F], F],
        strawberry.subscription(permission_classes=[IsAuthenticated], description=description),
    )
