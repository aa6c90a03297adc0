"""Contract: OAuth (authorize → code → short-lived → long-lived → refresh) over a real socket."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.simulator import SimAccount, SimulatorAdmin, SimulatorServer, SimulatorState
from scheduler.platform.clock import ManualClock
from scheduler.platform.errors import ThreadsAuthError, ThreadsRejectedError
from scheduler.threads import ThreadsClient

REDIRECT = "https://app.example.com/threads/callback"


async def test_authorize_page_redirects_back_with_a_code(
    client: ThreadsClient, alice: SimAccount, http: httpx.AsyncClient
):
    url = client.authorize_url(redirect_uri=REDIRECT, state="xyz")
    assert url.startswith(f"{client.oauth_base}/oauth/authorize?client_id=1234567890")

    page = await http.get(url)
    grant_path = page.text.split('href="')[1].split('"')[0].replace("&amp;", "&")
    redirect = await http.get(f"{client.oauth_base}{grant_path}")

    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(REDIRECT) and location.endswith("#_")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz"]
    grant = await client.exchange_code(query["code"][0] + "#_", redirect_uri=REDIRECT)
    assert grant.user_id == alice.user_id
    assert (await client.get_profile(access_token=grant.access_token)).username == "alice"


async def test_code_exchange_gives_a_numeric_user_id_and_works_once(
    admin: SimulatorAdmin,
    alice: SimAccount,
    http: httpx.AsyncClient,
    sim: SimulatorServer,
    client: ThreadsClient,
):
    code = await admin.auth_code("alice", redirect_uri=REDIRECT)
    form = {
        "client_id": "1234567890",
        "client_secret": "sim-app-secret",
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
        "code": code,
    }

    first = await http.post(f"{sim.origin}/oauth/access_token", data=form)

    assert first.json()["user_id"] == int(alice.user_id)  # a JSON number, as documented
    assert first.json()["expires_in"] == 3600
    with pytest.raises(ThreadsAuthError, match="already used") as caught:
        await client.exchange_code(code, redirect_uri=REDIRECT)
    assert "Connect flow again" in caught.value.explanation


async def test_code_expires_after_an_hour_and_checks_the_redirect_uri(
    admin: SimulatorAdmin, alice: SimAccount, client: ThreadsClient, sim_clock: ManualClock
):
    wrong_uri = await admin.auth_code("alice", redirect_uri=REDIRECT)
    with pytest.raises(ThreadsAuthError, match="redirect_uri"):
        await client.exchange_code(wrong_uri, redirect_uri="https://elsewhere.example.com/")

    stale = await admin.auth_code("alice", redirect_uri=REDIRECT)
    sim_clock.advance(3600)
    with pytest.raises(ThreadsAuthError, match="not found"):
        await client.exchange_code(stale, redirect_uri=REDIRECT)


async def test_short_lived_token_lasts_an_hour_and_exchanges_for_60_days(
    admin: SimulatorAdmin, alice: SimAccount, client: ThreadsClient, sim_clock: ManualClock
):
    short = await client.exchange_code(await admin.auth_code("alice"), redirect_uri=REDIRECT)

    long = await client.exchange_long_lived(short.access_token)

    assert (long.token_type, long.expires_in) == ("bearer", 60 * 86400)
    with pytest.raises(ThreadsRejectedError):  # a long-lived token is not exchanged again
        await client.exchange_long_lived(long.access_token)
    sim_clock.advance(3600)
    with pytest.raises(ThreadsAuthError):
        await client.get_profile(access_token=short.access_token)
    with pytest.raises(ThreadsAuthError):  # an expired short-lived token cannot be exchanged
        await client.exchange_long_lived(short.access_token)
    assert (await client.get_profile(access_token=long.access_token)).id == alice.user_id


async def test_refresh_needs_a_token_at_least_24_hours_old_and_unexpired(
    alice: SimAccount, client: ThreadsClient, sim_clock: ManualClock
):
    with pytest.raises(ThreadsRejectedError, match="24 hours") as young:
        await client.refresh_token(alice.access_token)
    assert "24 hours" in young.value.meta_message

    sim_clock.advance(24 * 3600)
    fresh = await client.refresh_token(alice.access_token)

    assert fresh.access_token != alice.access_token
    assert fresh.expires_in == 60 * 86400
    sim_clock.advance(60 * 86400)
    with pytest.raises(ThreadsAuthError) as expired:
        await client.refresh_token(fresh.access_token)
    assert expired.value.subcode == 463


async def test_refresh_can_keep_the_token_string(
    sim_state: SimulatorState, alice: SimAccount, client: ThreadsClient, sim_clock: ManualClock
):
    sim_state.config.refresh_returns_new_token = False
    sim_clock.advance(30 * 86400)

    grant = await client.refresh_token(alice.access_token)

    assert grant.access_token == alice.access_token
    sim_clock.advance(50 * 86400)  # past the original expiry, within the refreshed one
    assert (await client.get_profile(access_token=alice.access_token)).username == "alice"


async def test_wrong_app_secret(alice: SimAccount, http: httpx.AsyncClient, sim: SimulatorServer):
    client = ThreadsClient(http, base_url=sim.base_url, app_id="1234567890", app_secret="wrong")

    with pytest.raises(ThreadsRejectedError, match="client secret"):
        await client.exchange_long_lived(alice.access_token)
    with pytest.raises(ThreadsAuthError, match="client secret"):
        await client.exchange_code("whatever", redirect_uri=REDIRECT)


async def test_app_token_and_debug_token(
    http: httpx.AsyncClient, sim: SimulatorServer, alice: SimAccount
):
    app = await http.get(
        f"{sim.origin}/oauth/access_token",
        params={
            "client_id": "1234567890",
            "client_secret": "sim-app-secret",
            "grant_type": "client_credentials",
        },
    )
    assert app.json()["access_token"].startswith("TH|1234567890|")

    debug = await http.get(
        f"{sim.base_url}/debug_token",
        params={"input_token": alice.access_token, "access_token": alice.access_token},
    )
    data = debug.json()["data"]
    assert (data["is_valid"], data["user_id"], data["type"]) == (True, alice.user_id, "USER")
    assert "threads_content_publish" in data["scopes"]
