"""The Threads Graph API: client, models, error mapping, pre-flight rules and container plans."""

from __future__ import annotations

from scheduler.threads.client import DEFAULT_BASE_URL, DEFAULT_SCOPES, ThreadsClient
from scheduler.threads.containers import ContainerPlan, plan_containers
from scheduler.threads.models import (
    ContainerRequest,
    ContainerState,
    ContainerStatus,
    Insights,
    MediaType,
    Page,
    Profile,
    PublishingLimit,
    PublishResolution,
    ThreadsPost,
    TokenGrant,
)
from scheduler.threads.preflight import ensure_valid, validate_chain, validate_content
from scheduler.threads.text import count_characters, count_links, counting_rule

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_SCOPES",
    "ContainerPlan",
    "ContainerRequest",
    "ContainerState",
    "ContainerStatus",
    "Insights",
    "MediaType",
    "Page",
    "Profile",
    "PublishResolution",
    "PublishingLimit",
    "ThreadsClient",
    "ThreadsPost",
    "TokenGrant",
    "count_characters",
    "count_links",
    "counting_rule",
    "ensure_valid",
    "plan_containers",
    "validate_chain",
    "validate_content",
]
