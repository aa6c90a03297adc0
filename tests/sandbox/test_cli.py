"""`threads-sandbox`: its server commands hand their flags to the stand-in and the simulator."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("command", "listening"),
    [
        ("mongo-standin", r"mongo-standin listening on mongodb://127\.0\.0\.1:\d+\n"),
        ("threads-simulator", r"threads-simulator listening on http://127\.0\.0\.1:\d+\n"),
    ],
)
def test_a_server_command_takes_its_own_flags(command: str, listening: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.cli", command, "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert re.fullmatch(listening, process.stdout.readline())
    finally:
        process.kill()
        process.communicate()


def test_dev_refuses_a_bad_flag_with_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "dev", "--port", "eighty"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "invalid int value: 'eighty'" in done.stderr
