from __future__ import annotations

import pytest

from scheduler.platform.errors import ConfigurationError
from scheduler.platform.settings import DEFAULT_REDIS_URL, load_settings


def test_defaults_follow_the_seed() -> None:
    settings = load_settings({})
    assert settings.worker_concurrency == 5
    assert settings.job_timeout == 30000
    assert settings.use_event_driven_scheduler is True
    assert settings.scheduler_batch_window_ms == 5000
    assert settings.poll_interval_seconds == 60
    assert settings.effective_redis_url == DEFAULT_REDIS_URL


def test_seed_variable_names_are_read() -> None:
    settings = load_settings(
        {
            "MONGODB_URI": "mongodb://db.example:27017/posts",
            "REDIS_HOST": "cache.example",
            "REDIS_PORT": "6380",
            "REDIS_PASSWORD": "s3cr:t",
            "THREADS_USER_ID": "1234",
            "THREADS_ACCESS_TOKEN": "THQV-token",
            "WORKER_CONCURRENCY": "8",
            "JOB_TIMEOUT": "45000",
            "USE_EVENT_DRIVEN_SCHEDULER": "false",
            "SCHEDULER_BATCH_WINDOW_MS": "2000",
        }
    )
    assert settings.database_name == "posts"
    assert settings.effective_redis_url == "redis://:s3cr%3At@cache.example:6380/0"
    assert settings.worker_concurrency == 8
    assert settings.job_timeout_seconds == 45
    assert settings.use_event_driven_scheduler is False
    assert settings.batch_window_seconds == 2
    assert settings.threads_access_token is not None
    assert "THQV-token" not in repr(settings)


def test_redis_url_wins_over_host_and_port() -> None:
    settings = load_settings({"REDIS_URL": "redis://r:1/3", "REDIS_HOST": "ignored"})
    assert settings.effective_redis_url == "redis://r:1/3"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("WORKER_CONCURRENCY", "five", "WORKER_CONCURRENCY must be a positive integer, got 'five'"),
        ("WORKER_CONCURRENCY", "0", "WORKER_CONCURRENCY must be a positive integer, got '0'"),
        ("JOB_TIMEOUT", "-1", "JOB_TIMEOUT must be a positive number of milliseconds, got '-1'"),
        ("USE_EVENT_DRIVEN_SCHEDULER", "maybe", "must be true or false, got 'maybe'"),
        ("REDIS_PORT", "99999", "REDIS_PORT must be a port 1-65535, got '99999'"),
        ("MONGODB_URI", "localhost:27017", "MONGODB_URI must be a MongoDB URL such as"),
        ("REDIS_URL", "http://x", "REDIS_URL must be a Redis URL such as"),
        ("APP_ENV", "staging", "APP_ENV must be one of development, production, test"),
    ],
)
def test_bad_value_names_the_variable_and_the_expected_form(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings({variable: value})
    assert message in str(info.value)
    assert info.value.variables == [variable]


def test_several_bad_values_are_all_reported() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings({"WORKER_CONCURRENCY": "x", "POLL_INTERVAL_SECONDS": "y"})
    assert info.value.variables == ["WORKER_CONCURRENCY", "POLL_INTERVAL_SECONDS"]


def test_production_requires_secrets() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings({"APP_ENV": "production", "MONGODB_URI": "mongodb://db/x"})
    assert info.value.variables == ["SECRET_KEY", "ENCRYPTION_KEYS"]


def test_secret_values_are_not_echoed_in_errors() -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings({"REDIS_PASSWORD": "hunter2-secret", "REDIS_PORT": "no"})
    assert "hunter2-secret" not in str(info.value)
