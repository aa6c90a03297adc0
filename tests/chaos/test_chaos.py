"""The chaos run as a test (marker `chaos`: `scripts/test` runs it after the quick suite)."""

from __future__ import annotations

import json

import pytest

from bench import chaos

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(1200)]


def test_chaos_run_loses_nothing_and_publishes_nothing_twice_or_early() -> None:
    # Shorter than the documented run (3,000 posts over 3 minutes), same faults and events.
    status = chaos.main(["--posts", "600", "--window", "75", "--accounts", "12", "--lead", "30"])
    report = json.loads((chaos.RESULTS / "chaos.json").read_text())["runs"][-1]
    assert report["duplicates"] == 0, report
    assert report["early"] == 0, report
    assert report["lost"] == 0, report
    assert report["cancelled_but_published"] == 0, report
    assert report["edits_lost"] == 0, report
    assert report["unexplained_failures"] == 0, report
    assert report["published"] > 0.8 * report["scheduled"], report
    assert status == 0
