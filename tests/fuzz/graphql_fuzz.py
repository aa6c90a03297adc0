"""GraphQL fuzzing with schemathesis: every query and mutation of the schema, over real HTTP.

Schemathesis (through hypothesis-graphql) writes documents from the schema the server
introspects: valid ones (positive mode, every argument and selection the schema allows) and
invalid ones (negative mode: wrong types, missing required arguments). A fuzz dictionary puts real
ids (the caller's own account and post, and another tenant's) into ID and String arguments half
of the time, so the cases reach the services instead of stopping at "not found".

Each response passes `CHECKS`: no 5xx, no masked or unmasked internal error, and conformance
(a JSON object; no null in a non-null field). Schemathesis' own `not_a_server_error` is left out
on purpose: for GraphQL it fails on every execution error, and this API reports expected core
errors (a cursor that is not one, a limit out of range) as top-level errors that say what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.strategies import SearchStrategy
from schemathesis import APIOperation, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case as GenericCase
from schemathesis.specs.graphql.schemas import GraphQLSchema
from schemathesis.specs.openapi.checks import response_schema_conformance

import graphql_api
from tests.fuzz.checks import no_5xx, no_internal_errors

Operation = APIOperation[Any, Any, Any, Any]
Case = GenericCase[Operation]
SDL = Path(graphql_api.__file__).parent / "schema.graphql"
CHECKS = [no_5xx, no_internal_errors, response_schema_conformance]
ID_PROBABILITY = 0.5
REQUEST_TIMEOUT = 30.0


def operation_labels() -> list[str]:
    """`Query.posts`, `Mutation.createPost`...: every operation in the committed SDL."""
    schema = schemathesis.graphql.from_path(SDL)
    return [operation.label for operation in _operations(schema)]


def _operations(schema: GraphQLSchema) -> list[Operation]:
    operations: list[Operation] = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:
            raise result.err()  # schemathesis cannot read this operation
    return operations


def load_schema(base_url: str, headers: Mapping[str, str], ids: Sequence[str]) -> GraphQLSchema:
    """The live schema (introspected over HTTP), with `ids` as the fuzz dictionary."""
    config = schemathesis.Config.from_dict(
        {
            "dictionaries": {"ids": {"values": list(ids)}},
            "generation": {
                "dictionaries": {"string": {"dictionary": "ids", "probability": ID_PROBABILITY}}
            },
        }
    )
    return schemathesis.graphql.from_url(
        f"{base_url}/graphql", headers=dict(headers), config=config, timeout=REQUEST_TIMEOUT
    )


@dataclass
class Tally:
    """How many cases ran, per operation and generation mode."""

    cases: dict[str, int] = field(default_factory=dict)

    def add(self, label: str, mode: GenerationMode) -> None:
        key = f"{label} ({mode.value})"
        self.cases[key] = self.cases.get(key, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.cases.values())


def fuzz_operation(
    schema: GraphQLSchema,
    label: str,
    headers: Mapping[str, str],
    *,
    examples: int,
    modes: Sequence[GenerationMode] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    tally: Tally | None = None,
    seed: int | None = None,
    after_each: Callable[[], None] | None = None,
) -> Tally:
    """Run `examples` cases per mode of one operation; raises on the first failing check
    (Hypothesis then shrinks it and prints the smallest case and a curl command).

    Args:
        schema: from `load_schema`.
        label: e.g. `Mutation.createPost`.
        headers: sent with every request (the API token).
        examples: Hypothesis' `max_examples` per mode.
        modes: positive (valid documents), negative (invalid ones) or both.
        tally: counts the cases (a new one by default).
        seed: fixes Hypothesis' random choices (to re-run a reported failure).
        after_each: called after every case (e.g. to check the server's log).
    """
    tally = tally if tally is not None else Tally()
    operation = schema.find_operation_by_label(label)
    if operation is None:
        raise LookupError(f"The live schema has no {label}; regenerate graphql_api/schema.graphql.")
    sent = dict(headers)
    with requests.Session() as session:
        for mode in modes:

            def check(case: Case, mode: GenerationMode = mode) -> None:
                tally.add(label, mode)
                response = case.call(session=session, headers=sent, timeout=REQUEST_TIMEOUT)
                case.validate_response(response, checks=CHECKS, headers=sent)
                if after_each is not None:
                    after_each()

            run = _hypothesis_test(operation.as_strategy(generation_mode=mode), examples, check)
            if seed is not None:
                run = hypothesis_seed(seed)(run)
            run()
    return tally


def _hypothesis_test(
    cases: SearchStrategy[Case],
    examples: int,
    check: Callable[[Case], None],
) -> Callable[[], None]:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(case=cases)
    def run(case: Case) -> None:
        check(case)

    return run
