"""Contract: reading endpoints, paging, delete, insights and request conventions (real socket)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.simulator import ENDPOINTS, SimAccount, SimulatorServer
from scheduler.platform.clock import ManualClock
from scheduler.platform.errors import ThreadsAuthError, ThreadsRejectedError
from scheduler.threads import ContainerRequest, MediaType, ThreadsClient


async def _post(client: ThreadsClient, token: str, text: str) -> str:
    container = await client.create_container(
        ContainerRequest(MediaType.TEXT, text=text), access_token=token
    )
    return await client.publish(container, access_token=token)


async def test_profile(client: ThreadsClient, alice: SimAccount):
    profile = await client.get_profile(access_token=alice.access_token)

    assert (profile.id, profile.username, profile.name) == (alice.user_id, "alice", "Alice")
    by_id = await client.get_profile(access_token=alice.access_token, user_id=alice.user_id)
    assert by_id == profile


async def test_another_users_profile_is_not_readable(
    client: ThreadsClient, alice: SimAccount, bob: SimAccount
):
    with pytest.raises(ThreadsRejectedError) as caught:
        await client.get_profile(access_token=alice.access_token, user_id=bob.user_id)
    assert (caught.value.code, caught.value.subcode) == (100, 33)


async def test_own_posts_newest_first_with_cursor_paging(
    client: ThreadsClient, alice: SimAccount, sim_clock: ManualClock
):
    ids = []
    for i in range(7):
        ids.append(await _post(client, alice.access_token, f"post {i}"))
        sim_clock.advance(60)
    newest_first = ids[::-1]

    first = await client.list_posts(access_token=alice.access_token, limit=3)
    second = await client.list_posts(access_token=alice.access_token, limit=3, after=first.after)
    third = await client.list_posts(access_token=alice.access_token, limit=3, after=second.after)
    back = await client.list_posts(access_token=alice.access_token, limit=3, before=second.before)

    assert [p.id for p in first.data + second.data + third.data] == newest_first
    assert (first.has_next, second.has_next, third.has_next) == (True, True, False)
    assert (first.has_previous, second.has_previous) == (False, True)
    assert [p.id for p in back.data] == newest_first[:3]
    every = [p.id async for p in client.iter_posts(access_token=alice.access_token, page_size=2)]
    assert every == newest_first


async def test_since_filters_posts(
    client: ThreadsClient, alice: SimAccount, sim_clock: ManualClock
):
    await _post(client, alice.access_token, "old")
    sim_clock.advance(3600)
    cut = sim_clock.now()
    recent = await _post(client, alice.access_token, "new")

    page = await client.list_posts(access_token=alice.access_token, since=cut)

    assert [p.id for p in page.data] == [recent]


async def test_paging_limits(
    http: httpx.AsyncClient, sim: SimulatorServer, alice: SimAccount, client: ThreadsClient
):
    for i in range(120):
        await _post(client, alice.access_token, f"p{i}")
    url, token = f"{sim.base_url}/me/threads", alice.access_token

    default = (await http.get(url, params={"access_token": token})).json()
    capped = (await http.get(url, params={"access_token": token, "limit": 500})).json()
    both = await http.get(
        url,
        params={
            "access_token": token,
            "after": default["paging"]["cursors"]["after"],
            "before": "x",
        },
    )
    negative = await http.get(url, params={"access_token": token, "limit": -1})
    bad_cursor = await http.get(url, params={"access_token": token, "after": "not-a-cursor"})

    assert len(default["data"]) == 25 and set(default["data"][0]) == {"id"}
    assert default["paging"]["next"].startswith(url)
    assert len(capped["data"]) == 100
    for response in (both, negative, bad_cursor):
        assert response.status_code == 400 and response.json()["error"]["code"] == 100


async def test_delete(client: ThreadsClient, alice: SimAccount, bob: SimAccount):
    media_id = await _post(client, alice.access_token, "bye")
    with pytest.raises(ThreadsRejectedError):  # only the owner may delete
        await client.delete_post(media_id, access_token=bob.access_token)

    assert await client.delete_post(media_id, access_token=alice.access_token) == media_id

    with pytest.raises(ThreadsRejectedError) as caught:
        await client.get_post(media_id, access_token=alice.access_token)
    assert caught.value.subcode == 33
    assert (await client.list_posts(access_token=alice.access_token)).data == ()
    limit = await client.get_publishing_limit(access_token=alice.access_token)
    assert limit.delete_quota_usage == 1


async def test_status_on_a_media_id_is_a_nonexisting_field(
    client: ThreadsClient, alice: SimAccount
):
    media_id = await _post(client, alice.access_token, "x")

    with pytest.raises(ThreadsRejectedError, match=r"nonexisting field \(status\)"):
        await client.get_container_status(media_id, access_token=alice.access_token)


async def test_post_insights_are_deterministic_and_grow(
    client: ThreadsClient, alice: SimAccount, bob: SimAccount, sim_clock: ManualClock
):
    media_id = await _post(client, alice.access_token, "measure me")
    await client.publish(
        await client.create_container(
            ContainerRequest(MediaType.TEXT, text="hi", reply_to_id=media_id),
            access_token=bob.access_token,
        ),
        access_token=bob.access_token,
    )
    sim_clock.advance(12 * 3600)

    early = await client.get_post_insights(media_id, access_token=alice.access_token)
    again = await client.get_post_insights(media_id, access_token=alice.access_token)
    sim_clock.advance(36 * 3600)
    later = await client.get_post_insights(media_id, access_token=alice.access_token)

    assert early == again
    assert set(early.metrics) == {"views", "likes", "replies", "reposts", "quotes", "shares"}
    assert early.metrics["replies"] == 1
    assert all(later.metrics[k] >= early.metrics[k] for k in early.metrics)
    assert later.metrics["views"] > early.metrics["views"]


async def test_account_insights(client: ThreadsClient, alice: SimAccount, sim_clock: ManualClock):
    await _post(client, alice.access_token, "x")
    sim_clock.advance(3600)

    insights = await client.get_account_insights(access_token=alice.access_token)

    assert set(insights.metrics) == {
        "views",
        "likes",
        "replies",
        "reposts",
        "quotes",
        "followers_count",
    }
    assert insights == await client.get_account_insights(access_token=alice.access_token)


@pytest.mark.parametrize("prefix", ["/v1.0", ""])
@pytest.mark.parametrize("where", ["query", "form", "json", "multipart", "bearer"])
async def test_paths_and_parameter_encodings(
    http: httpx.AsyncClient, sim: SimulatorServer, alice: SimAccount, prefix: str, where: str
):
    url = f"{sim.origin}{prefix}/me/threads"
    params = {"media_type": "TEXT", "text": f"via {where}", "access_token": alice.access_token}
    if where == "query":
        response = await http.post(url, params=params)
    elif where == "form":
        response = await http.post(url, data=params)
    elif where == "json":
        response = await http.post(url, json=params)
    elif where == "multipart":
        response = await http.post(url, files={k: (None, v) for k, v in params.items()})
    else:
        del params["access_token"]
        response = await http.post(
            url, data=params, headers={"Authorization": f"Bearer {alice.access_token}"}
        )

    assert response.status_code == 200, response.text
    assert response.json()["id"].isdigit()


async def test_bearer_header_mode_of_the_client(
    http: httpx.AsyncClient, sim: SimulatorServer, alice: SimAccount
):
    client = ThreadsClient(http, base_url=sim.base_url, bearer=True)

    assert (await client.get_profile(access_token=alice.access_token)).username == "alice"


@pytest.mark.parametrize(
    ("method", "path", "params", "code"),
    [
        ("POST", "/me/threads", {}, 100),  # media_type missing
        ("POST", "/me/threads", {"media_type": "SLIDESHOW"}, 100),
        ("POST", "/me/threads", {"media_type": "TEXT"}, 100),  # text missing
        ("POST", "/me/threads", {"media_type": "IMAGE", "image_url": "not a url"}, 100),
        ("POST", "/me/threads", {"media_type": "TEXT", "text": "x", "is_ghost_post": "maybe"}, 100),
        (
            "POST",
            "/me/threads",
            {"media_type": "TEXT", "text": "x", "poll_attachment": "{not json"},
            100,
        ),
        ("POST", "/me/threads", {"media_type": "TEXT", "text": "x", "reply_to_id": "42"}, 100),
        ("POST", "/me/threads", {"media_type": "CAROUSEL", "children": "1,2"}, 100),
        ("POST", "/me/threads_publish", {}, 100),
        ("GET", "/me/threads", {"limit": "many"}, 100),
        ("GET", "/me/threads", {"since": "yesterday-ish"}, 100),
        ("GET", "/me/threads", {"since": "1000"}, 100),
        ("GET", "/me", {"fields": "id,password"}, 100),
        ("GET", "/999999", {}, 100),
        ("DELETE", "/999999", {}, 100),
        ("GET", "/me/insights", {}, 100),
        ("GET", "/me/threads_insights", {"metric": "mood"}, 100),
        ("GET", "/me/nothing/here", {}, 2500),
        ("PUT", "/me/threads", {}, 2500),
        ("GET", "/", {}, 2500),
    ],
)
async def test_bad_input_gets_a_graph_error_never_a_500(
    http: httpx.AsyncClient,
    sim: SimulatorServer,
    alice: SimAccount,
    method: str,
    path: str,
    params: dict[str, str],
    code: int,
):
    response = await http.request(
        method, f"{sim.base_url}{path}", params={"access_token": alice.access_token, **params}
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == code


async def test_missing_and_revoked_tokens(
    client: ThreadsClient, alice: SimAccount, sim: SimulatorServer
):
    with pytest.raises(ThreadsAuthError) as missing:
        await client.get_profile(access_token="")
    await sim.admin.revoke_token(alice.access_token)
    with pytest.raises(ThreadsAuthError) as revoked:
        await client.get_profile(access_token=alice.access_token)

    assert missing.value.code == 104
    assert (revoked.value.code, revoked.value.subcode) == (190, 458)
    assert "Reconnect" in revoked.value.explanation


async def test_missing_permission_is_an_auth_error(client: ThreadsClient, sim: SimulatorServer):
    reader = await sim.admin.create_account("reader", scopes=["threads_basic"])

    with pytest.raises(ThreadsAuthError) as caught:
        await client.create_container(
            ContainerRequest(MediaType.TEXT, text="x"), access_token=reader.access_token
        )

    assert caught.value.code == 10
    assert "permission" in caught.value.explanation


async def test_replies_to_a_post_page_in_both_orders(
    http: httpx.AsyncClient,
    sim: SimulatorServer,
    client: ThreadsClient,
    alice: SimAccount,
    bob: SimAccount,
):
    root = await _post(client, alice.access_token, "root")
    replies = []
    for i in range(5):
        request = ContainerRequest(MediaType.TEXT, text=f"reply {i}", reply_to_id=root)
        container = await client.create_container(request, access_token=bob.access_token)
        replies.append(await client.publish(container, access_token=bob.access_token))

    async def page(**params: str) -> dict[str, Any]:
        query = {"access_token": alice.access_token, "limit": "2", **params}
        response = await http.get(f"{sim.base_url}/{root}/replies", params=query)
        return dict(response.json())

    newest = await page()
    newest_next = await page(after=newest["paging"]["cursors"]["after"])
    oldest = await page(reverse="false")
    oldest_next = await page(reverse="false", after=oldest["paging"]["cursors"]["after"])

    assert [r["id"] for r in newest["data"] + newest_next["data"]] == replies[::-1][:4]
    assert [r["id"] for r in oldest["data"] + oldest_next["data"]] == replies[:4]
    assert "previous" in oldest_next["paging"] and "next" in oldest_next["paging"]


async def test_every_journaled_endpoint_has_a_documented_name(
    client: ThreadsClient, alice: SimAccount, sim: SimulatorServer, http: httpx.AsyncClient
):
    media_id = await _post(client, alice.access_token, "x")
    await client.get_post(media_id, access_token=alice.access_token)
    await client.get_profile(access_token=alice.access_token)
    await client.get_publishing_limit(access_token=alice.access_token)
    await client.list_replies(access_token=alice.access_token)
    await client.get_post_insights(media_id, access_token=alice.access_token)
    await http.get(f"{sim.base_url}/no/such/path")

    entries = await sim.admin.journal()

    assert {e.endpoint for e in entries} <= ENDPOINTS
    assert {"create_container", "publish", "get_post", "profile", "unknown"} <= {
        e.endpoint for e in entries
    }
