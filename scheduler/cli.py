"""The `threads-scheduler` command: serve, worker, users, keys, import and export.

The sandbox (`dev`, the MongoDB stand-in, the Threads simulator) has its own command,
`threads-sandbox`, so that a production install carries none of it.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scheduler.platform.errors import ConfigurationError, SchedulerError
from scheduler.platform.logs import configure_logging
from scheduler.platform.settings import Settings, load_settings

Handler = Callable[[argparse.Namespace], int]
WEB_APP = "web.app:create_app"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    return run_handler(args.handler, args)


def run_handler(handler: Handler, args: argparse.Namespace) -> int:
    """Run a command; its errors become a message on stderr and an exit code (2: configuration)."""
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

    user = sub.add_parser("create-user", help="create a dashboard user (prompts for the password)")
    user.add_argument("email")
    user.add_argument("--role", choices=["owner", "viewer"], default="owner")
    user.add_argument("--owner", help="for a viewer: the email of the owner whose data they see")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user.set_defaults(handler=_create_user)

    key = sub.add_parser("generate-key", help="print a new key for ENCRYPTION_KEYS")
    key.set_defaults(handler=_generate_key)
    _bulk_parsers(sub)
    return parser


def _bulk_parsers(sub: Any) -> None:
    imp = sub.add_parser("import", help="import posts from a CSV or XLSX file (ours or the seed's)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--account", help="default account (username or id) for rows without one")
    imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    imp.add_argument(
        "--all-or-nothing", action="store_true", help="import nothing unless every row is valid"
    )
    imp.add_argument("--owner", help="email of the owner to import for (default: the only one)")
    imp.add_argument("--sheet", help="the worksheet of an XLSX file to read")
    imp.set_defaults(handler=_import)
    exp = sub.add_parser("export", help="export posts as CSV (in the import format)")
    exp.add_argument("--owner", help="email of the owner whose posts to export")
    exp.add_argument("--account", help="only this account's posts (username or id)")
    exp.add_argument("--status", action="append", default=[], help="only posts in this status")
    exp.add_argument("-o", "--output", type=Path, help="write to this file (default: stdout)")
    exp.set_defaults(handler=_export)
    tpl = sub.add_parser("import-template", help="write the import template (CSV or XLSX)")
    tpl.add_argument("output", type=Path)
    tpl.add_argument("--xlsx", action="store_true", help="an Excel workbook instead of CSV")
    tpl.set_defaults(handler=_import_template)


def _import(args: argparse.Namespace) -> int:
    from scheduler.bulk import ImportOptions
    from scheduler.bulk.command import import_command

    options = ImportOptions(
        account=args.account,
        all_or_nothing=args.all_or_nothing,
        sheet=args.sheet,
        filename=args.file.name,
    )
    return asyncio.run(
        import_command(
            load_settings(), args.file, owner=args.owner, options=options, dry_run=args.dry_run
        )
    )


def _export(args: argparse.Namespace) -> int:
    from scheduler.bulk.command import export_command

    text = asyncio.run(
        export_command(
            load_settings(), owner=args.owner, account=args.account, statuses=args.status
        )
    )
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8-sig", newline="")
        print(f"Wrote the export to {args.output}.", file=sys.stderr)
    return 0


def _import_template(args: argparse.Namespace) -> int:
    from scheduler.bulk.command import template_command

    print(template_command(args.output, xlsx=args.xlsx))
    return 0


def _configure_logging(settings: Settings) -> None:
    # LOG_FORMAT=json|text; every record passes the redaction filter (scheduler.platform.logs).
    configure_logging(settings)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = load_settings()
    _configure_logging(settings)
    host, port = args.host or settings.host, args.port if args.port is not None else settings.port
    print(f"web listening on http://{host}:{port}", flush=True)
    # By name: the core does not import its interfaces (the web app reads its own settings).
    # log_config=None: uvicorn's own loggers go through our (redacting, JSON-capable) handler.
    uvicorn.run(WEB_APP, factory=True, host=host, port=port, log_level="warning", log_config=None)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from scheduler.publishing.worker import serve_worker

    settings = load_settings()
    _configure_logging(settings)
    asyncio.run(serve_worker(settings))
    return 0


def _create_user(args: argparse.Namespace) -> int:
    from scheduler.accounts.users import create_user_command

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


def _generate_key(args: argparse.Namespace) -> int:
    from scheduler.accounts.secrets import generate_key

    # Prepend it to ENCRYPTION_KEYS (newest first); keep the old keys until tokens are rotated.
    print(generate_key())
    return 0


if __name__ == "__main__":
    sys.exit(main())
