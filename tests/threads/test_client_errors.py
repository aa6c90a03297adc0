"""The client's error mapping and request encoding, with httpx.MockTransport (no monkeypatching).

Contract tests against the simulator cover the same families end to end; these pin the details
Meta's real API has that the simulator does not produce (HTTP dates in Retry-After, 429s, …).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from scheduler.platform.clock import ManualClock
from scheduler.platform.errors import (
    ConfigurationError,
    ThreadsApiError,
    ThreadsAuthError,
    ThreadsContainerNotReady,
    ThreadsMediaFailed,
    ThreadsOutcomeUnknown,
    ThreadsRateLimited,
    ThreadsRejectedError,
    ThreadsTransientError,
)
from scheduler.threads import (
    ContainerRequest,
    ContainerState,
    ContainerStatus,
    MediaType,
    ThreadsClient,
)
from scheduler.threads.graph_errors import media_failed

NOW = datetime(2030, 1, 1, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, **kw: Any) -> ThreadsClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return ThreadsClient(http, clock=ManualClock(NOW), app_id="app", app_secret="secret", **kw)


def graph_error(status: int, headers: dict[str, str] | None = None, **error: Any) -> Handler:
    return lambda request: httpx.Response(status, json={"error": error}, headers=headers)


def err(status: int, code: int, subcode: int | None = None, **fields: Any) -> Handler:
    error = {"message": f"error {code}", "code": code, **fields}
    if subcode is not None:
        error["error_subcode"] = subcode
    return graph_error(status, **error)


def plain(status: int, text: str) -> Handler:
    return lambda request: httpx.Response(status, text=text)


def raising(exc_type: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("simulated", request=request)

    return handler


async def publish(client: ThreadsClient) -> Any:
    return await client.publish("123", access_token="tok")


async def read(client: ThreadsClient) -> Any:
    return await client.get_container_status("123", access_token="tok")


async def create(client: ThreadsClient) -> Any:
    return await client.create_container(
        ContainerRequest(MediaType.TEXT, text="x"), access_token="tok"
    )


@pytest.mark.parametrize(
    ("handler", "call", "expected"),
    [
        # transport failures: never sent → transient; sent → unknown for publish only
        (raising(httpx.ConnectError), publish, ThreadsTransientError),
        (raising(httpx.ConnectTimeout), publish, ThreadsTransientError),
        (raising(httpx.PoolTimeout), publish, ThreadsTransientError),
        (raising(httpx.ReadTimeout), publish, ThreadsOutcomeUnknown),
        (raising(httpx.ReadError), publish, ThreadsOutcomeUnknown),
        (raising(httpx.WriteError), publish, ThreadsOutcomeUnknown),
        (raising(httpx.WriteTimeout), publish, ThreadsOutcomeUnknown),
        (raising(httpx.RemoteProtocolError), publish, ThreadsOutcomeUnknown),
        (raising(httpx.ReadTimeout), read, ThreadsTransientError),
        (raising(httpx.RemoteProtocolError), create, ThreadsTransientError),
        (raising(httpx.UnsupportedProtocol), read, ThreadsRejectedError),
        # HTTP failures
        (err(500, 1), read, ThreadsTransientError),
        (err(500, 1), publish, ThreadsOutcomeUnknown),
        (plain(502, "<html>bad gateway</html>"), read, ThreadsTransientError),
        (plain(503, "down"), publish, ThreadsOutcomeUnknown),
        (plain(200, "not json"), publish, ThreadsOutcomeUnknown),
        (lambda r: httpx.Response(200, json={"unexpected": True}), publish, ThreadsOutcomeUnknown),
        (plain(200, "not json"), read, ThreadsTransientError),
        (err(400, 2, is_transient=True), read, ThreadsTransientError),
        (err(400, 99, is_transient=True), publish, ThreadsTransientError),
        (err(400, 24, 4279009, message="Media Not Found"), publish, ThreadsContainerNotReady),
        (err(400, 4), publish, ThreadsRateLimited),
        (err(400, 17), read, ThreadsRateLimited),
        (err(400, 32), read, ThreadsRateLimited),
        (err(400, 341), read, ThreadsRateLimited),
        (err(400, 613), read, ThreadsRateLimited),
        (err(400, 9, 2207042), publish, ThreadsRateLimited),
        (plain(429, "slow down"), read, ThreadsRateLimited),
        (err(400, 190, type="OAuthException"), read, ThreadsAuthError),
        (err(400, 104), read, ThreadsAuthError),
        (err(403, 10), create, ThreadsAuthError),
        (err(400, 200), create, ThreadsAuthError),
        (plain(401, "no"), read, ThreadsAuthError),
        (
            err(400, 100, message="Param text must be at most 500 characters long."),
            create,
            ThreadsRejectedError,
        ),
        (err(400, 368), publish, ThreadsRejectedError),
        (plain(404, "Not Found"), read, ThreadsRejectedError),
    ],
)
async def test_error_families(
    handler: Handler, call: Callable[[ThreadsClient], Any], expected: type
):
    client = make_client(handler)

    with pytest.raises(ThreadsApiError) as caught:
        await call(client)

    assert type(caught.value) is expected, repr(caught.value)
    assert caught.value.explanation


async def test_retry_after_seconds_and_http_date_give_frees_at():
    client = make_client(graph_error(400, {"Retry-After": "90"}, message="limit", code=4))
    with pytest.raises(ThreadsRateLimited) as seconds:
        await publish(client)
    when = format_datetime(NOW + timedelta(minutes=10), usegmt=True)
    client = make_client(
        graph_error(400, {"Retry-After": when}, message="q", code=9, error_subcode=2207042)
    )
    with pytest.raises(ThreadsRateLimited) as date:
        await publish(client)

    assert (seconds.value.retry_after, seconds.value.frees_at) == (
        90.0,
        NOW + timedelta(seconds=90),
    )
    assert date.value.frees_at == NOW + timedelta(minutes=10)
    assert "quota" in date.value.explanation


async def test_transient_retry_after_on_5xx():
    client = make_client(
        graph_error(503, {"Retry-After": "7"}, message="busy", code=2, is_transient=True)
    )
    with pytest.raises(ThreadsTransientError) as caught:
        await read(client)
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("error", "fragment"),
    [
        ({"message": "Param text must be at most 500 characters long."}, "500-character"),
        ({"message": "THREADS_API__LINK_LIMIT_EXCEEDED"}, "at most 5 different links"),
        ({"message": "THREADS_API__GEO_GATING_INVALID_COUNTRY_CODES"}, "ISO country codes"),
        ({"message": "THREADS_API__FEATURE_NOT_AVAILABLE"}, "cannot use this feature"),
        ({"message": "Unsupported get request.", "error_subcode": 33}, "does not exist"),
        ({"message": "Not fetched", "code": 9004, "error_subcode": 2207052}, "download the media"),
        ({"message": "User restricted", "code": 1, "error_subcode": 4279013}, "restricted"),
        ({"message": "Anything"}, "Fix the post"),
    ],
)
async def test_rejections_explain_what_to_change(error: dict[str, Any], fragment: str):
    handler = graph_error(400, **{"code": 100, **error})
    with pytest.raises(ThreadsApiError) as caught:
        await create(make_client(handler))
    assert fragment in caught.value.explanation
    assert caught.value.meta_message == error["message"]


async def test_the_flat_oauth_error_is_an_auth_error():
    body = {
        "error_type": "OAuthException",
        "code": 400,
        "error_message": "Matching code was not found or was already used",
    }
    client = make_client(lambda r: httpx.Response(400, json=body))

    with pytest.raises(ThreadsAuthError) as caught:
        await client.exchange_code("c", redirect_uri="https://a/cb")

    assert caught.value.meta_message == body["error_message"]
    assert "Connect flow again" in caught.value.explanation


def test_media_failed_explains_each_documented_error_message():
    for reason in (
        "FAILED_DOWNLOADING_VIDEO",
        "INVALID_ASPEC_RATIO",
        "INVALID_DURATION",
        "SOMETHING_NEW",
    ):
        error = media_failed(ContainerStatus("1", ContainerState.ERROR, reason))
        assert isinstance(error, ThreadsMediaFailed)
        assert error.code == reason and error.explanation
    expired = media_failed(ContainerStatus("1", ContainerState.EXPIRED))
    assert isinstance(expired, ThreadsRejectedError) and "24 hours" in expired.explanation


async def test_requests_are_encoded_as_documented():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("refresh_access_token"):
            return httpx.Response(
                200, json={"access_token": "new", "token_type": "bearer", "expires_in": 5183944}
            )
        if request.method == "POST":
            return httpx.Response(200, json={"id": "42"})
        return httpx.Response(200, json={"id": "7", "status": "FINISHED"})

    client = make_client(handler, base_url="http://sim.local:9/v1.0")
    await client.create_container(
        ContainerRequest(MediaType.TEXT, text="héllo"), access_token="tok"
    )
    await client.get_container_status("7", access_token="tok")
    grant = await client.refresh_token("long")
    bearer = make_client(handler, base_url="http://sim.local:9/v1.0", bearer=True)
    await bearer.get_container_status("7", access_token="tok")

    post, get, refresh, with_header = seen
    assert str(post.url) == "http://sim.local:9/v1.0/me/threads"  # token not in the URL
    assert dict(httpx.QueryParams(post.content.decode())) == {
        "media_type": "TEXT",
        "text": "héllo",
        "access_token": "tok",
    }
    assert (
        get.url.params["access_token"] == "tok"
        and get.url.params["fields"] == "id,status,error_message"
    )
    assert refresh.url.path == "/refresh_access_token"  # OAuth endpoints are unversioned
    assert refresh.url.params["grant_type"] == "th_refresh_token"
    assert (grant.access_token, grant.expires_in) == ("new", 5183944)
    assert (
        with_header.headers["authorization"] == "Bearer tok"
        and "access_token" not in with_header.url.params
    )


def test_authorize_url():
    meta = make_client(lambda r: httpx.Response(200))
    local = make_client(lambda r: httpx.Response(200), base_url="http://127.0.0.1:8765/v1.0")

    url = meta.authorize_url(
        redirect_uri="https://app/cb",
        scopes=["threads_basic", "threads_content_publish"],
        state="s1",
    )

    assert url == (
        "https://threads.net/oauth/authorize?client_id=app&redirect_uri=https%3A%2F%2Fapp%2Fcb"
        "&scope=threads_basic%2Cthreads_content_publish&response_type=code&state=s1"
    )
    assert local.authorize_url(redirect_uri="https://app/cb").startswith(
        "http://127.0.0.1:8765/oauth/authorize?"
    )


async def test_oauth_without_app_credentials_is_a_configuration_error():
    client = ThreadsClient(
        httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    )

    with pytest.raises(ConfigurationError, match="THREADS_APP_SECRET"):
        await client.exchange_long_lived("short")
    with pytest.raises(ConfigurationError, match="THREADS_APP_ID"):
        client.authorize_url(redirect_uri="https://app/cb")


async def test_list_arguments_are_checked():
    client = make_client(lambda r: httpx.Response(200, json={"data": []}))
    with pytest.raises(ValueError, match="between 1 and 100"):
        await client.list_posts(access_token="t", limit=101)
    with pytest.raises(ValueError, match="not both"):
        await client.list_posts(access_token="t", after="a", before="b")
    assert (await client.list_posts(access_token="t")).data == ()


async def test_resolve_publish_falls_back_to_recent_posts_when_status_is_unavailable():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/123"):
            return httpx.Response(
                400, json={"error": {"message": "Unsupported", "code": 100, "error_subcode": 33}}
            )
        assert request.url.params["since"] == str(int((NOW - timedelta(minutes=2)).timestamp()))
        posts = [
            {"id": "9", "text": "other"},
            {"id": "8", "text": "mine"},
            {"id": "7", "text": "mine"},
        ]
        return httpx.Response(200, json={"data": posts})

    client = make_client(handler)

    found = await client.resolve_publish("123", access_token="t", sent_at=NOW, text="mine")
    missing = await client.resolve_publish("123", access_token="t", sent_at=NOW, text="absent")

    assert (found.published, found.media_id, found.container) == (True, "7", None)
    assert (missing.published, missing.media_id) == (None, None)
