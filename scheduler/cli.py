"""The `threads-scheduler` command: serve, worker, dev, and the embedded servers."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from scheduler.errors import ConfigurationError, SchedulerError
from scheduler.settings import Settings, load_settings

Handler = Callable[[argparse.Namespace], int]
WEB_APP = "web.app:create_app"


# Commands that own their flags: everything after the name goes to them untouched.
PASSTHROUGH = {
    "mongo-standin": "scheduler.standin.__main__",
    "threads-simulator": "scheduler.simulator.__main__",
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PASSTHROUGH:
        module = importlib.import_module(PASSTHROUGH[argv[0]])
        return int(module.main(argv[1:]))
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigurationError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except SchedulerError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="threads-scheduler", description="Self-hosted post scheduler for Meta Threads."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the web app (GraphQL API and dashboard)")
    serve.add_argument("--host", help="bind address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PORT or 8000)")
    serve.set_defaults(handler=_serve)

    worker = sub.add_parser("worker", help="run the SAQ workers (scheduler and publishing)")
    worker.set_defaults(handler=_worker)

    dev = sub.add_parser(
        "dev", help="run everything locally: web, worker, MongoDB stand-in, Redis, Threads sandbox"
    )
    dev.add_argument("--host", default=None)
    dev.add_argument("--port", type=int, default=None)
    dev.add_argument("--data", default=".data", help="where dev keeps its data (default ./.data)")
    dev.set_defaults(handler=_dev)

    # Listed for --help only; main() hands them their arguments before argparse runs.
    sub.add_parser("mongo-standin", help="run the embedded MongoDB wire-protocol stand-in")
    sub.add_parser("threads-simulator", help="run the Threads Graph API simulator (sandbox)")

    user = sub.add_parser("create-user", help="create a dashboard user (prompts for the password)")
    user.add_argument("email")
    user.add_argument("--role", choices=["owner", "viewer"], default="owner")
    user.add_argument("--owner", help="for a viewer: the email of the owner whose data they see")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.set_defaults(handler=_create_user)
    return parser


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = load_settings()
    _configure_logging(settings)
    host, port = args.host or settings.host, args.port if args.port is not None else settings.port
    print(f"web listening on http://{host}:{port}", flush=True)
    # By name: the core does not import its interfaces (the web app reads its own settings).
    uvicorn.run(WEB_APP, factory=True, host=host, port=port, log_level="warning")
    return 0


def _worker(args: argparse.Namespace) -> int:
    from scheduler.worker import serve_worker

    settings = load_settings()
    _configure_logging(settings)
    asyncio.run(serve_worker(settings))
    return 0


def _dev(args: argparse.Namespace) -> int:
    from scheduler.dev import run_dev

    return run_dev(data=Path(args.data), host=args.host, port=args.port)


def _create_user(args: argparse.Namespace) -> int:
    from scheduler.users import create_user_command

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            print("The passwords differ; nothing was created.", file=sys.stderr)
            return 1
    settings = load_settings()
    print(asyncio.run(create_user_command(settings, args.email, password, args.role, args.owner)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
