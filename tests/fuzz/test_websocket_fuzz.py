"""Generated WebSocket conversations on `/graphql`, in both subscription protocols: whatever a
client sends, the server answers as its protocol says (or closes with the protocol's code for
the client's mistake), shows no internal error, and logs no error."""

from __future__ import annotations

import pytest

from tests.fuzz.server import AppProcess, Tenant, describe_errors
from tests.fuzz.ws_fuzz import PROTOCOLS, fuzz_conversations

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = 40  # per protocol here; `bench/fuzz.py --ws-examples` for long runs


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_fuzzed_conversations_get_protocol_answers_and_no_server_error(
    protocol: str, fuzz_app: AppProcess, owner: Tenant, stranger: Tenant
) -> None:
    since = fuzz_app.log_size()

    def server_logged_nothing(sent: list[str | bytes]) -> None:
        if fuzz_app.log_size() != since:
            errors = fuzz_app.server_errors(since)
            assert not errors, f"{[frame[:300] for frame in sent]}\n" + describe_errors(errors)

    endings = fuzz_conversations(
        fuzz_app.ws_url,
        protocol,
        owner.token,
        [owner.post_id, stranger.post_id],
        examples=EXAMPLES,
        after_each=server_logged_nothing,
    )
    assert sum(endings.values()) >= EXAMPLES // 2, endings
    assert fuzz_app.alive
