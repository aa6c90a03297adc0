"""The fuzzers' checks can fail: each recognises what it exists to catch."""

from __future__ import annotations

import json

import pytest
import schemathesis
import strawberry
from schemathesis.core.failures import FailureGroup
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import MaskErrors

from tests.fuzz.checks import (
    MASKED,
    body_problems,
    graphql_error_problems,
    status_problem,
)
from tests.fuzz.graphql_fuzz import CHECKS


@pytest.mark.parametrize(
    "error",
    [
        {"message": MASKED},
        {"message": "'NoneType' object has no attribute 'owner_id'"},
        {"message": "KeyError: 'status'"},
        {"message": "'zz' is not a valid ObjectId, it must be a 12-byte input"},
        {"message": "pymongo.errors.ServerSelectionTimeoutError: localhost:27017"},
        {"message": "Post not found.", "extensions": {"stacktrace": ["..."]}},
        {"locations": []},
    ],
)
def test_an_internal_or_malformed_graphql_error_is_a_problem(error: dict[str, object]) -> None:
    assert graphql_error_problems({"data": None, "errors": [error]})


@pytest.mark.parametrize(
    "message",
    [
        "Post 6650 was not found; check the id (it may have been deleted).",
        "Invalid input. limit: Give a number from 1 to 500; got 0.",
        "Variable '$first' got invalid value 'ten'; Int cannot represent non-integer value: 'ten'",
        "Syntax Error: Expected Name, found <EOF>.",
    ],
)
def test_an_error_meant_for_the_client_is_not_a_problem(message: str) -> None:
    assert graphql_error_problems({"errors": [{"message": message}]}) == []


def test_a_server_error_status_is_a_problem_except_readiness_saying_it_is_not_ready() -> None:
    unavailable = json.dumps({"status": "unavailable", "failing": ["worker"]}).encode()
    assert status_problem("GET", "/posts", 500, b"Internal Server Error")
    assert status_problem("POST", "/graphql", 502, b"")
    assert status_problem("GET", "/readyz", 500, unavailable)
    assert status_problem("GET", "/readyz", 503, b"Internal Server Error")
    assert status_problem("GET", "/readyz", 503, unavailable) is None
    assert status_problem("GET", "/posts/x", 404, b"") is None


def test_a_traceback_in_any_body_is_a_problem() -> None:
    page = b'<pre>Traceback (most recent call last):\n  File "/app/web/x.py", line 3</pre>'
    assert body_problems("text/html; charset=utf-8", page)
    assert body_problems("text/html", b"<p>Post not found.</p>") == []


def test_the_schemathesis_checks_fail_on_a_masked_error() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def broken(self) -> str:
            raise RuntimeError("a bug")

    schema = strawberry.Schema(query=Query, extensions=[MaskErrors])
    app = Starlette(routes=[Route("/graphql", GraphQL(schema))])
    api = schemathesis.graphql.from_asgi("/graphql", app)
    operation = api.find_operation_by_label("Query.broken")
    assert operation is not None
    case = api.make_case(operation=operation, body="{ broken }")
    response = case.call()
    assert response.json()["errors"][0]["message"] == MASKED
    with pytest.raises(FailureGroup, match="a masked internal error"):
        case.validate_response(response, checks=CHECKS)
