"""Contract: ThreadsClient against the simulator on a real socket — the publishing flow."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from sandbox.simulator import SimAccount, SimulatorAdmin, SimulatorServer, SimulatorState
from scheduler.platform.clock import ManualClock
from scheduler.platform.errors import (
    ThreadsContainerNotReady,
    ThreadsMediaFailed,
    ThreadsRejectedError,
)
from scheduler.posts.content import (
    MediaItem,
    MediaKind,
    Poll,
    PostContent,
    PostType,
    ThreadsOptions,
)
from scheduler.threads import (
    ContainerRequest,
    ContainerState,
    MediaType,
    ThreadsClient,
    plan_containers,
)

TEXT = ContainerRequest(MediaType.TEXT, text="Hello from the simulator")


async def test_text_post_two_step_flow(
    client: ThreadsClient, alice: SimAccount, admin: SimulatorAdmin
):
    container_id = await client.create_container(TEXT, access_token=alice.access_token)
    status = await client.get_container_status(container_id, access_token=alice.access_token)
    assert status.status is ContainerState.FINISHED

    media_id = await client.publish(container_id, access_token=alice.access_token)

    assert media_id != container_id  # container and media ids are different ids
    status = await client.get_container_status(container_id, access_token=alice.access_token)
    assert status.status is ContainerState.PUBLISHED
    post = await client.get_post(media_id, access_token=alice.access_token)
    assert (post.text, post.media_type, post.username) == (TEXT.text, "TEXT_POST", "alice")
    assert post.permalink == f"https://www.threads.net/@alice/post/{post.shortcode}"
    [record] = await admin.published()
    assert (record.media_id, record.container_id, record.text) == (
        media_id,
        container_id,
        TEXT.text,
    )


async def test_publish_before_processing_gives_observed_not_ready_payload(
    sim: SimulatorServer, alice: SimAccount, client: ThreadsClient, http: httpx.AsyncClient
):
    video = ContainerRequest(MediaType.VIDEO, video_url="https://cdn.example.com/clip.mp4")
    container_id = await client.create_container(video, access_token=alice.access_token)

    response = await http.post(
        f"{sim.base_url}/me/threads_publish",
        data={"creation_id": container_id, "access_token": alice.access_token},
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert {k: v for k, v in error.items() if k != "fbtrace_id"} == {
        "message": "The requested resource does not exist",
        "type": "OAuthException",
        "code": 24,
        "error_subcode": 4279009,
        "is_transient": False,
        "error_user_title": "Media Not Found",
        "error_user_msg": f"The media with id {container_id} cannot be found.",
    }
    assert error["fbtrace_id"]
    with pytest.raises(ThreadsContainerNotReady) as caught:
        await client.publish(container_id, access_token=alice.access_token)
    assert (caught.value.code, caught.value.subcode) == (24, 4279009)


async def test_video_goes_in_progress_then_finished_while_the_client_waits(
    client: ThreadsClient, alice: SimAccount, sim_clock: ManualClock, sim_state: SimulatorState
):
    sim_state.config.processing_seconds["VIDEO"] = 5.0
    video = ContainerRequest(MediaType.VIDEO, video_url="https://cdn.example.com/clip.mp4")
    container_id = await client.create_container(video, access_token=alice.access_token)

    waiting = asyncio.create_task(
        client.wait_until_ready(container_id, access_token=alice.access_token, poll_interval=1.0)
    )
    polls = 0
    while not waiting.done():
        await asyncio.sleep(0.01)
        if sim_clock.sleepers:
            polls += 1
            sim_clock.advance(1.0)
    status = waiting.result()

    assert status.status is ContainerState.FINISHED
    assert polls == 5  # IN_PROGRESS for exactly the configured 5 s of the simulator's clock
    assert await client.publish(container_id, access_token=alice.access_token)


@pytest.mark.parametrize(
    ("url", "error_message"),
    [
        ("https://cdn.example.com/fail-download/clip.mp4", "FAILED_DOWNLOADING_VIDEO"),
        ("https://cdn.example.com/bad-duration.mp4", "INVALID_DURATION"),
    ],
)
async def test_bad_media_ends_in_error_with_an_explanation(
    client: ThreadsClient, alice: SimAccount, sim_clock: ManualClock, url: str, error_message: str
):
    request = ContainerRequest(MediaType.VIDEO, video_url=url)
    container_id = await client.create_container(request, access_token=alice.access_token)
    sim_clock.advance(60)

    status = await client.get_container_status(container_id, access_token=alice.access_token)
    assert (status.status, status.error_message) == (ContainerState.ERROR, error_message)
    with pytest.raises(ThreadsMediaFailed) as caught:
        await client.wait_until_ready(container_id, access_token=alice.access_token)
    assert caught.value.code == error_message
    assert caught.value.explanation == status.explanation
    with pytest.raises(ThreadsRejectedError, match="failed processing"):
        await client.publish(container_id, access_token=alice.access_token)


async def test_container_expires_after_24_hours(
    client: ThreadsClient, alice: SimAccount, sim_clock: ManualClock
):
    container_id = await client.create_container(TEXT, access_token=alice.access_token)
    sim_clock.advance(24 * 3600 - 1)
    status = await client.get_container_status(container_id, access_token=alice.access_token)
    assert status.status is ContainerState.FINISHED

    sim_clock.advance(1)

    status = await client.get_container_status(container_id, access_token=alice.access_token)
    assert status.status is ContainerState.EXPIRED
    with pytest.raises(ThreadsRejectedError, match="expired"):
        await client.publish(container_id, access_token=alice.access_token)


async def test_a_container_is_never_published_twice(
    client: ThreadsClient, alice: SimAccount, admin: SimulatorAdmin
):
    container_id = await client.create_container(TEXT, access_token=alice.access_token)
    await client.publish(container_id, access_token=alice.access_token)

    with pytest.raises(ThreadsRejectedError, match="already been published"):
        await client.publish(container_id, access_token=alice.access_token)
    assert len(await admin.published(container_id=container_id)) == 1


async def test_auto_publish_text_returns_the_media_id(
    client: ThreadsClient, alice: SimAccount, admin: SimulatorAdmin
):
    request = ContainerRequest(MediaType.TEXT, text="Straight out", auto_publish_text=True)

    media_id = await client.create_container(request, access_token=alice.access_token)

    post = await client.get_post(media_id, access_token=alice.access_token)
    assert post.text == "Straight out"
    [record] = await admin.published()
    assert (record.media_id, record.auto_published) == (media_id, True)


async def _publish_plan(
    client: ThreadsClient, token: str, content: PostContent, reply_to_id: str | None = None
) -> str:
    plan = plan_containers(content, reply_to_id=reply_to_id)
    children = [await client.create_container(item, access_token=token) for item in plan.items]
    main = plan.main_with_children(children) if plan.items else plan.main
    container_id = await client.create_container(main, access_token=token)
    return await client.publish(container_id, access_token=token)


async def test_carousel_of_images_and_a_video(
    client: ThreadsClient, alice: SimAccount, sim_clock: ManualClock, admin: SimulatorAdmin
):
    content = PostContent(
        type=PostType.CAROUSEL,
        text="Album",
        media=[
            MediaItem(url="https://cdn.example.com/1.jpg", alt_text="first"),
            MediaItem(url="https://cdn.example.com/2.jpg"),
            MediaItem(url="https://cdn.example.com/3.mp4", kind=MediaKind.VIDEO),
        ],
        options=ThreadsOptions(topic_tag="Photos", is_spoiler_media=True),
    )
    plan = plan_containers(content)
    children = [
        await client.create_container(i, access_token=alice.access_token) for i in plan.items
    ]
    carousel = await client.create_container(
        plan.main_with_children(children), access_token=alice.access_token
    )
    with pytest.raises(ThreadsContainerNotReady):  # the video child is still processing
        await client.publish(carousel, access_token=alice.access_token)
    sim_clock.advance(10)

    media_id = await client.publish(carousel, access_token=alice.access_token)

    post = await client.get_post(media_id, access_token=alice.access_token)
    assert (post.media_type, post.text, post.topic_tag) == ("CAROUSEL_ALBUM", "Album", "Photos")
    assert len(post.children) == 3
    limit = await client.get_publishing_limit(access_token=alice.access_token)
    assert limit.quota_usage == 1  # a carousel counts as one post
    [record] = await admin.published()
    assert record.children == post.children


async def test_every_option_round_trips(
    client: ThreadsClient, alice: SimAccount, sim: SimulatorServer, http: httpx.AsyncClient
):
    content = PostContent(
        text="Vote! #ignored",
        options=ThreadsOptions(
            topic_tag="Polls",
            reply_control="accounts_you_follow",
            poll=Poll(options=["Yes", "No", "Maybe"]),
            allowlisted_country_codes=["us", "CA"],
            text_spoilers=[{"offset": 0, "length": 4}],
        ),
    )
    media_id = await _publish_plan(client, alice.access_token, content)
    post = await client.get_post(media_id, access_token=alice.access_token)
    assert (post.topic_tag, post.reply_audience) == ("Polls", "ACCOUNTS_YOU_FOLLOW")

    fields = "poll_attachment{option_a,option_c},allowlisted_country_codes,text_entities"
    raw = (
        await http.get(
            f"{sim.base_url}/{media_id}",
            params={"fields": fields, "access_token": alice.access_token},
        )
    ).json()
    assert raw["poll_attachment"]["option_c"] == "Maybe"
    assert raw["allowlisted_country_codes"] == ["US", "CA"]
    assert raw["text_entities"]["data"][0]["entity_type"] == "SPOILER"


async def test_link_attachment_and_quote(client: ThreadsClient, alice: SimAccount, bob: SimAccount):
    quoted = await _publish_plan(client, bob.access_token, PostContent(text="Original"))
    content = PostContent(
        text="Look at this",
        options=ThreadsOptions(link_attachment="https://example.com/a", quote_post_id=quoted),
    )

    media_id = await _publish_plan(client, alice.access_token, content)

    post = await client.get_post(media_id, access_token=alice.access_token)
    assert (post.link_attachment_url, post.is_quote_post, post.quoted_post_id) == (
        "https://example.com/a",
        True,
        quoted,
    )


async def test_reply_chain_counts_against_the_reply_quota(
    client: ThreadsClient, alice: SimAccount, bob: SimAccount
):
    root = await _publish_plan(client, alice.access_token, PostContent(text="Root"))
    first = await _publish_plan(
        client, alice.access_token, PostContent(text="1/"), reply_to_id=root
    )
    second = await _publish_plan(
        client, bob.access_token, PostContent(text="2/"), reply_to_id=first
    )

    reply = await client.get_post(second, access_token=alice.access_token)
    assert (reply.is_reply, reply.replied_to_id, reply.root_post_id) == (True, first, root)
    limit = await client.get_publishing_limit(access_token=alice.access_token)
    assert (limit.quota_usage, limit.reply_quota_usage) == (1, 1)
    page = await client.list_replies(access_token=alice.access_token)
    assert [p.id for p in page.data] == [first]


async def test_image_post_with_alt_text(
    client: ThreadsClient, alice: SimAccount, sim_clock: ManualClock
):
    content = PostContent(
        type=PostType.IMAGE,
        text="A photo",
        media=[MediaItem(url="https://cdn.example.com/p.jpg", alt_text="A cat on a mat")],
    )
    plan = plan_containers(content)
    container_id = await client.create_container(plan.main, access_token=alice.access_token)
    sim_clock.advance(1)

    media_id = await client.publish(container_id, access_token=alice.access_token)

    post = await client.get_post(media_id, access_token=alice.access_token)
    assert (post.media_type, post.media_url, post.alt_text) == (
        "IMAGE",
        "https://cdn.example.com/p.jpg",
        "A cat on a mat",
    )
