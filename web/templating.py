"""Templating: the Jinja2 environment shared by every page, its filters and base context.

Every template gets (from `base_context`): `actor` (None before login), `email`, `csrf_token`,
`csp_nonce`, `now` (from the injected clock) and `take_flashes()`. Times are stored in UTC and
shown in a zone with the `local` filter.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from scheduler.threads.text import counting_rule
from web.composer_form import unshown_messages
from web.forms import errors_for
from web.sessions import csrf_token, session_actor, take_flashes
from web.state import get_services

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

HTMX_CONFIG = {
    # CSP: no inline styles or scripts, no eval.
    "includeIndicatorStyles": False,
    "allowEval": False,
    "allowScriptTags": False,
    # Back/forward reloads the page (always the current state) instead of restoring a snapshot.
    "historyCacheSize": 0,
    "refreshOnHistoryMiss": True,
    # Our 4xx responses are fragments meant to be shown (form errors, "not allowed"...).
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "4..", "swap": True, "error": False},
        {"code": "5..", "swap": True, "error": True},
    ],
}

# Plain words for the kinds of failed attempts the publisher records.
ATTEMPT_KINDS = {
    "transient": "A temporary problem at Threads; it was tried again.",
    "rejected": "Threads refused the post as it is; change it and retry.",
    "auth": "The account's access to Threads expired or was revoked; reconnect the account.",
    "quota": "The account reached Threads' limit of 250 posts a day; it waits for quota.",
    "media": "Threads could not process the media; check that the URL is a public image or video.",
    "unknown": "No answer came back from Threads; the outcome was checked before retrying.",
}


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    """Every IANA zone name, sorted (for the zone pickers)."""
    return sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC")


@lru_cache(maxsize=64)
def zone_options(selected: str | None = None) -> Markup:
    """`<option>`s of every zone (rendered once per selection: ~600 of them on busy pages)."""
    return Markup("").join(
        Markup('<option value="{0}"{1}>{0}</option>').format(
            zone, Markup(" selected") if zone == selected else ""
        )
        for zone in time_zones()
    )


def local(value: datetime | None, zone: str = "UTC", fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """Format an instant on the wall clock of `zone`."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone)).strftime(fmt)


def relative(value: datetime | None, now: datetime) -> str:
    """'in 5 minutes', '2 hours ago'."""
    if value is None:
        return ""
    seconds = (value - now).total_seconds()
    future, span = seconds >= 0, abs(seconds)
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if span >= size:
            count = int(span // size)
            words = f"{count} {unit}{'' if count == 1 else 's'}"
            break
    else:
        return "now" if span < 5 else ("in a few seconds" if future else "a few seconds ago")
    return f"in {words}" if future else f"{words} ago"


def base_context(request: Request) -> dict[str, Any]:
    services = get_services(request)
    return {
        "actor": session_actor(request),
        "email": request.session.get("email"),
        "csrf_token": csrf_token(request),
        "csp_nonce": getattr(request.state, "csp_nonce", ""),
        "now": services.clock.now(),
        "take_flashes": lambda: take_flashes(request),
        "htmx_config": json.dumps(HTMX_CONFIG),
    }


def create_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = local
    env.filters["relative"] = relative
    env.globals["time_zones"] = time_zones
    env.globals["zone_options"] = zone_options
    env.globals["attempt_kinds"] = ATTEMPT_KINDS
    env.globals["unshown_messages"] = unshown_messages
    env.globals["errors_for"] = errors_for
    env.globals["counting_rule"] = json.dumps(counting_rule())
    return Jinja2Templates(env=env, context_processors=[base_context])
