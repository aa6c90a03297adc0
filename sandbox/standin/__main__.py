"""`python -m sandbox.standin`: run the MongoDB stand-in until SIGTERM/SIGINT.

On start it prints exactly one line to stdout, `mongo-standin listening on mongodb://HOST:PORT`,
which launchers read to learn the port (`--port 0` picks a free one). Logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from sandbox.standin.server import StandinServer
from scheduler.platform.errors import ConfigurationError

log = logging.getLogger("sandbox.standin")


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in; return the process exit code.

    Args:
        argv: command-line arguments (without the program name); defaults to sys.argv[1:].
    """
    parser = argparse.ArgumentParser(
        prog="mongo-standin",
        description="A MongoDB wire-protocol server backed by mongomock (for dev and tests).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=27017, help="TCP port; 0 picks a free one")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="directory to snapshot every database into (reloaded on start)",
    )
    if argv and argv[0] == "--":  # `threads-sandbox mongo-standin -- --port 0` passes it on
        argv = argv[1:]
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s mongo-standin %(levelname)s %(message)s",
    )
    try:
        asyncio.run(_serve(StandinServer(args.host, args.port, data=args.data)))
    except ConfigurationError as exc:
        print(f"mongo-standin: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mongo-standin: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(server: StandinServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await server.start()
    print(f"mongo-standin listening on {server.url}", flush=True)
    try:
        await stop.wait()
    finally:
        log.info("Shutting down")
        await server.close()


if __name__ == "__main__":
    sys.exit(main())
