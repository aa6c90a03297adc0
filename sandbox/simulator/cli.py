"""`python -m sandbox.simulator`: run the Threads simulator (`main(argv)` for the project CLI)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import uvicorn

from sandbox.simulator.app import create_simulator_app
from sandbox.simulator.config import SimulatorConfig
from sandbox.simulator.faults import parse_faults
from sandbox.simulator.server import LISTENING, bind_socket, uvicorn_config
from sandbox.simulator.state import SimulatorState


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.simulator",
        description="A local Threads Graph API for development and tests (admin API at /__admin/).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    parser.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="USERNAME[:TOKEN]",
        help="create an account (with a fixed long-lived token if given); repeatable",
    )
    parser.add_argument(
        "--processing",
        action="append",
        default=[],
        metavar="TYPE=SECONDS",
        help="container processing time per media type, e.g. VIDEO=5; repeatable",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        help='inject a fault, e.g. \'{"kind": "error_5xx", "p": 0.1}\'; repeatable',
    )
    parser.add_argument("--config", metavar="JSON", help="settings to change (see SimulatorConfig)")
    parser.add_argument("--post-quota", type=int, help="posts per rolling 24 h (default 250)")
    parser.add_argument("--reply-quota", type=int, help="replies per rolling 24 h (default 1000)")
    parser.add_argument("--seed", type=int, help="seed for tokens and fault probabilities")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    return parser


def build_state(args: argparse.Namespace) -> SimulatorState:
    """A simulator state configured from parsed flags (raises ValueError on bad values)."""
    config = SimulatorConfig()
    changes = json.loads(args.config) if args.config else {}
    if not isinstance(changes, dict):
        raise TypeError("--config must be a JSON object of settings.")
    processing: dict[str, float] = {}
    for item in args.processing:
        kind, _, seconds = item.partition("=")
        processing[kind.strip().upper()] = float(seconds)
    if processing:
        changes["processing_seconds"] = processing
    for name in ("post_quota", "reply_quota", "seed"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    config.update(changes)
    state = SimulatorState(config)
    for item in args.account:
        username, _, token = item.partition(":")
        account, issued = state.create_account(username, access_token=token or None)
        print(
            f"account @{account.username} user_id={account.user_id} token={issued.value}",
            file=sys.stderr,
        )
    for raw in args.fault:
        state.faults.add(parse_faults(json.loads(raw)))
    return state


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator until interrupted; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        state = build_state(args)
    except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError too
        parser.error(str(exc))
    sock = bind_socket(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"{LISTENING}http://{shown}:{port}", flush=True)
    server = uvicorn.Server(uvicorn_config(create_simulator_app(state), log_level=args.log_level))
    server.run(sockets=[sock])
    return 0
