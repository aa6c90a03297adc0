"""Accounts over HTTP: listing, live quota, connecting (OAuth), disconnecting and refreshing,
with each typed error (the Threads simulator plays Threads, faults included)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sandbox.simulator.server import SimulatorServer
from scheduler.platform.clock import ManualClock
from scheduler.platform.documents import Account, AccountStatus
from scheduler.services import Services
from tests.graphql_api.conftest import REDIRECT_URI, Api, Caller, connect, snapshot

FAILURES = """__typename ... on Error { message }
    ... on NotFound { kind id } ... on AccountNeedsReconnect { accountId }
    ... on QuotaExceeded { retryAfterSeconds freesAt }
    ... on ThreadsApiFailure { code retryable }"""
QUOTA = f"""query($id: ID!) {{ publishingQuota(accountId: $id) {{ {FAILURES}
    ... on PublishingQuota {{ quotaUsage quotaTotal postsRemaining replyQuotaTotal }} }} }}"""
CONNECT = """mutation($input: ConnectAccountInput!) { connectAccount(input: $input) {
    __typename ... on Error { message } ... on ValidationErrors { errors { field messages } }
    ... on ThreadsApiFailure { code }
    ... on AccountAuthorization { authorizeUrl state expiresAt }
    ... on Account { id username status timezone } } }"""
REFRESH = f"""mutation($input: AccountIdInput!) {{ refreshAccountToken(input: $input) {{
    {FAILURES} ... on ValidationErrors {{ errors {{ field }} }}
    ... on Account {{ tokenRefreshedAt status }} }} }}"""
DISCONNECT = """mutation($input: AccountIdInput!) { disconnectAccount(input: $input) {
    __typename ... on Error { message } ... on Account { status statusReason } } }"""


async def test_accounts_and_account(
    api: Api, account: Account, stranger: Caller, services: Services, simulator: SimulatorServer
):
    theirs = await connect(services, simulator, stranger, "zed")
    data = await api("{ accounts { id username threadsUserId status timezone quota { total } } }")
    assert data["accounts"] == [
        {
            "id": str(account.id),
            "username": "ana",
            "threadsUserId": account.threads_user_id,
            "status": "ACTIVE",
            "timezone": "UTC",
            "quota": {"total": 250},
        }
    ]
    one = "query($id: ID!) { account(id: $id) { __typename ... on Account { username } } }"
    assert (await api(one, {"id": str(account.id)}))["account"]["username"] == "ana"
    assert (await api(one, {"id": str(theirs.id)}))["account"] == {"__typename": "NotFound"}


async def test_no_field_returns_the_access_token(api: Api, account: Account):
    fields = await api('{ __type(name: "Account") { fields { name } } }')
    names = {field["name"] for field in fields["__type"]["fields"]}
    assert not any("token" in name.lower() and "At" not in name for name in names), names


async def test_publishing_quota_and_its_errors(
    api: Api, account: Account, stranger: Caller, services: Services, simulator: SimulatorServer
):
    quota = (await api(QUOTA, {"id": str(account.id)}))["publishingQuota"]
    assert quota == {
        "__typename": "PublishingQuota",
        "quotaUsage": 0,
        "quotaTotal": 250,
        "postsRemaining": 250,
        "replyQuotaTotal": 1000,
    }
    admin = simulator.admin
    await admin.set_faults(
        {"kind": "rate_limited", "endpoint": "publishing_limit", "retry_after": 30}
    )
    limited = (await api(QUOTA, {"id": str(account.id)}))["publishingQuota"]
    assert limited["__typename"] == "QuotaExceeded" and limited["retryAfterSeconds"] == 30

    await admin.set_faults({"kind": "error_5xx", "endpoint": "publishing_limit", "status": 500})
    broken = (await api(QUOTA, {"id": str(account.id)}))["publishingQuota"]
    assert broken["__typename"] == "ThreadsApiFailure" and broken["retryable"] is True

    await admin.set_faults({"kind": "auth_error", "endpoint": "publishing_limit", "subcode": 463})
    expired = (await api(QUOTA, {"id": str(account.id)}))["publishingQuota"]
    assert expired["__typename"] == "AccountNeedsReconnect"
    assert "Reconnect" in expired["message"]
    await admin.clear_faults()

    theirs = await connect(services, simulator, stranger, "zed")
    assert (await api(QUOTA, {"id": str(theirs.id)}))["publishingQuota"]["__typename"] == "NotFound"

    await api(DISCONNECT, {"input": {"id": str(account.id)}})
    held = (await api(QUOTA, {"id": str(account.id)}))["publishingQuota"]
    assert held == {
        "__typename": "AccountNeedsReconnect",
        "message": held["message"],
        "accountId": str(account.id),
    }
    assert "must be reconnected" in held["message"]


async def test_connect_account_start_then_complete(
    api: Api, owner: Caller, services: Services, simulator: SimulatorServer
):
    start = (await api(CONNECT, {"input": {}}))["connectAccount"]
    assert start["__typename"] == "AccountAuthorization"
    query = parse_qs(urlsplit(start["authorizeUrl"]).query)
    assert query["state"] == [start["state"]] and query["redirect_uri"] == [REDIRECT_URI]

    await simulator.admin.create_account("carl")
    code = await simulator.admin.auth_code("carl", redirect_uri=REDIRECT_URI)
    done = (
        await api(
            CONNECT,
            {"input": {"code": code, "state": start["state"], "timezone": "Europe/Berlin"}},
        )
    )["connectAccount"]
    assert done["__typename"] == "Account"
    assert (done["username"], done["status"], done["timezone"]) == (
        "carl",
        "ACTIVE",
        "Europe/Berlin",
    )
    stored = await Account.get(done["id"])
    assert stored is not None and stored.owner_id == owner.actor.owner_id


async def test_connect_account_refuses_bad_state_and_bad_code(
    api: Api, stranger: Caller, services: Services, simulator: SimulatorServer, clock: ManualClock
):
    before = await snapshot(services)
    forged = (await api(CONNECT, {"input": {"code": "abc", "state": "forged"}}))["connectAccount"]
    assert forged["__typename"] == "ValidationErrors"
    assert forged["errors"][0]["field"] == "state"

    theirs = services.accounts.start_connect(stranger.actor).state  # another owner's flow
    wrong = (await api(CONNECT, {"input": {"code": "abc", "state": theirs}}))["connectAccount"]
    assert wrong["__typename"] == "ValidationErrors"

    start = (await api(CONNECT, {"input": {}}))["connectAccount"]
    bad_code = await api(CONNECT, {"input": {"code": "abc", "state": start["state"]}})
    assert bad_code["connectAccount"]["__typename"] == "ThreadsApiFailure"

    clock.advance(timedelta(minutes=16))
    late = await api(CONNECT, {"input": {"code": "abc", "state": start["state"]}})
    assert late["connectAccount"]["errors"][0]["messages"][0].startswith("This sign-in took longer")
    assert await snapshot(services) == before


async def test_viewer_may_read_accounts_but_not_change_them(
    api: Api, viewer: Caller, account: Account, services: Services
):
    listed = await api("{ accounts { username } }", token=viewer.token)
    assert listed == {"accounts": [{"username": "ana"}]}
    before = await snapshot(services)
    for query, variables in [
        (CONNECT, {"input": {}}),
        (DISCONNECT, {"input": {"id": str(account.id)}}),
        (REFRESH, {"input": {"id": str(account.id)}}),
    ]:
        result = next(iter((await api(query, variables, token=viewer.token)).values()))
        assert result["__typename"] == "PermissionDenied"
        assert "viewer" in result["message"]
    assert await snapshot(services) == before


async def test_disconnect_and_refresh(
    api: Api,
    owner: Caller,
    services: Services,
    simulator: SimulatorServer,
    clock: ManualClock,
    stranger: Caller,
):
    sim = await simulator.admin.create_account("old", token_age_seconds=3 * 86400)
    account = await services.accounts.connect_with_token(owner.actor, sim.access_token)
    aid = {"input": {"id": str(account.id)}}

    young = (await api(REFRESH, aid))["refreshAccountToken"]
    assert young["__typename"] == "ValidationErrors" and young["errors"] == [{"field": "account"}]

    clock.advance(timedelta(days=2))
    refreshed = (await api(REFRESH, aid))["refreshAccountToken"]
    assert refreshed == {
        "__typename": "Account",
        "tokenRefreshedAt": clock.now().isoformat(),
        "status": "ACTIVE",
    }

    clock.advance(timedelta(days=2))
    await simulator.admin.set_faults({"kind": "rate_limited", "endpoint": "oauth_refresh"})
    limited = (await api(REFRESH, aid))["refreshAccountToken"]
    assert limited["__typename"] == "QuotaExceeded"
    await simulator.admin.set_faults({"kind": "transient", "endpoint": "oauth_refresh"})
    assert (await api(REFRESH, aid))["refreshAccountToken"]["__typename"] == "ThreadsApiFailure"
    await simulator.admin.set_faults({"kind": "auth_error", "endpoint": "oauth_refresh"})
    dead = (await api(REFRESH, aid))["refreshAccountToken"]
    assert dead["__typename"] == "AccountNeedsReconnect"
    stored = await Account.get(account.id)
    assert stored is not None and stored.status is AccountStatus.NEEDS_RECONNECT
    await simulator.admin.clear_faults()

    theirs = await connect(services, simulator, stranger, "zed")
    other = {"input": {"id": str(theirs.id)}}
    assert (await api(REFRESH, other))["refreshAccountToken"]["__typename"] == "NotFound"
    assert (await api(DISCONNECT, other))["disconnectAccount"]["__typename"] == "NotFound"

    gone = (await api(DISCONNECT, aid))["disconnectAccount"]
    assert gone == {
        "__typename": "Account",
        "status": "DISCONNECTED",
        "statusReason": "disconnected by you",
    }
    held = (await api(REFRESH, aid))["refreshAccountToken"]
    assert held["__typename"] == "AccountNeedsReconnect" and held["accountId"] == str(account.id)
