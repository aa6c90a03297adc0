"""Forms: reading submitted values and re-rendering a form with its errors, input kept.

A route that submits a form to a service first calls `expect_form(request, ...)`; when the service
raises `ValidationFailed` (or `AuthenticationFailed` on the login form), `web.errors` re-renders
that form with the messages next to their fields and the values exactly as they were typed.
Field names are the core's field paths (`text`, `media.0.url`, `schedule.timezone`, ...), so a
message lands next to its field without any mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

FormValues = dict[str, Any]  # name -> str, or list[str] for repeated fields


@dataclass
class FormState:
    """How to show a form again: its page, its fragment (for htmx) and what else it needs."""

    page: str
    values: FormValues
    context: dict[str, Any] = field(default_factory=dict)
    fragment: str | None = None
    target: str | None = None  # CSS selector of the element the fragment replaces


def expect_form(
    request: Request,
    page: str,
    values: FormValues,
    context: Mapping[str, Any] | None = None,
    *,
    fragment: str | None = None,
    target: str | None = None,
) -> FormState:
    """Register the form a failing service call re-renders (see `web.errors`)."""
    state = FormState(
        page=page, values=values, context=dict(context or {}), fragment=fragment, target=target
    )
    request.state.form = state
    return state


def registered_form(request: Request) -> FormState | None:
    state = getattr(request.state, "form", None)
    return state if isinstance(state, FormState) else None


def form_values(form: FormData, repeated: frozenset[str] = frozenset()) -> FormValues:
    """The submitted values (the CSRF token left out); `repeated` names keep every value."""
    values: FormValues = {}
    for key in form.keys():
        if key == "csrf_token":
            continue
        if key in repeated:
            values[key] = [v for v in form.getlist(key) if isinstance(v, str)]
        else:
            raw = form.get(key)
            values[key] = raw if isinstance(raw, str) else ""
    return values


def text(values: Mapping[str, Any], name: str) -> str:
    """A single value, stripped ('' when missing)."""
    raw = values.get(name, "")
    return raw.strip() if isinstance(raw, str) else ""


def optional(values: Mapping[str, Any], name: str) -> str | None:
    """A single value, stripped; None when missing or blank."""
    return text(values, name) or None


def strings(values: Mapping[str, Any], name: str) -> list[str]:
    raw = values.get(name, [])
    if isinstance(raw, str):
        return [raw] if raw else []
    return [v for v in raw if isinstance(v, str) and v]


def errors_for(errors: Mapping[str, list[str]], name: str) -> list[str]:
    """The messages of field `name`, including those about its items (`times.0`, `times.1`)."""
    found: list[str] = []
    for key, messages in errors.items():
        rest = key[len(name) + 1 :] if key.startswith(name + ".") else None
        if key == name or (rest is not None and rest.isdigit()):
            found.extend(messages)
    return found


def shown_field(name: str, shown: frozenset[str] | set[str]) -> bool:
    """True when `errors_for` of a shown field includes the messages keyed `name`."""
    parent, _, last = name.rpartition(".")
    return name in shown or (last.isdigit() and parent in shown)


def clock_time(raw: str) -> time:
    """A time of day typed as H:MM or HH:MM (ValueError when it is not one)."""
    hours, _, minutes = raw.strip().partition(":")
    return time.fromisoformat(f"{hours.zfill(2)}:{minutes}")


def page_number(params: Mapping[str, str]) -> int:
    """The `page` query parameter (1 when missing or unreadable)."""
    raw = params.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() else 1
