"""SimulatorConfig: every tunable of the simulator, and its answers to the open questions.

Defaults follow `docs/threads-api.md`; where Meta documents nothing (the "not documented" points,
listed in §10 there) the defaults are our choices, described in the package docstring and
changeable here (from tests, the admin API or the command line).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def _default_processing() -> dict[str, float]:
    # Meta advises waiting ~30 s; a local simulator should be quick by default but still make
    # clients wait for media (VIDEO goes IN_PROGRESS → FINISHED), so polling code is exercised.
    return {"TEXT": 0.0, "IMAGE": 0.5, "VIDEO": 3.0, "CAROUSEL": 0.0}


def _default_media_failures() -> list[list[str]]:
    # [substring of the media URL, container error_message]: a matching container ends in ERROR.
    return [
        ["fail-download", "FAILED_DOWNLOADING_VIDEO"],
        ["fail-audio", "FAILED_PROCESSING_AUDIO"],
        ["fail-processing", "FAILED_PROCESSING_VIDEO"],
        ["bad-aspect-ratio", "INVALID_ASPEC_RATIO"],
        ["bad-bit-rate", "INVALID_BIT_RATE"],
        ["bad-duration", "INVALID_DURATION"],
        ["bad-frame-rate", "INVALID_FRAME_RATE"],
        ["bad-audio-channels", "INVALID_AUDIO_CHANNELS"],
        ["fail-unknown", "UNKNOWN"],
    ]


@dataclass
class QuotaError:
    """The error returned when a publishing quota is exhausted (not documented by Meta, §4.3).

    Default: HTTP 400, code 9 / subcode 2207042 — Instagram's content-publishing-limit error, the
    closest documented relative — plus a `Retry-After` header with the seconds until quota frees.
    """

    status: int = 400
    code: int = 9
    subcode: int | None = 2207042
    type: str = "OAuthException"
    message: str = "The account reached its publishing limit for the rolling 24-hour window."


@dataclass
class SimulatorConfig:
    """Tunables of the simulator (times in seconds)."""

    processing_seconds: dict[str, float] = field(default_factory=_default_processing)
    media_failures: list[list[str]] = field(default_factory=_default_media_failures)
    container_ttl_seconds: float = 86400.0
    post_quota: int = 250
    reply_quota: int = 1000
    delete_quota: int = 100
    quota_window_seconds: float = 86400.0
    # Not documented whether replies also count toward the 250 posts (§4.4); default: they don't.
    replies_count_toward_posts: bool = False
    quota_error: QuotaError = field(default_factory=QuotaError)
    short_lived_seconds: int = 3600
    long_lived_seconds: int = 5_184_000
    refresh_min_age_seconds: int = 86400
    auth_code_seconds: int = 3600
    # Not documented whether a refresh returns a different token (§6.7); default: a new string, and
    # the old token stays valid until its own expiry.
    refresh_returns_new_token: bool = True
    # Not documented whether the code exchange returns expires_in/token_type (§6.7); default: yes.
    short_lived_includes_expires_in: bool = True
    # Not documented whether JSON bodies and lower-case media_type are accepted (§9.4, §3.1);
    # default: yes.
    accept_json_bodies: bool = True
    media_type_case_insensitive: bool = True
    app_id: str = "1234567890"
    app_secret: str = "sim-app-secret"
    seed: int = 0
    journal_max_requests: int = 200_000

    def to_json(self) -> dict[str, Any]:
        """The configuration as JSON-able data."""
        return dataclasses.asdict(self)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial update (from the admin API), checking names and types.

        Raises:
            ValueError: an unknown name or a value of the wrong type.
        """
        names = {f.name for f in dataclasses.fields(self)}
        for name, value in changes.items():
            if name not in names:
                raise ValueError(
                    f"Unknown simulator setting {name!r}; known settings: "
                    f"{', '.join(sorted(names))}."
                )
            current = getattr(self, name)
            if name == "quota_error":
                if not isinstance(value, dict):
                    raise ValueError(
                        "quota_error must be an object with status, code, subcode, ..."
                    )
                value = dataclasses.replace(self.quota_error, **value)
            elif name == "processing_seconds":
                value = _processing(value, current)
            elif isinstance(current, bool) != isinstance(value, bool) or not isinstance(
                value, type(current) if not isinstance(current, float) else (int, float)
            ):
                raise ValueError(
                    f"Setting {name!r} must be a {type(current).__name__}, not {value!r}."
                )
            setattr(self, name, value)


def _processing(value: Any, current: dict[str, float]) -> dict[str, float]:
    if not isinstance(value, dict) or not all(
        k in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL") and isinstance(v, int | float) and v >= 0
        for k, v in value.items()
    ):
        raise ValueError(
            'processing_seconds maps TEXT/IMAGE/VIDEO/CAROUSEL to seconds ≥ 0, e.g. {"VIDEO": 5}.'
        )
    return {**current, **{k: float(v) for k, v in value.items()}}
