"""Dev servers: the local Redis and MongoDB stand-in that `dev` and the tests start when needed."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from scheduler.platform.errors import ConfigurationError


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_redis(url: str, *, data_dir: Path | None = None) -> bool:
    """Make sure a Redis answers at `url`; start a local `redis-server` if not. True if started.

    Raises:
        ConfigurationError: nothing answers and no `redis-server` is installed to start.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    if port_open(host, port):
        return False
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise ConfigurationError(
            f"No Redis answers at {host}:{port} (REDIS_URL={url}); start it, or unset REDIS_URL "
            "to use a local one.",
            variables=["REDIS_URL"],
        )
    binary = shutil.which("redis-server")
    if binary is None:
        raise ConfigurationError(
            f"No Redis answers at {host}:{port} and redis-server is not installed. Install it "
            "(Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: `brew install redis`) or "
            "set REDIS_URL to a running Redis.",
            variables=["REDIS_URL"],
        )
    args = [binary, "--port", str(port), "--bind", host, "--daemonize", "yes", "--save", ""]
    args += ["--appendonly", "no"]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        args += ["--dir", str(data_dir), "--logfile", str(data_dir / "redis.log")]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    for _ in range(50):
        if port_open(host, port):
            return True
        time.sleep(0.1)
    raise ConfigurationError(f"redis-server was started on port {port} but does not answer.")
