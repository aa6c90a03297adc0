"""Schemathesis against the GraphQL schema, over real HTTP, as an API token's holder.

Every query and mutation is one test: valid documents (positive mode) and invalid ones (negative
mode), with real ids in half the ID and String arguments. No response may be a 5xx, carry a
masked ("Unexpected error.") or unmasked internal error, or break the schema; and the server
may log no error meanwhile (a masked error's traceback goes to the log: the test shows it).

`bench/fuzz.py` runs the same with many more cases.
"""

from __future__ import annotations

import pytest
from schemathesis.specs.graphql.schemas import GraphQLSchema

from tests.fuzz.graphql_fuzz import fuzz_operation, load_schema, operation_labels
from tests.fuzz.server import AppProcess, Tenant, describe_errors

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = 6  # per operation and mode here; `bench/fuzz.py --graphql-examples` for long runs


@pytest.fixture(scope="session")
def graphql_schema(fuzz_app: AppProcess, owner: Tenant, stranger: Tenant) -> GraphQLSchema:
    ids = [owner.account_id, owner.post_id, stranger.account_id, stranger.post_id]
    return load_schema(fuzz_app.base_url, owner.bearer, ids)


LABELS = operation_labels()
MUTATIONS = [label for label in LABELS if label.startswith("Mutation.")]


@pytest.mark.parametrize("label", LABELS)
def test_fuzzed_operation_gets_no_server_error_and_no_internal_error(
    label: str, fuzz_app: AppProcess, graphql_schema: GraphQLSchema, owner: Tenant
) -> None:
    _fuzz(label, fuzz_app, graphql_schema, owner.bearer)


@pytest.mark.parametrize("label", MUTATIONS)
def test_fuzzed_mutation_with_a_read_only_token_gets_no_server_error(
    label: str, fuzz_app: AppProcess, graphql_schema: GraphQLSchema, owner: Tenant
) -> None:
    _fuzz(label, fuzz_app, graphql_schema, owner.read_only_bearer, examples=3)


def _fuzz(
    label: str,
    fuzz_app: AppProcess,
    graphql_schema: GraphQLSchema,
    headers: dict[str, str],
    examples: int = EXAMPLES,
) -> None:
    since = fuzz_app.log_size()

    def server_logged_nothing() -> None:
        if fuzz_app.log_size() != since:
            errors = fuzz_app.server_errors(since)
            assert not errors, "The server logged errors:\n" + describe_errors(errors)

    tally = fuzz_operation(
        graphql_schema, label, headers, examples=examples, after_each=server_logged_nothing
    )
    assert tally.total > 0, "no case ran"
    assert fuzz_app.alive
