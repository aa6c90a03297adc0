"""The simulator's limits and error shapes, pinned to `docs/threads-api.md` (§2) by examples.

These tests do not reuse the production counting code: each limit is checked at its edge with
inputs whose size is stated by Meta's documentation (500 characters with emoji by UTF-8 bytes,
5 links, 2–20 carousel items, 250 posts / 1,000 replies per 24 h, …).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from sandbox.simulator import SimAccount, SimulatorAdmin, SimulatorServer
from scheduler.platform.clock import ManualClock
from scheduler.platform.errors import ThreadsRateLimited, ThreadsRejectedError
from scheduler.threads import ContainerRequest, MediaType, ThreadsClient


def text(**params: str) -> dict[str, str]:
    return {"media_type": "TEXT", "text": "x", **params}


def image(**params: str) -> dict[str, str]:
    return {"media_type": "IMAGE", "image_url": "https://e.com/a.jpg", **params}


def as_json(value: object) -> str:
    return json.dumps(value)


POLL = as_json({"option_a": "a", "option_b": "b"})
SPOILER = {"entity_type": "SPOILER", "offset": 0, "length": 1}


async def _create(
    http: httpx.AsyncClient, sim: SimulatorServer, token: str, **params: str
) -> httpx.Response:
    return await http.post(f"{sim.base_url}/me/threads", data={"access_token": token, **params})


def _error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert {"message", "type", "code", "is_transient", "fbtrace_id"} <= set(error)
    return error


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a" * 500, True),
        ("a" * 501, False),
        ("😀" * 125, True),  # each emoji counts as its 4 UTF-8 bytes: 125 × 4 = 500
        ("😀" * 126, False),
        ("é" * 500, True),  # accented letters count 1
        ("❤️" * 83 + "aa", True),  # ❤ + VS16 = 3 + 3 bytes: 83 × 6 + 2 = 500
        ("❤️" * 84, False),
    ],
)
async def test_text_limit_is_500_with_emoji_by_utf8_bytes(
    http: httpx.AsyncClient, sim: SimulatorServer, alice: SimAccount, text: str, ok: bool
):
    response = await _create(http, sim, alice.access_token, media_type="TEXT", text=text)

    if ok:
        assert response.status_code == 200, response.text
    else:
        error = _error(response)
        assert error["code"] == 100
        assert "text must be at most 500 characters" in error["message"]  # what Postiz matches


@pytest.mark.parametrize(
    ("text", "attachment", "links"),
    [
        ("facebook.com", "https://facebook.com", 1),  # Meta's three examples (§2.2)
        ("instagram.com threads.com", "https://facebook.com", 3),
        ("example.com example.com test.com", "https://test.com", 2),
        ("a.com b.com c.com d.com e.com", None, 5),
        ("a.com b.com c.com d.com e.com", "https://a.com/", 5),
        ("a.com b.com c.com d.com e.com", "https://f.com", 6),
        (
            "https://a.com https://b.com https://c.com https://d.com https://e.com https://f.com",
            None,
            6,
        ),
    ],
)
async def test_at_most_five_unique_links(
    http: httpx.AsyncClient,
    sim: SimulatorServer,
    alice: SimAccount,
    text: str,
    attachment: str | None,
    links: int,
):
    params = {"media_type": "TEXT", "text": text}
    if attachment:
        params["link_attachment"] = attachment

    response = await _create(http, sim, alice.access_token, **params)

    if links <= 5:
        assert response.status_code == 200, response.text
    else:
        error = _error(response)
        assert (error["code"], error["message"]) == (100, "THREADS_API__LINK_LIMIT_EXCEEDED")


@pytest.mark.parametrize(("items", "ok"), [(1, False), (2, True), (20, True), (21, False)])
async def test_carousel_has_2_to_20_items(
    http: httpx.AsyncClient, sim: SimulatorServer, alice: SimAccount, items: int, ok: bool
):
    children = [
        (
            await _create(
                http,
                sim,
                alice.access_token,
                media_type="IMAGE",
                image_url=f"https://cdn.example.com/{i}.jpg",
                is_carousel_item="true",
            )
        ).json()["id"]
        for i in range(items)
    ]

    response = await _create(
        http, sim, alice.access_token, media_type="CAROUSEL", children=",".join(children)
    )

    assert (response.status_code == 200) is ok, response.text
    if not ok:
        assert _error(response)["code"] == 100


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (text(topic_tag="a" * 51), "topic_tag"),
        (text(topic_tag="a.b"), "topic_tag"),
        (text(topic_tag="a&b"), "topic_tag"),
        (image(alt_text="a" * 1001), "alt_text"),
        (text(alt_text="nope"), "alt_text"),
        (text(poll_attachment=as_json({"option_a": "only one"})), "poll"),
        (text(poll_attachment=as_json({"option_a": "a", "option_b": "b" * 26})), "poll"),
        (text(poll_attachment=POLL, link_attachment="https://e.com"), "poll"),
        (image(link_attachment="https://e.com"), "link_attachment"),
        (text(is_spoiler_media="true"), "is_spoiler_media"),
        (text(text_entities=as_json([SPOILER] * 11)), "text_entities"),
        (text(allowlisted_country_codes="US,XX"), "GEO_GATING_INVALID_COUNTRY_CODES"),
        (image(auto_publish_text="true"), "auto_publish_text"),
        (text(reply_control="nobody"), "reply_control"),
    ],
)
async def test_documented_content_rules_are_enforced_at_container_creation(
    http: httpx.AsyncClient,
    sim: SimulatorServer,
    alice: SimAccount,
    params: dict[str, str],
    fragment: str,
):
    error = _error(await _create(http, sim, alice.access_token, **params))

    assert error["code"] == 100
    assert error["type"] == "THApiException"
    assert fragment in error["message"]


@pytest.mark.parametrize(
    "params",
    [
        text(topic_tag="a" * 50),
        image(alt_text="a" * 1000),
        text(
            poll_attachment=as_json(
                {"option_a": "a", "option_b": "b" * 25, "option_c": "c", "option_d": "d"}
            )
        ),
        text(
            text_entities=as_json([{"entity_type": "spoiler", "offset": "0", "length": "1"}] * 10)
        ),
        text(allowlisted_country_codes="US,CA"),
        image(is_spoiler_media="true"),
    ],
)
async def test_values_at_the_documented_edges_are_accepted(
    http: httpx.AsyncClient, sim: SimulatorServer, alice: SimAccount, params: dict[str, str]
):
    response = await _create(http, sim, alice.access_token, **params)

    assert response.status_code == 200, response.text


async def test_publishing_limit_reports_the_documented_shape(
    http: httpx.AsyncClient, sim: SimulatorServer, alice: SimAccount
):
    fields = "quota_usage,config,reply_quota_usage,reply_config,delete_quota_usage,delete_config"
    response = await http.get(
        f"{sim.base_url}/me/threads_publishing_limit",
        params={"fields": fields, "access_token": alice.access_token},
    )

    assert response.json() == {
        "data": [
            {
                "quota_usage": 0,
                "config": {"quota_total": 250, "quota_duration": 86400},
                "reply_quota_usage": 0,
                "reply_config": {"quota_total": 1000, "quota_duration": 86400},
                "delete_quota_usage": 0,
                "delete_config": {"quota_total": 100, "quota_duration": 86400},
            }
        ]
    }
    default = await http.get(
        f"{sim.base_url}/me/threads_publishing_limit", params={"access_token": alice.access_token}
    )
    assert default.json() == {"data": [{"quota_usage": 0}]}


async def test_250_posts_per_rolling_24_hours(
    client: ThreadsClient, alice: SimAccount, sim_clock: ManualClock
):
    token = alice.access_token
    first_publish_at = sim_clock.now()
    for i in range(250):
        container = await client.create_container(
            ContainerRequest(MediaType.TEXT, text=f"post {i}"), access_token=token
        )
        await client.publish(container, access_token=token)
        if i == 0:
            sim_clock.advance(3600)
    blocked = await client.create_container(
        ContainerRequest(MediaType.TEXT, text="one too many"), access_token=token
    )

    with pytest.raises(ThreadsRateLimited) as caught:
        await client.publish(blocked, access_token=token)

    # The oldest post leaves the window 24 h after it was published: that is when quota frees.
    assert caught.value.frees_at == first_publish_at + timedelta(hours=24)
    limit = await client.get_publishing_limit(access_token=token)
    assert (limit.quota_usage, limit.quota_total) == (250, 250)
    sim_clock.advance(23 * 3600)
    assert await client.publish(blocked, access_token=token)


async def test_1000_replies_per_rolling_24_hours(
    client: ThreadsClient, alice: SimAccount, admin: SimulatorAdmin
):
    token = alice.access_token
    root = await client.publish(
        await client.create_container(
            ContainerRequest(MediaType.TEXT, text="root"), access_token=token
        ),
        access_token=token,
    )
    await admin.set_quota_usage("alice", replies=998)

    async def reply(text: str) -> str:
        request = ContainerRequest(MediaType.TEXT, text=text, reply_to_id=root)
        return await client.publish(
            await client.create_container(request, access_token=token), access_token=token
        )

    assert await reply("reply 999")
    assert await reply("reply 1000")
    with pytest.raises(ThreadsRateLimited, match="1000 replies"):
        await reply("reply 1001")
    limit = await client.get_publishing_limit(access_token=token)
    assert (limit.reply_quota_usage, limit.reply_quota_total, limit.quota_usage) == (1000, 1000, 1)


async def test_auth_error_shape_for_a_bad_token(http: httpx.AsyncClient, sim: SimulatorServer):
    response = await http.get(f"{sim.base_url}/me", params={"access_token": "not-a-token"})

    error = _error(response)
    assert (error["type"], error["code"]) == ("OAuthException", 190)
    assert error["is_transient"] is False


async def test_expired_token_is_190_subcode_463(
    http: httpx.AsyncClient, sim: SimulatorServer, alice: SimAccount, sim_clock: ManualClock
):
    sim_clock.advance(60 * 86400)

    error = _error(
        await http.get(f"{sim.base_url}/me", params={"access_token": alice.access_token})
    )

    assert (error["code"], error["error_subcode"]) == (190, 463)
    assert error["message"].startswith("Error validating access token: Session has expired")


async def test_oauth_code_exchange_errors_use_the_flat_shape(
    http: httpx.AsyncClient, sim: SimulatorServer
):
    response = await http.post(
        f"{sim.origin}/oauth/access_token",
        data={
            "client_id": "1234567890",
            "client_secret": "sim-app-secret",
            "grant_type": "authorization_code",
            "redirect_uri": "https://app.example.com/cb",
            "code": "AQ-unknown",
        },
    )

    assert response.status_code == 400
    assert response.json() == {
        "error_type": "OAuthException",
        "code": 400,
        "error_message": "Matching code was not found or was already used",
    }


async def test_rejections_reach_the_client_with_an_explanation(
    client: ThreadsClient, alice: SimAccount
):
    with pytest.raises(ThreadsRejectedError) as caught:
        await client.create_container(
            ContainerRequest(MediaType.TEXT, text="x" * 501), access_token=alice.access_token
        )

    assert caught.value.code == 100
    assert "500-character limit" in caught.value.explanation
