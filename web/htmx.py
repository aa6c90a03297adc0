"""HTMX: the request and response conventions of the dashboard, in one place.

A page URL answers a full HTML document to a normal request and only its `main` block (plus the
title, navigation and flash messages as out-of-band swaps) to an HTMX request, so the same route
serves the first load and in-app navigation. History restores (`HX-History-Restore-Request`) get
the full document, as htmx swaps them into the whole body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

FULL_LAYOUT = "layout.html"
PARTIAL_LAYOUT = "layout_partial.html"
MAIN_TARGET = "#main"


def is_htmx(request: Request) -> bool:
    """True for requests htmx made, except history restores (they need the whole page)."""
    headers = request.headers
    return headers.get("HX-Request") == "true" and headers.get("HX-History-Restore-Request") != (
        "true"
    )


def hx_target(request: Request) -> str | None:
    """The id of the element htmx will swap the response into, if any."""
    return request.headers.get("HX-Target") or None


def page_context(request: Request) -> dict[str, Any]:
    """What every page template needs to pick its layout."""
    return {"layout": PARTIAL_LAYOUT if is_htmx(request) else FULL_LAYOUT}


def render_page(
    templates: Jinja2Templates,
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """A page (`{% extends layout %}`), full or partial depending on the request."""
    response = templates.TemplateResponse(
        request, name, {**page_context(request), **context}, status_code=status_code
    )
    # The same URL answers two shapes: caches must keep them apart.
    response.headers["Vary"] = "HX-Request"
    return response


def render_fragment(
    templates: Jinja2Templates,
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """A fragment template (`_*.html`) on its own."""
    return templates.TemplateResponse(request, name, dict(context), status_code=status_code)


def hx_redirect(url: str, *, status_code: int = 200) -> Response:
    """Make htmx load `url` as a whole new page."""
    return Response(status_code=status_code, headers={"HX-Redirect": url})


def hx_location(url: str, target: str = MAIN_TARGET) -> Response:
    """Make htmx fetch `url` into `target` and push it to the history (no full reload)."""
    return Response(headers={"HX-Location": json.dumps({"path": url, "target": target})})


def redirect(request: Request, url: str) -> Response:
    """After a successful form: HX-Location for htmx, 303 See Other otherwise."""
    if is_htmx(request):
        return hx_location(url)
    return RedirectResponse(url, status_code=303)


def hx_trigger(response: Response, event: str, detail: Any = None) -> Response:
    """Ask htmx to fire `event` on the requesting element once the response arrives."""
    existing = response.headers.get("HX-Trigger")
    events: dict[str, Any] = json.loads(existing) if existing else {}
    events[event] = detail
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def hx_retarget(response: Response, target: str, swap: str = "innerHTML") -> Response:
    """Swap the response somewhere else than the requesting element asked for."""
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = swap
    return response
