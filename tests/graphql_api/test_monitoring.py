"""Monitoring and schedule previews over HTTP."""

from __future__ import annotations

from datetime import timedelta

from scheduler.ops.monitoring import RECENT_JOBS_KEY, JobRecord
from scheduler.platform.documents import Account
from scheduler.services import Services
from tests.conftest import T0
from tests.graphql_api.conftest import Api, Caller, make_post

PREVIEW = """query($schedule: ScheduleInput!, $timezone: String, $count: Int!) {
  previewOccurrences(schedule: $schedule, timezone: $timezone, count: $count) {
    __typename
    ... on ValidationErrors { errors { field messages } }
    ... on SchedulePreview { description timezone occurrences { at local } schedule { pattern } }
  } }"""


def job(key: str, owner: str | None, queue: str = "post-publishing") -> JobRecord:
    return JobRecord(
        queue=queue,
        key=key,
        function="publish_post",
        status="complete",
        started_at=T0.timestamp(),
        duration_ms=12.5,
        error=None,
        post_id="6650aa000000000000000001" if owner else None,
        owner_id=owner,
        result=None,
    )


async def test_scheduler_state_follows_scheduling(
    api: Api, account: Account, owner: Caller, services: Services
):
    query = "{ schedulerState { nextExecutionAt activeJobId lastCheck mode } }"
    idle = (await api(query))["schedulerState"]
    assert idle["nextExecutionAt"] is None and idle["mode"] == services.scheduler.mode
    schedule = {"pattern": "ONCE", "start_date": "2030-01-07", "times": ["12:00"]}
    await make_post(services, owner, account, schedule=schedule)
    armed = (await api(query))["schedulerState"]
    assert armed["nextExecutionAt"] is not None and armed["activeJobId"].startswith(
        "scheduler-check"
    )


async def test_queue_stats_and_health_without_workers(api: Api):
    data = await api(
        "{ queueStats { name queued workers } queueHealth { name healthy workers problems } }"
    )
    names = {"scheduler-meta", "post-publishing"}
    assert {q["name"] for q in data["queueStats"]} == names
    assert all(q["workers"] == 0 for q in data["queueStats"])
    assert all(not q["healthy"] for q in data["queueHealth"])
    assert "no worker is running" in data["queueHealth"][0]["problems"][0]


async def test_recent_jobs_shows_own_and_system_jobs_only(
    api: Api, owner: Caller, stranger: Caller, services: Services
):
    for record in [
        job("mine", str(owner.actor.owner_id)),
        job("theirs", str(stranger.actor.owner_id)),
        job("check", None, queue="scheduler-meta"),
    ]:
        await services.redis.lpush(RECENT_JOBS_KEY, record.to_json())  # as the worker hook does
    query = """query($queue: String) {
        recentJobs(limit: 10, queue: $queue) { key queue startedAt durationMs postId } }"""
    jobs = (await api(query))["recentJobs"]
    assert [j["key"] for j in jobs] == ["check", "mine"]
    assert jobs[1] == {
        "key": "mine",
        "queue": "post-publishing",
        "startedAt": T0.isoformat(),
        "durationMs": 12.5,
        "postId": "6650aa000000000000000001",
    }
    only = (await api(query, {"queue": "scheduler-meta"}))["recentJobs"]
    assert [j["key"] for j in only] == ["check"]
    errors = await api.errors("{ recentJobs(limit: 0) { key } }")
    assert "from 1 to 500" in errors[0]["message"]


async def test_preview_occurrences(api: Api):
    weekly = {
        "pattern": "WEEKLY",
        "timezone": "Europe/Berlin",
        "startDate": "2030-01-07",
        "times": ["09:00"],
        "daysOfWeek": [0, 2],
    }
    result = (await api(PREVIEW, {"schedule": weekly, "count": 3}))["previewOccurrences"]
    assert result["__typename"] == "SchedulePreview"
    assert result["description"].startswith("Every Monday and Wednesday at 09:00")
    assert [o["at"] for o in result["occurrences"]] == [
        "2030-01-09T08:00:00+00:00",
        "2030-01-14T08:00:00+00:00",
        "2030-01-16T08:00:00+00:00",
    ]
    assert result["occurrences"][0]["local"] == "2030-01-09T09:00:00+01:00"

    shown = await api(PREVIEW, {"schedule": weekly, "count": 1, "timezone": "America/New_York"})
    assert shown["previewOccurrences"]["occurrences"][0]["local"] == "2030-01-09T03:00:00-05:00"

    past = {
        "pattern": "ONCE",
        "startDate": (T0 - timedelta(days=1)).date().isoformat(),
        "times": ["09:00"],
    }
    refused = (await api(PREVIEW, {"schedule": past, "count": 3}))["previewOccurrences"]
    assert refused["__typename"] == "ValidationErrors"
    assert refused["errors"][0]["field"] == "schedule.startDate"
    zone = await api(PREVIEW, {"schedule": weekly, "count": 3, "timezone": "Mars/Base"})
    assert zone["previewOccurrences"]["errors"][0]["field"] == "timezone"
    many = await api(PREVIEW, {"schedule": weekly, "count": 1000})
    assert many["previewOccurrences"]["errors"][0]["field"] == "count"
