"""The `threads-sandbox` command: the whole system locally (`dev`) and the embedded servers."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from scheduler.cli import run_handler
from scheduler.platform.logs import configure_logging
from scheduler.platform.settings import load_settings

# Commands that own their flags: everything after the name goes to them untouched.
PASSTHROUGH = {
    "mongo-standin": "sandbox.standin.__main__",
    "threads-simulator": "sandbox.simulator.cli",
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PASSTHROUGH:
        module = importlib.import_module(PASSTHROUGH[argv[0]])
        return int(module.main(argv[1:]))
    return run_handler(_dev, _parser().parse_args(argv))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="threads-sandbox",
        description="Run threads-scheduler locally without a MongoDB server or Meta.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    dev = sub.add_parser(
        "dev", help="run everything locally: web, worker, MongoDB stand-in, Redis, Threads sandbox"
    )
    dev.add_argument("--host", default=None)
    dev.add_argument("--port", type=int, default=None)
    dev.add_argument("--data", default=".data", help="where dev keeps its data (default ./.data)")
    # Listed for --help only; main() hands them their arguments before argparse runs.
    sub.add_parser("mongo-standin", help="run the embedded MongoDB wire-protocol stand-in")
    sub.add_parser("threads-simulator", help="run the Threads Graph API simulator")
    return parser


def _dev(args: argparse.Namespace) -> int:
    from sandbox.dev import run_dev

    configure_logging(load_settings())  # LOG_LEVEL/LOG_FORMAT apply to dev too, redacted
    return run_dev(data=Path(args.data), host=args.host, port=args.port)


if __name__ == "__main__":
    sys.exit(main())
