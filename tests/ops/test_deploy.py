"""The deployment files: compose.yaml is valid and consistent with the settings, the Dockerfile is
multi-stage, small and non-root, and the environment is documented.

`docker compose config` needs only the client, not the engine; this machine has no compose
plugin, so the file is also held against a schema of the compose keys it uses (pydantic models
that forbid anything else), and the real client runs whenever one is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from scheduler.platform.settings import Settings, load_settings
from scheduler.publishing.worker import SHUTDOWN_GRACE_SECONDS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
REQUIRED = {"SECRET_KEY": "compose-test-secret", "ENCRYPTION_KEYS": "compose-test-keys"}


# --- a schema of the compose keys we use (compose-spec names and shapes) ----------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Healthcheck(_Strict):
    test: list[str]
    interval: str | None = None
    timeout: str | None = None
    start_period: str | None = None
    retries: int | None = None


class DependsOn(_Strict):
    condition: str = Field(
        pattern="^(service_started|service_healthy|service_completed_successfully)$"
    )


class Service(_Strict):
    image: str | None = None
    build: str | dict[str, Any] | None = None
    command: list[str] | None = None
    restart: str | None = Field(None, pattern="^(no|always|on-failure|unless-stopped)$")
    environment: dict[str, str | int | bool | None] | None = None
    depends_on: dict[str, DependsOn] | None = None
    ports: list[str] | None = None
    volumes: list[str] | None = None
    healthcheck: Healthcheck | None = None
    stop_grace_period: str | None = None


class ComposeFile(_Strict):
    model_config = ConfigDict(extra="allow")  # `x-*` extension fields, checked below

    services: dict[str, Service]
    volumes: dict[str, dict[str, Any] | None] | None = None


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, f"use whole seconds like '50s', not {duration!r}"
    return int(match.group(1))


def test_compose_file_matches_the_schema_of_what_it_uses() -> None:
    raw = _compose()
    assert all(key in {"services", "volumes"} or key.startswith("x-") for key in raw)
    compose = ComposeFile.model_validate(raw)
    assert set(compose.services) == {"mongodb", "redis", "web", "worker"}
    for name, service in compose.services.items():
        assert service.healthcheck is not None or service.build is not None, name
        for volume in service.volumes or []:
            assert volume.split(":")[0] in (compose.volumes or {}), volume
        for dependency in service.depends_on or {}:
            assert dependency in compose.services


def test_web_and_worker_run_the_image_with_the_documented_settings() -> None:
    compose = ComposeFile.model_validate(_compose())
    web, worker = compose.services["web"], compose.services["worker"]
    assert web.build == "." and worker.build == "."
    assert web.command == ["serve"] and worker.command == ["worker"]
    fields = {name.upper() for name in Settings.model_fields}
    for service in (web, worker):
        assert service.environment is not None
        assert set(service.environment) <= fields, set(service.environment) - fields
        assert service.environment["APP_ENV"] == "production"
        assert "replicaSet=" in str(service.environment["MONGODB_URI"])
        for name in REQUIRED:  # no default: compose refuses to start without them
            assert str(service.environment[name]).startswith(f"${{{name}:?")
        assert {"mongodb", "redis"} <= set(service.depends_on or {})
    assert worker.environment is not None and worker.environment["WORKER_METRICS_PORT"] == "9100"
    assert worker.healthcheck is not None and "9100" in " ".join(worker.healthcheck.test)
    # Compose must wait longer than the worker's own graceful shutdown before killing it.
    assert worker.stop_grace_period is not None
    assert _seconds(worker.stop_grace_period) > 2 * SHUTDOWN_GRACE_SECONDS
    assert web.environment is not None and web.environment["HOST"] == "0.0.0.0"


def test_the_compose_environment_loads_as_production_settings() -> None:
    environment = _compose()["services"]["web"]["environment"]
    values = {
        key: REQUIRED.get(key, str(value))
        for key, value in environment.items()
        if "${" not in str(value) or key in REQUIRED
    }
    settings = load_settings(values, env_file=None)
    assert settings.app_env.value == "production" and settings.log_format == "json"
    assert settings.database_name == "threads_scheduler"


def _compose_client() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    classic = shutil.which("docker-compose")
    return [classic] if classic is not None else None


def test_docker_compose_config_validates() -> None:
    client = _compose_client()
    if client is None:
        pytest.skip(
            "no `docker compose` plugin or `docker-compose` here; the schema test covers it"
        )
    result = subprocess.run(
        [*client, "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **REQUIRED},
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    missing = subprocess.run(
        [*client, "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in REQUIRED},
        check=False,
        timeout=60,
    )
    assert missing.returncode != 0 and "SECRET_KEY" in missing.stdout + missing.stderr


def _stages(text: str) -> list[list[str]]:
    stages: list[list[str]] = []
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_the_image_is_multi_stage_slim_non_root_with_entrypoint_and_healthcheck() -> None:
    stages = _stages(DOCKERFILE.read_text())
    assert len(stages) >= 2
    runtime = stages[-1]
    assert re.search(r"FROM python:\S*slim", runtime[0])
    assert any(line.startswith("COPY --from=build /opt/venv") for line in runtime)
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert users and not users[-1].startswith(("0", "root"))
    assert 'ENTRYPOINT ["threads-scheduler"]' in runtime
    assert 'CMD ["serve"]' in runtime
    assert any(line.startswith("HEALTHCHECK") and "/healthz" in line for line in runtime)
    # Everything the build stage copies exists, and is not excluded by .dockerignore.
    ignored = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()
    }
    for line in stages[0]:
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
                assert source not in ignored, source
    assert {".venv", ".git", "tests", ".env"} <= ignored


def test_the_deployment_environment_is_documented() -> None:
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    readme = (ROOT / "README.md").read_text()
    for service in _compose()["services"].values():
        for name in service.get("environment") or {}:
            assert f"`{name}`" in deploy or name in deploy, name
            assert name in readme, name
    for item in ("ENCRYPTION_KEYS", "SECRET_KEY", "replica set", "mongodump", "Meta app"):
        assert item in readme, item
    example = (ROOT / "docs" / "env.example").read_text()
    assert re.search(r"^SECRET_KEY=$", example, re.M)
    assert re.search(r"^ENCRYPTION_KEYS=$", example, re.M)
