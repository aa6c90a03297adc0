"""The schema: committed SDL, authentication on every root field, module sizes."""

from __future__ import annotations

from pathlib import Path

from graphql_api import schema as schema_module
from graphql_api.auth import IsAuthenticated
from graphql_api.schema import PUBLIC_FIELDS, schema

PACKAGE = Path(schema_module.__file__).parent


def test_committed_sdl_matches_the_schema():
    committed = (PACKAGE / "schema.graphql").read_text()
    assert committed == str(schema) + "\n", (
        "graphql_api/schema.graphql is stale; regenerate it with "
        "`.venv/bin/python -m graphql_api.schema > graphql_api/schema.graphql`"
    )


def test_every_root_field_but_health_needs_authentication():
    checked = 0
    for root in (schema.query, schema.mutation, schema.subscription):
        for field in root.__strawberry_definition__.fields:
            guarded = any(
                isinstance(p, IsAuthenticated)
                for extension in field.extensions
                for p in getattr(extension, "permissions", ())
            )
            assert guarded != (field.name in PUBLIC_FIELDS), field.name
            checked += 1
    assert checked > 30


def test_every_mutation_takes_a_single_input():
    for field in schema.mutation.__strawberry_definition__.fields:
        assert [a.python_name for a in field.arguments] == ["input"], field.name


def test_no_module_is_longer_than_800_lines():
    for module in PACKAGE.glob("*.py"):
        assert len(module.read_text().splitlines()) <= 800, module.name
