"""HTTP fuzzing of every route of the app: a Hypothesis request generator over `app.routes`.

The app has no OpenAPI schema for schemathesis to read, so the requests are drawn here from the
route table itself: any route (and the paths next to them), its own methods or any other, path
parameters filled with the tenant's real ids, another tenant's, or junk; query strings and form
fields named as the dashboard names them (mined from `templates/` and `web/`) with junk values;
url-encoded, multipart, JSON and raw bodies; htmx, CSRF, origin and content-type headers, right
or wrong; logged in or not. `/graphql` additionally gets junk GraphQL requests (documents,
variables, batches, GET queries).

Every response must pass `tests.fuzz.checks`: no 5xx and no internal error in the body.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Mount, Route

import web
from scheduler.platform.settings import load_settings
from tests.fuzz.checks import body_problems, status_problem
from web.app import create_app

ROOT = Path(web.__file__).resolve().parent.parent
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
# The core's field paths the composer and settings forms use (their templates build some names
# from loop variables, so they cannot all be mined).
FIELD_PATHS = (
    "text",
    "type",
    "account_id",
    "media.0.url",
    "media.0.alt_text",
    "media.0.kind",
    "media.1.url",
    "replies.0.text",
    "replies.0.delay_seconds",
    "options.topic_tag",
    "options.reply_control",
    "options.link_attachment",
    "options.poll.options.0",
    "schedule.pattern",
    "schedule.timezone",
    "schedule.start_date",
    "schedule.end_date",
    "schedule.times",
    "schedule.days_of_week",
    "schedule.interval",
    "schedule.day_of_month",
    "schedule.count",
    "schedule.rrule",
    "days.0",
    "times.0",
    "name",
    "url",
    "events",
    "description",
    "page",
    "state",
    "limit",
)
_TEMPLATE_NAME = re.compile(r'name="([A-Za-z_][\w.]*)"')
_SOURCE_NAME = re.compile(
    r'(?:\.get(?:list)?|\b(?:text|optional|strings|integer|number|boolean))\(\s*(?:\w+,\s*)?"([a-z_][\w.]*)"'
)
RAW_CONTENT_TYPES = (
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "application/json",
    "text/plain",
    "junk",
)
MAX_READ = 512 * 1024


def field_names() -> list[str]:
    """Query and form field names the dashboard reads, mined from its templates and handlers."""
    names = set(FIELD_PATHS)
    for template in (ROOT / "templates").rglob("*.html"):
        names.update(_TEMPLATE_NAME.findall(template.read_text(errors="replace")))
    for module in (ROOT / "web").glob("*.py"):
        names.update(_SOURCE_NAME.findall(module.read_text(errors="replace")))
    names.discard("csrf_token")  # sent (or not) on purpose, below
    return sorted(names)


@dataclass(frozen=True)
class RouteShape:
    """One route: its path template, parameter names and methods."""

    path: str
    params: tuple[str, ...]
    methods: tuple[str, ...]


def route_shapes(routes: Sequence[BaseRoute] | None = None) -> list[RouteShape]:
    """The HTTP routes of `web.app.create_app` (WebSocket routes are fuzzed elsewhere)."""
    if routes is None:
        routes = create_app(load_settings({"APP_ENV": "test"})).routes
    shapes: list[RouteShape] = []
    for route in routes:
        if isinstance(route, Route):
            methods = tuple(sorted(route.methods or {"GET"}))
            shapes.append(RouteShape(route.path, tuple(route.param_convertors), methods))
        elif isinstance(route, Mount):
            shapes.append(RouteShape(route.path + "/{path}", ("path",), ("GET", "HEAD")))
    return shapes


Param = str | int | float | bool | None  # what httpx takes as a query parameter's value


@dataclass(frozen=True)
class Session:
    """What a logged-in client sends: its session cookie and CSRF token."""

    cookie: str
    csrf: str


@dataclass
class FuzzRequest:
    """One generated request."""

    method: str
    path: str
    params: list[tuple[str, Param]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    raw_body: bool = False  # the body is random bytes, whatever its content type says

    def describe(self) -> str:
        body = (self.content or b"")[:300]
        return (
            f"{self.method} {self.path} params={self.params} headers={self.headers} body={body!r}"
        )


# --- values ------------------------------------------------------------------------------------

_JUNK_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)  # no lone surrogates
_EDGE_VALUES = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "1e309",
        "NaN",
        "99999999999999999999999",
        "true",
        "null",
        "[]",
        "{}",
        "2030-02-30",
        "2030-13-01",
        "1999-01-01",
        "9999-12-31",
        "25:61",
        "09:00",
        "Europe/Nowhere",
        "UTC",
        "../../etc/passwd",
        "%00",
        "\x00",
        "<script>alert(1)</script>",
        "{{ 7*7 }}",
        "' OR '1'='1",
        "$where",
        '{"$gt": ""}',
        "FREQ=SECONDLY;INTERVAL=1",
        "FREQ=WEEKLY;BYDAY=XX",
        "ONCE",
        "WEEKLY",
        "MONTHLY",
        "DATE_RANGE",
        "RRULE",
        "TEXT",
        "IMAGE",
        "CAROUSEL",
        "VIDEO",
        "https://example.com/a.jpg",
        "http://127.0.0.1:1/",
        "javascript:alert(1)",
        "ffffffffffffffffffffffff",
        "000000000000000000000000",
        "x" * 5000,
        "é" * 300,
    ]
)


def values(ids: Sequence[str]) -> st.SearchStrategy[str]:
    """A query or form value: junk, an edge case, or a real id."""
    options = [_JUNK_TEXT, _EDGE_VALUES, st.integers().map(str)]
    if ids:
        options.append(st.sampled_from(list(ids)))
    return st.one_of(*options)


def path_parameter(ids: Sequence[str]) -> st.SearchStrategy[str]:
    """A path segment: a real id, a wrong-shaped one, or junk (URL-quoted)."""
    junk = st.one_of(_JUNK_TEXT, _EDGE_VALUES).map(lambda v: quote(v, safe=""))
    options = [junk, st.text(alphabet="0123456789abcdef", min_size=24, max_size=24)]
    if ids:
        options.append(st.sampled_from(list(ids)))
    return st.one_of(*options).filter(bool)


# --- requests ----------------------------------------------------------------------------------


@st.composite
def fuzz_requests(
    draw: st.DrawFn,
    shapes: Sequence[RouteShape],
    names: Sequence[str],
    ids: Sequence[str],
    session: Session | None,
) -> FuzzRequest:
    """One request to one of `shapes`, as described in the module docstring."""
    shape = draw(st.sampled_from(list(shapes)))
    method = draw(st.sampled_from(shape.methods) | st.sampled_from(METHODS))
    path = shape.path
    for name in shape.params:
        path = path.replace("{" + name + "}", draw(path_parameter(ids)), 1)
    path = draw(st.sampled_from(["", "", "", "/", "//", "/x", "?", "%2e%2e"]).map(path.__add__))
    request = FuzzRequest(method=method, path=path)
    pair = st.tuples(st.sampled_from(list(names)) | _JUNK_TEXT, values(ids))
    request.params = draw(st.lists(pair, max_size=6))
    logged_in = session is not None and draw(st.booleans() | st.just(True))
    if logged_in:
        assert session is not None
        request.headers["Cookie"] = f"ts_session={session.cookie}"
    request.headers.update(draw(_headers(session if logged_in else None)))
    if method not in ("GET", "HEAD", "OPTIONS") or draw(st.integers(0, 9)) == 0:
        body = draw(_bodies(names, ids, session if logged_in else None))
        content_type, request.content, request.raw_body = body
        if content_type is not None:
            request.headers["Content-Type"] = content_type
    if shape.path == "/graphql":
        request = draw(st.just(request) | graphql_requests(ids, request.headers))
    return request


@st.composite
def _headers(draw: st.DrawFn, session: Session | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["HX-Request"] = draw(st.sampled_from(["true", "false", "junk"]))
        if draw(st.booleans()):
            headers["HX-Target"] = draw(st.sampled_from(["#flash", "#posts", "body", "]]"]))
        if draw(st.booleans()):
            headers["HX-Current-URL"] = draw(st.sampled_from(["http://x/", "junk", ""]))
    if session is not None and draw(st.integers(0, 3)) > 0:
        headers["X-CSRF-Token"] = session.csrf
    elif draw(st.booleans()):
        headers["X-CSRF-Token"] = draw(st.sampled_from(["", "junk", "x" * 300]))
    if draw(st.integers(0, 5)) == 0:
        headers["Origin"] = draw(st.sampled_from(["null", "http://evil.example", "junk"]))
    if draw(st.integers(0, 5)) == 0:
        headers["Accept"] = draw(
            st.sampled_from(["text/event-stream", "application/json", "*/*", "junk/junk"])
        )
    if draw(st.integers(0, 7)) == 0:
        headers["Authorization"] = draw(st.sampled_from(["Bearer junk", "Basic eA==", "Bearer"]))
    if draw(st.integers(0, 7)) == 0:
        headers["Range"] = draw(st.sampled_from(["bytes=0-1", "bytes=9-1", "bytes=junk"]))
    return headers


@st.composite
def _bodies(
    draw: st.DrawFn, names: Sequence[str], ids: Sequence[str], session: Session | None
) -> tuple[str | None, bytes, bool]:
    """(content type, body, whether the body is random bytes whatever the type says)."""
    pair = st.tuples(st.sampled_from(list(names)) | _JUNK_TEXT, values(ids))
    fields = draw(st.lists(pair, max_size=12))
    if session is not None and draw(st.integers(0, 3)) > 0:
        fields.append(("csrf_token", session.csrf))
    kind = draw(st.sampled_from(["form", "form", "multipart", "json", "raw", "none"]))
    if kind == "form":
        body = httpx.Request("POST", "http://x/", data=dict(fields)).content
        return "application/x-www-form-urlencoded", body, False
    if kind == "multipart":
        files = {"file": ("posts.csv", draw(st.binary(max_size=300)), "text/csv")}
        request = httpx.Request("POST", "http://x/", data=dict(fields), files=files)
        return request.headers["Content-Type"], request.read(), False
    if kind == "json":
        body = draw(st.sampled_from(JSON_EDGES) | _json_values.map(json.dumps).map(str.encode))
        return "application/json", body, False
    if kind == "raw":
        return draw(st.sampled_from(RAW_CONTENT_TYPES)), draw(st.binary(max_size=500)), True
    return None, b"", False


# JSON that `json.loads` refuses with something other than JSONDecodeError, or barely accepts.
JSON_EDGES = (
    b"[" * 100_000,
    b'{"query": "{ health }", "variables": ' + b"[" * 50_000 + b"}",
    b'{"query": "{ health }", "variables": {"a": "\xff\xfe"}}',
    b'{"query": "{ health }", "variables": {"a": ' + b"9" * 5_000 + b"}}",
    b'{"query": "{ health }", "variables": {"a": NaN, "b": Infinity}}',
    b'{"query": "{ health }", "query": "{ me { role } }"}',
    b'\xef\xbb\xbf{"query": "{ health }"}',
    b'"{ health }"',
    b"null",
)

_json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _JUNK_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_JUNK_TEXT, inner, max_size=4),
    max_leaves=12,
)

_DOCUMENTS = st.sampled_from(
    [
        "{ health }",
        "{ me { role } }",
        "query($id: ID!) { post(id: $id) { __typename } }",
        "query($first: Int) { posts(first: $first) { totalCount } }",
        "mutation($input: CreatePostInput!) { createPost(input: $input) { __typename } }",
        "mutation($input: SchedulePostInput!) { schedulePost(input: $input) { __typename } }",
        "subscription { schedulerState { __typename } }",
        "{ __schema { types { name } } }",
        "query A { health } query B { health }",
        "{ health ",
        "",
        "{ " + "posts { edges { node { account { " * 6 + "id" + " } } } }" * 6 + " }",
        "fragment F on Query { ...F } { ...F }",
    ]
)


@st.composite
def graphql_requests(
    draw: st.DrawFn, ids: Sequence[str], headers: Mapping[str, str]
) -> FuzzRequest:
    """A junk GraphQL request: odd documents, variables of every type, batches, GET queries."""
    document = draw(_DOCUMENTS | _JUNK_TEXT)
    variables = draw(
        st.none()
        | _json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "id": values(ids) | _json_values,
                "first": _json_values,
                "input": _json_values,
            },
        )
    )
    payload: dict[str, Any] = {"query": document, "variables": variables}
    if draw(st.booleans()):
        payload["operationName"] = draw(st.none() | _JUNK_TEXT | st.just("A"))
    if draw(st.integers(0, 5)) == 0:
        payload["extensions"] = draw(_json_values)
    sent = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    if draw(st.integers(0, 4)) == 0:
        encoded_variables = draw(
            st.sampled_from(["[" * 5000, "9" * 5000, "{"]) | st.just(json.dumps(variables))
        )
        params: list[tuple[str, Param]] = [("query", document), ("variables", encoded_variables)]
        return FuzzRequest("GET", "/graphql", params, sent)
    body: Any = payload
    if draw(st.integers(0, 5)) == 0:
        body = [payload, payload]  # a batch
    elif draw(st.integers(0, 7)) == 0:
        body = draw(_json_values)
    encoded = json.dumps(body).encode()
    if draw(st.integers(0, 7)) == 0:
        encoded = draw(st.sampled_from(JSON_EDGES))
    return FuzzRequest("POST", "/graphql", [], sent | {"Content-Type": "application/json"}, encoded)


# --- sending -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What came back: the status and what is wrong with the response (nothing, ideally)."""

    status: int
    problems: tuple[str, ...]


def send(client: httpx.Client, request: FuzzRequest) -> Outcome:
    """Send one request; an event stream is checked on its status and first bytes only."""
    built = client.build_request(
        request.method,
        request.path,
        params=request.params,
        headers=request.headers,
        content=request.content,
    )
    response = client.send(built, stream=True)
    try:
        content_type = response.headers.get("content-type", "")
        body = b""
        if content_type.startswith("text/event-stream"):
            body = _first_bytes(response)
        else:
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_READ:
                    break
    finally:
        response.close()
    problems: list[str] = []
    path = built.url.path
    if (problem := status_problem(request.method, path, response.status_code, body)) is not None:
        problems.append(problem)
    problems += body_problems(content_type, body)
    return Outcome(response.status_code, tuple(problems))


def _first_bytes(response: httpx.Response) -> bytes:
    for chunk in response.iter_raw():
        return chunk
    return b""


def logged_in_session(base_url: str, email: str, password: str) -> Session:
    """Log in through the form, as a browser does; the session's cookie and CSRF token."""
    field_re = re.compile(r'name="csrf_token" value="([^"]+)"')
    with httpx.Client(base_url=base_url, timeout=30) as client:
        page = client.get("/login")
        match = field_re.search(page.text)
        if match is None:
            raise AssertionError(f"/login shows no CSRF field:\n{page.text[:2000]}")
        data = {"email": email, "password": password, "csrf_token": match.group(1)}
        response = client.post("/login", data=data)
        if response.status_code != 303:
            raise AssertionError(f"Logging in failed ({response.status_code}): {response.text}")
        token = field_re.search(client.get("/settings/tokens").text)
        if token is None:
            raise AssertionError("The tokens page shows no CSRF field once logged in.")
        cookie = client.cookies.get("ts_session")
        assert cookie is not None
        return Session(cookie=cookie, csrf=token.group(1))


def fuzz_route(
    client: httpx.Client,
    shape: RouteShape,
    *,
    ids: Sequence[str],
    session: Session | None,
    examples: int,
    after_each: Callable[[FuzzRequest], None] | None = None,
) -> Counter[int]:
    """Send `examples` generated requests to one route; raises on the first request that gets a
    5xx or leaks internals (Hypothesis shrinks it first). The statuses that came back.

    Args:
        client: an `httpx.Client` with the app's base URL.
        shape: the route.
        ids: real ids to put in paths and fields.
        session: a logged-in session (requests are sent with or without it).
        examples: Hypothesis' `max_examples`.
        after_each: called with each request once answered (e.g. to check the server's log).
    """
    statuses: Counter[int] = Counter()
    names = field_names()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(request=fuzz_requests([shape], names, ids, session))
    def run(request: FuzzRequest) -> None:
        outcome = send(client, request)
        statuses[outcome.status] += 1
        assert not outcome.problems, request.describe() + "\n" + "\n".join(outcome.problems)
        if after_each is not None:
            after_each(request)

    run()
    return statuses
