"""The admin API, the journal's timestamps, the feed, the CLI, and the subprocess mode."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sandbox.simulator import SimulatorError, SimulatorServer, SimulatorState
from sandbox.simulator.cli import build_parser, build_state
from sandbox.simulator.faults import parse_faults
from scheduler.platform.errors import ThreadsAuthError
from scheduler.threads import ContainerRequest, MediaType, ThreadsClient


async def test_bad_admin_input_says_what_to_fix(sim: SimulatorServer):
    admin = sim.admin
    with pytest.raises(SimulatorError, match="Unknown fault kind 'meteor'; use one of: latency"):
        await admin.set_faults({"kind": "meteor"})
    with pytest.raises(SimulatorError, match="probability p must be between 0 and 1"):
        await admin.set_faults({"kind": "drop", "p": 2})
    with pytest.raises(SimulatorError, match="Unknown endpoint 'publsh' for a fault"):
        await admin.set_faults({"kind": "drop", "endpoint": "publsh"})
    with pytest.raises(SimulatorError, match="Unknown simulator setting 'post_limit'"):
        await admin.configure(post_limit=5)
    with pytest.raises(SimulatorError, match="must be a int"):
        await admin.configure(post_quota="many")
    with pytest.raises(SimulatorError, match="No simulated account 'nobody'"):
        await admin.issue_token("nobody")
    await admin.create_account("dup")
    with pytest.raises(SimulatorError, match="already exists"):
        await admin.create_account("dup")


async def test_configure_reset_and_fixed_tokens(sim: SimulatorServer, http: httpx.AsyncClient):
    admin = sim.admin
    config = await admin.configure(post_quota=1, processing_seconds={"VIDEO": 0})
    assert (config["post_quota"], config["processing_seconds"]["VIDEO"]) == (1, 0.0)
    account = await admin.create_account("erin", access_token="fixed-erin")
    client = ThreadsClient(http, base_url=sim.base_url)
    container = await client.create_container(
        ContainerRequest(MediaType.TEXT, text="hi"), access_token="fixed-erin"
    )
    await client.publish(container, access_token="fixed-erin")
    assert account.access_token == "fixed-erin"

    await admin.reset()

    assert await admin.journal() == []
    assert await admin.published() == []
    assert (await http.get(f"{sim.origin}/__admin/accounts")).json() == {"accounts": []}
    assert (await admin.configure())["post_quota"] == 1  # settings survive a reset
    await admin.reset(config=True)
    assert (await admin.configure())["post_quota"] == 250


async def test_short_lived_and_extra_tokens(sim: SimulatorServer, http: httpx.AsyncClient):
    await sim.admin.create_account("fay")
    token = await sim.admin.issue_token("fay", kind="short", age_seconds=3599)
    client = ThreadsClient(http, base_url=sim.base_url)

    assert (await client.get_profile(access_token=token)).username == "fay"
    stale = await sim.admin.issue_token("fay", kind="short", age_seconds=3600)
    with pytest.raises(ThreadsAuthError, match="expired"):
        await client.get_profile(access_token=stale)


async def test_journal_stamps_arrival_before_any_delay(http: httpx.AsyncClient):
    with SimulatorServer() as sim:  # real clock
        account = await sim.admin.create_account("gus")
        await sim.admin.set_faults({"kind": "latency", "min_ms": 1000, "max_ms": 1000})
        before = datetime.now(UTC)

        await http.get(f"{sim.base_url}/me", params={"access_token": account.access_token})

        after = datetime.now(UTC)
        [entry] = await sim.admin.journal(endpoint="profile")
        raw = (await http.get(f"{sim.origin}/__admin/journal")).json()["requests"][0]
    assert entry.received_at.utcoffset() == timedelta(0)
    # Stamped on arrival: well before the injected second of latency ends.
    assert before <= entry.received_at < before + timedelta(milliseconds=900)
    assert after - entry.received_at >= timedelta(milliseconds=1000)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", raw["received_at"])


async def test_feed_shows_posts_newest_first_escaped(sim: SimulatorServer, http: httpx.AsyncClient):
    await sim.admin.create_account("hal", access_token="hal-token")
    client = ThreadsClient(http, base_url=sim.base_url)
    for text in ("first <b>post</b>", "second"):
        container = await client.create_container(
            ContainerRequest(MediaType.TEXT, text=text), access_token="hal-token"
        )
        await client.publish(container, access_token="hal-token")

    page = (await http.get(f"{sim.origin}/__feed/hal")).text
    index = (await http.get(f"{sim.origin}/__feed")).text
    missing = await http.get(f"{sim.origin}/__feed/nobody")

    assert page.index("second") < page.index("first &lt;b&gt;post&lt;/b&gt;")
    assert "<b>post</b>" not in page
    assert "http" not in page.split("<body>")[0]  # no external assets in the head
    assert "@hal" in index and "(2 posts" in index
    assert missing.status_code == 404


def test_cli_flags_build_the_state():
    args = build_parser().parse_args(
        [
            "--account",
            "ivy:ivy-token",
            "--processing",
            "video=7",
            "--post-quota",
            "3",
            "--fault",
            '{"kind": "error_5xx", "p": 0.5}',
            "--config",
            '{"reply_quota": 9}',
        ]
    )
    state = build_state(args)

    assert isinstance(state, SimulatorState)
    assert state.tokens["ivy-token"].user_id == state.usernames["ivy"]
    assert state.config.processing_seconds["VIDEO"] == 7.0
    assert (state.config.post_quota, state.config.reply_quota) == (3, 9)
    assert [f.kind.value for f in state.faults.specs] == ["error_5xx"]
    with pytest.raises(ValueError, match="processing_seconds"):
        build_state(build_parser().parse_args(["--processing", "GIF=1"]))


def test_fault_shorthand_forms():
    [latency] = parse_faults({"latency_ms": {"p": 0.1, "min": 50, "max": 500}})
    both = parse_faults({"faults": [{"kind": "timeout", "seconds": 1}, {"kind": "5xx"}]})

    assert (latency.kind.value, latency.p, latency.min_ms, latency.max_ms) == (
        "latency",
        0.1,
        50,
        500,
    )
    assert [f.kind.value for f in both] == ["hang", "error_5xx"]
    with pytest.raises(ValueError, match="Send faults as"):
        parse_faults("drop")


@pytest.mark.integration
async def test_subprocess_mode(http: httpx.AsyncClient):
    args = ["--account", "jo:jo-token", "--processing", "VIDEO=0"]
    with SimulatorServer(subprocess=True, args=args) as sim:
        assert sim.pid is not None and sim.base_url.endswith("/v1.0")
        client = ThreadsClient(http, base_url=sim.base_url)
        container = await client.create_container(
            ContainerRequest(MediaType.VIDEO, video_url="https://cdn.example.com/v.mp4"),
            access_token="jo-token",
        )
        media_id = await client.publish(container, access_token="jo-token")
        [record] = await sim.admin.published()

        before = await sim.admin.health()
        after = await sim.admin.advance_clock(25 * 3600)  # the subprocess clock is adjustable
        refreshed = await ThreadsClient(http, base_url=sim.base_url).refresh_token("jo-token")

    assert (record.media_id, record.username, record.media_type) == (media_id, "jo", "VIDEO")
    assert after - before >= timedelta(hours=25)
    assert refreshed.access_token != "jo-token"
