"""Files over /graphql: an `importPosts` body may exceed the 256 KiB limit of every other request,
up to what a file of IMPORT_MAX_BYTES needs in base64; a larger file is refused by the core (a
typed error) or, far larger, by the body limit (413). Here IMPORT_MAX_BYTES is 400 kB."""

from __future__ import annotations

import base64
import json

import pytest

from graphql_api.limits import MAX_BODY_BYTES, only_uploads
from scheduler.platform.documents import Account
from scheduler.platform.settings import Settings
from tests.graphql_api.conftest import Api

FILE_LIMIT = 400_000
IMPORT = """mutation($input: ImportPostsInput!) { importPosts(input: $input) {
    __typename ... on ValidationErrors { errors { field messages } }
    ... on ImportReport { totalRows errors { row column message } } } }"""
CREATE = """mutation($input: CreatePostInput!) { createPost(input: $input) { __typename } }"""


@pytest.fixture
def api_settings(api_settings: Settings) -> Settings:
    return api_settings.model_copy(update={"import_max_bytes": FILE_LIMIT})


def csv_of_size(size: int) -> bytes:
    """A CSV of exactly `size` bytes whose rows' texts are all too long (errors by row)."""
    header, row = b"account,text\n", b"@ana," + b"x" * 1000 + b"\n"
    rows, rest = divmod(size - len(header), len(row))
    last = b"@ana," + b"x" * (len(row) + rest - 6) + b"\n"  # the rest goes into the last one
    return header + row * (rows - 1) + last


def upload(data: bytes) -> dict[str, object]:
    return {"input": {"content": base64.b64encode(data).decode(), "filename": "big.csv"}}


async def test_an_import_body_may_exceed_the_general_limit(api: Api, account: Account):
    variables = upload(csv_of_size(300_000))
    assert len(str(variables)) > MAX_BODY_BYTES
    report = (await api(IMPORT, variables))["importPosts"]
    assert report["__typename"] == "ImportReport" and report["totalRows"] == 298
    assert {(e["row"], e["column"]) for e in report["errors"]} == {
        (row, "text") for row in range(2, 300)
    }


async def test_a_file_over_import_max_bytes_is_a_validation_error(api: Api, account: Account):
    result = (await api(IMPORT, upload(csv_of_size(FILE_LIMIT + 1))))["importPosts"]
    assert result == {
        "__typename": "ValidationErrors",
        "errors": [
            {
                "field": "file",
                "messages": [
                    "The file is 0.4 MB; at most 0.4 MB can be imported (IMPORT_MAX_BYTES). "
                    "Split it into smaller files."
                ],
            }
        ],
    }


async def test_a_far_larger_file_gets_413_before_it_is_decoded(api: Api, account: Account):
    response = await api.post(IMPORT, upload(csv_of_size(2 * FILE_LIMIT)))
    assert response.status_code == 413
    message = response.json()["errors"][0]["message"]
    assert "Only importPosts takes more: a file of up to 0.4 MB (IMPORT_MAX_BYTES)" in message


async def test_other_operations_still_stop_at_256_kib(api: Api, account: Account):
    text = "x" * 300_000  # under the upload bound: the body is read, then refused
    variables = {"input": {"accountId": str(account.id), "content": {"text": text}}}
    response = await api.post(CREATE, variables)
    assert response.status_code == 413
    assert "larger than 256 KiB" in response.json()["errors"][0]["message"]

    both = """mutation($input: ImportPostsInput!, $post: CreatePostInput!) {
        importPosts(input: $input) { __typename } createPost(input: $post) { __typename } }"""
    mixed = {**upload(csv_of_size(300_000)), "post": {"accountId": "x", "content": {}}}
    assert (await api.post(both, mixed)).status_code == 413


def test_only_an_import_mutation_counts_as_an_upload():
    def body(query: object) -> bytes:
        return json.dumps({"query": query, "variables": {}}).encode()

    assert only_uploads(body("mutation { importPosts(input: $i) { __typename } }"))
    assert only_uploads(body("mutation A { a: importPosts(input: $i) { __typename } }"))
    refused = [
        body("query { importTemplate { content } }"),
        body("mutation { createPost(input: $i) { __typename } }"),
        body(
            "mutation { importPosts(input: $i) { __typename } ...F } fragment F on Mutation { x }"
        ),
        body("{ importPosts }"),
        body(7),
        body("mutation {"),
        b"not json",
        b"[1, 2]",
        b"[" * 100_000,
    ]
    assert not any(only_uploads(b) for b in refused)
