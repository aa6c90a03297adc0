"""Settings: one typed object, built at the process edges (CLI, app, worker) and passed down.

The seed's variable names work unchanged (DESIGN §10). `load_settings()` reads a mapping (the
process environment and `.env` by default), so tests pass a plain dict and never touch `os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from scheduler.platform.errors import ConfigurationError

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_DATABASE = "threads_scheduler"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


def _expect(form: str) -> Any:
    return {"expected": form}


class Settings(BaseSettings):
    """Every setting of the system; the environment variable is the field name in upper case."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    app_env: Environment = Field(
        Environment.DEVELOPMENT,
        json_schema_extra=_expect("one of development, production, test"),
    )
    # Storage
    mongodb_uri: str | None = Field(
        None,
        json_schema_extra=_expect("a MongoDB URL such as mongodb://host:27017/threads_scheduler"),
    )
    mongodb_database: str | None = Field(None, json_schema_extra=_expect("a database name"))
    redis_url: str | None = Field(
        None, json_schema_extra=_expect("a Redis URL such as redis://127.0.0.1:6379/0")
    )
    redis_host: str | None = Field(None, json_schema_extra=_expect("a host name"))
    redis_port: int = Field(6379, ge=1, le=65535, json_schema_extra=_expect("a port 1-65535"))
    redis_password: SecretStr | None = None
    # Threads (bootstrap account from the seed, and the Meta app for OAuth)
    threads_user_id: str | None = None
    threads_access_token: SecretStr | None = None
    threads_refresh_token: SecretStr | None = None
    threads_api_base_url: str = Field(
        "https://graph.threads.net/v1.0",
        json_schema_extra=_expect("an http(s) URL such as https://graph.threads.net/v1.0"),
    )
    threads_app_id: str | None = None
    threads_app_secret: SecretStr | None = None
    threads_redirect_uri: str | None = None
    # Workers and scheduling
    worker_concurrency: int = Field(5, gt=0, json_schema_extra=_expect("a positive integer"))
    job_timeout: int = Field(
        30000, gt=0, json_schema_extra=_expect("a positive number of milliseconds")
    )
    publish_attempts: int = Field(3, gt=0, json_schema_extra=_expect("a positive integer"))
    # How long past an occurrence's instant (plus JOB_TIMEOUT) its job may stay silent before
    # another worker presumes it dead and takes over.
    lease_grace_seconds: int = Field(
        45, gt=0, json_schema_extra=_expect("a positive number of seconds")
    )
    use_event_driven_scheduler: bool = Field(True, json_schema_extra=_expect("true or false"))
    scheduler_batch_window_ms: int = Field(
        5000, ge=0, json_schema_extra=_expect("a non-negative number of milliseconds")
    )
    poll_interval_seconds: int = Field(
        60, gt=0, json_schema_extra=_expect("a positive number of seconds")
    )
    # Bulk work (import, duplicate detection)
    duplicate_policy: Literal["off", "warn", "block"] = Field(
        "warn", json_schema_extra=_expect("off, warn or block")
    )
    duplicate_window_hours: int = Field(
        24, ge=0, json_schema_extra=_expect("a non-negative number of hours")
    )
    import_max_bytes: int = Field(
        10_000_000, gt=0, json_schema_extra=_expect("a positive number of bytes")
    )
    import_max_rows: int = Field(10_000, gt=0, json_schema_extra=_expect("a positive integer"))
    # Web
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535, json_schema_extra=_expect("a port 0-65535"))
    secret_key: SecretStr | None = None
    encryption_keys: SecretStr | None = None
    log_level: str = Field("INFO", json_schema_extra=_expect("DEBUG, INFO, WARNING or ERROR"))
    # Operations: logs, metrics, insights, webhooks
    log_format: Literal["text", "json"] = Field("text", json_schema_extra=_expect("text or json"))
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535, json_schema_extra=_expect("a port 1-65535")
    )
    insights_calls_per_hour: int = Field(
        60, ge=0, json_schema_extra=_expect("a non-negative integer (0 turns insights off)")
    )
    webhook_retry_seconds: float = Field(
        30.0, gt=0, json_schema_extra=_expect("a positive number of seconds")
    )
    webhook_attempts: int = Field(6, gt=0, json_schema_extra=_expect("a positive integer"))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only what `load_settings` passes in: the mapping is the single source of truth.
        return (init_settings,)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("not a log level")
        return value

    @field_validator("duplicate_policy", mode="before")
    @classmethod
    def _duplicate_policy(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("mongodb_uri")
    @classmethod
    def _mongo_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("not a MongoDB URL")
        return value or None

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("not a Redis URL")
        return value or None

    @field_validator("threads_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("not an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.app_env is Environment.PRODUCTION:
            missing = [
                name.upper()
                for name in ("secret_key", "encryption_keys", "mongodb_uri")
                if getattr(self, name) is None
            ]
            if missing:
                raise ConfigurationError(
                    f"{', '.join(missing)} must be set when APP_ENV=production; see the "
                    "configuration table in README.md.",
                    variables=missing,
                )
        return self

    @property
    def effective_redis_url(self) -> str:
        """REDIS_URL, else one built from REDIS_HOST/REDIS_PORT/REDIS_PASSWORD, else localhost."""
        if self.redis_url:
            return self.redis_url
        if self.redis_host:
            auth = ""
            if self.redis_password is not None:
                auth = f":{quote(self.redis_password.get_secret_value(), safe='')}@"
            return f"redis://{auth}{self.redis_host}:{self.redis_port}/0"
        return DEFAULT_REDIS_URL

    @property
    def database_name(self) -> str:
        """MONGODB_DATABASE, else the path of MONGODB_URI, else `threads_scheduler`."""
        if self.mongodb_database:
            return self.mongodb_database
        if self.mongodb_uri:
            path = urlsplit(self.mongodb_uri).path.strip("/")
            if path:
                return path
        return DEFAULT_DATABASE

    @property
    def job_timeout_seconds(self) -> float:
        return self.job_timeout / 1000

    @property
    def batch_window_seconds(self) -> float:
        return self.scheduler_batch_window_ms / 1000


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: str | Path | None = ".env",
    **overrides: Any,
) -> Settings:
    """Build `Settings` from a mapping of environment variables (default: `.env` + `os.environ`).

    Args:
        environ: the variables to read; when given, neither `os.environ` nor `.env` is read.
        env_file: a dotenv file read below `os.environ` when `environ` is None.
        overrides: field values that win over the mapping (used by tests and the `dev` command).

    Raises:
        ConfigurationError: naming each bad variable and the form it expects.
    """
    if environ is None:
        merged: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        merged.update(os.environ)
        environ = merged
    fields = Settings.model_fields
    values: dict[str, Any] = {}
    for key, value in environ.items():
        name = key.lower()
        if name in fields and value != "":
            values[name] = value
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise _configuration_error(exc, values) from None


def _configuration_error(exc: ValidationError, values: Mapping[str, Any]) -> ConfigurationError:
    lines: list[str] = []
    variables: list[str] = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        field = Settings.model_fields.get(name)
        extra = field.json_schema_extra if field is not None else None
        expected = extra.get("expected") if isinstance(extra, dict) else None
        shown = values.get(name, error.get("input"))
        if isinstance(shown, SecretStr):
            shown = "**********"
        variable = name.upper()
        variables.append(variable)
        lines.append(f"{variable} must be {expected or 'valid'}, got {shown!r}")
    return ConfigurationError("; ".join(lines), variables=variables)
