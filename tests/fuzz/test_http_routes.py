"""Every HTTP route of the app, fuzzed over real HTTP: junk methods, paths, query strings, form,
multipart, JSON and raw bodies, headers; logged in (with or without the CSRF token) or not.

No response may be a 5xx or show the server's internals, and the server may log no error.
`bench/fuzz.py` runs the same with many more cases.
"""

from __future__ import annotations

import httpx
import pytest

from tests.fuzz.http_fuzz import (
    FuzzRequest,
    RouteShape,
    Session,
    fuzz_route,
    route_shapes,
)
from tests.fuzz.server import AppProcess, Tenant, describe_errors

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = 12  # per route here; `bench/fuzz.py --http-examples` for long runs
SHAPES = route_shapes()


def test_the_route_table_is_fuzzed_whole() -> None:
    paths = {shape.path for shape in SHAPES}
    assert {"/healthz", "/readyz", "/metrics", "/login", "/setup", "/events", "/graphql"} <= paths
    assert "/posts/{post_id}/edit" in paths and "/static/{path}" in paths
    assert len(SHAPES) > 60


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{'|'.join(s.methods)} {s.path}" for s in SHAPES])
def test_fuzzed_requests_get_no_server_error(
    shape: RouteShape,
    fuzz_app: AppProcess,
    owner: Tenant,
    stranger: Tenant,
    web_session: Session,
) -> None:
    ids = [owner.account_id, owner.post_id, stranger.account_id, stranger.post_id]
    since = fuzz_app.log_size()

    def server_logged_nothing(request: FuzzRequest) -> None:
        if fuzz_app.log_size() != since:
            errors = fuzz_app.server_errors(since)
            assert not errors, request.describe() + "\n" + describe_errors(errors)

    with httpx.Client(base_url=fuzz_app.base_url, timeout=30) as client:
        statuses = fuzz_route(
            client,
            shape,
            ids=ids,
            session=web_session,
            examples=EXAMPLES,
            after_each=server_logged_nothing,
        )
    assert statuses, "no request was sent"
    assert fuzz_app.alive
