"""Authentication and API tokens over HTTP: bearer tokens, the dashboard's session cookie,
`me`, creating and revoking tokens, and what an unauthenticated caller is told."""

from __future__ import annotations

import json
from base64 import b64encode

from itsdangerous import TimestampSigner

from scheduler.platform.documents import ApiToken
from scheduler.services import Services
from tests.conftest import AppClientFactory
from tests.graphql_api.conftest import Api, Caller, snapshot

ME = "{ me { userId email ownerId role canWrite tokenId } }"
CREATE = """mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
    __typename ... on Error { message } ... on ValidationErrors { errors { field messages } }
    ... on CreatedApiToken { secret token { id name prefix role revokedAt } } } }"""
REVOKE = """mutation($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) {
    __typename ... on Error { message } ... on ApiToken { id revokedAt } } }"""


def session_cookie(services: Services, user_id: str) -> str:
    """The cookie the dashboard's login sets (Starlette's signed session, see web.security)."""
    secret = services.settings.secret_key
    assert secret is not None
    data = b64encode(json.dumps({"user_id": user_id, "csrf": "x"}).encode())
    return TimestampSigner(secret.get_secret_value()).sign(data).decode()


async def test_health_is_public_and_everything_else_needs_credentials(anonymous: Api):
    assert await anonymous("{ health }") == {"health": "ok"}
    errors = await anonymous.errors("{ health me { role } }")
    assert errors[0]["path"] == ["me"]
    assert errors[0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert errors[0]["message"].startswith("Authentication required: send the header")
    mutation = 'mutation { deletePost(input: {id: "x"}) { __typename } }'
    errors = await anonymous.errors(mutation)
    assert errors[0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_bad_credentials_say_what_is_wrong(anonymous: Api, owner: Caller):
    errors = await anonymous.errors(ME, token="tsk_not-a-real-token")
    assert errors[0]["message"] == "The API token is not valid."
    response = await anonymous.client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Basic {owner.token}"}
    )
    assert response.json()["errors"][0]["message"].startswith("Send the API token as")


async def test_me_with_a_token_and_with_the_session_cookie(
    api: Api, owner: Caller, services: Services, app_client: AppClientFactory
):
    me = (await api(ME))["me"]
    assert me["userId"] == str(owner.user.id) and me["ownerId"] == str(owner.actor.owner_id)
    assert me["role"] == "OWNER" and me["canWrite"] is True and me["tokenId"] is not None
    assert me["email"] == owner.user.email

    browser = await app_client()
    browser.cookies.set("ts_session", session_cookie(services, str(owner.user.id)))
    response = await browser.post("/graphql", json={"query": ME})
    assert response.json()["data"]["me"] == {**me, "tokenId": None}

    browser.cookies.set("ts_session", session_cookie(services, "000000000000000000000000"))
    response = await browser.post("/graphql", json={"query": ME})
    assert response.json()["errors"][0]["message"] == "Your session has ended; log in again."


async def test_create_list_and_revoke_tokens(api: Api, owner: Caller, services: Services):
    created = (await api(CREATE, {"input": {"name": "ci", "readOnly": True}}))["createApiToken"]
    assert created["__typename"] == "CreatedApiToken"
    assert created["token"]["role"] == "VIEWER" and created["token"]["revokedAt"] is None
    assert created["secret"].startswith(created["token"]["prefix"])
    new_me = (await api(ME, token=created["secret"]))["me"]
    assert new_me["role"] == "VIEWER" and new_me["tokenId"] == created["token"]["id"]

    listed = (await api("{ apiTokens { name role } }"))["apiTokens"]
    assert sorted(listed, key=lambda t: t["name"]) == [  # same instant: the manual clock
        {"name": "ci", "role": "VIEWER"},
        {"name": "tests", "role": "OWNER"},
    ]
    stored = await ApiToken.get(created["token"]["id"])
    assert stored is not None and created["secret"] not in stored.model_dump_json()

    invalid = (await api(CREATE, {"input": {"name": "  "}}))["createApiToken"]
    assert invalid["__typename"] == "ValidationErrors"
    assert invalid["errors"][0]["field"] == "name"
    viewer_create = await api(CREATE, {"input": {"name": "x"}}, token=created["secret"])
    assert viewer_create["createApiToken"]["__typename"] == "PermissionDenied"

    revoked = (await api(REVOKE, {"input": {"id": created["token"]["id"]}}))["revokeApiToken"]
    assert revoked["__typename"] == "ApiToken" and revoked["revokedAt"] is not None
    errors = await api.errors(ME, token=created["secret"])  # at once, on the next request
    assert errors[0]["message"] == "The API token is not valid."
    missing = (await api(REVOKE, {"input": {"id": "nope"}}))["revokeApiToken"]
    assert missing["__typename"] == "NotFound"


async def test_tokens_of_another_owner_are_out_of_reach(
    api: Api, stranger: Caller, services: Services
):
    theirs = await services.auth.list_tokens(stranger.actor)
    assert (await api("{ apiTokens { id } }"))["apiTokens"] != [{"id": str(theirs[0].id)}]
    before = await snapshot(services)
    result = (await api(REVOKE, {"input": {"id": str(theirs[0].id)}}))["revokeApiToken"]
    assert result["__typename"] == "NotFound"
    assert await snapshot(services) == before
    assert (await api(ME, token=stranger.token))["me"]["ownerId"] == str(stranger.actor.owner_id)
