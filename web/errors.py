"""Errors: the one place domain errors become HTTP responses.

Each `SchedulerError` family maps to a status. What the user sees:

- a form registered with `web.forms.expect_form` is shown again with its messages next to the
  fields and every value kept (`ValidationFailed`, and `AuthenticationFailed` on the login form);
  with the error's status for a plain form post, with 200 for htmx (browsers log every 4xx XHR
  as a console error, and this is an answer the page shows, not a failure of the page);
- otherwise the `_error.html` fragment for htmx (swapped into the flash area) or the full
  `error.html` page;
- `LoginRequired` (and a session whose user is gone) sends the browser to /login (htmx:
  `HX-Redirect`); the SSE stream gets a plain 401.

The few places that catch errors are here too, so that this is the only module in `web` with an
`except`: `attempt_each` and `attempt` (bulk actions report each item's failure instead of
stopping at the first; a second step reports its failure without undoing the first), and turning
unreadable input (a bad date, a time, a number, a value pydantic refuses) into field errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from scheduler.platform.errors import (
    AccountNeedsReconnect,
    AuthenticationFailed,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermissionDenied,
    QuotaExhausted,
    SchedulerError,
    ThreadsApiError,
    ValidationFailed,
)
from web.forms import FormState, registered_form
from web.htmx import hx_redirect, hx_retarget, is_htmx, render_fragment, render_page
from web.sessions import LoginRequired, log_out

Handler = Callable[[Request, Exception], Awaitable[Response]]
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# (family, status, title); the first matching family wins, so subclasses come first.
KINDS: list[tuple[type[SchedulerError], int, str]] = [
    (NotFoundError, 404, "Not found"),
    (ValidationFailed, 422, "Please check the form"),
    (PermissionDenied, 403, "Not allowed"),
    (AuthenticationFailed, 401, "Please log in"),
    (AccountNeedsReconnect, 409, "The account must be reconnected"),
    (QuotaExhausted, 429, "Publishing limit reached"),
    (ConflictError, 409, "Not possible right now"),
    (ConfigurationError, 503, "Not configured"),
    (ThreadsApiError, 502, "Threads did not accept the request"),
]


def describe(exc: SchedulerError) -> tuple[int, str]:
    """The HTTP status and the page title for a domain error."""
    return next(
        ((status, title) for kind, status, title in KINDS if isinstance(exc, kind)),
        (400, "Something went wrong"),
    )


async def attempt_each(
    items: Iterable[T], action: Callable[[T], Awaitable[Any]]
) -> tuple[list[T], list[tuple[T, str]]]:
    """Run `action` on every item; returns (done, [(item, why it failed)])."""
    done: list[T] = []
    failed: list[tuple[T, str]] = []
    for item in items:
        try:
            await action(item)
        except SchedulerError as exc:
            failed.append((item, str(exc)))
        else:
            done.append(item)
    return done, failed


async def attempt(action: Callable[[], Awaitable[T]]) -> tuple[T | None, str | None]:
    """Run `action`: (its result, None), or (None, why it failed) on a domain error.

    For the second step of a two-step action (save, then add to the queue), whose failure must
    not lose the first step's result.
    """
    try:
        return await action(), None
    except SchedulerError as exc:
        return None, str(exc)


def parsed(
    parse: Callable[[str], T], raw: str, field: str, message: str, errors: dict[str, list[str]]
) -> T | None:
    """`parse(raw)`, or None with `message` added to `errors[field]` when it cannot be read."""
    try:
        return parse(raw)
    except ValueError:
        errors.setdefault(field, []).append(message)
        return None


def parse_date(raw: str, field: str) -> date:
    """A `YYYY-MM-DD` date typed in a form.

    Raises:
        ValidationFailed: naming `field`, when it is not such a date.
    """
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.single(
            field, "Give a date as YYYY-MM-DD, e.g. 2030-01-31."
        ) from None


def model_or_errors(
    model: type[M], raw: dict[str, Any], path: str, errors: dict[str, list[str]]
) -> M | None:
    """`model` built from form values, or None with pydantic's complaints added to `errors`
    under the fields' paths (prefixed with `path`)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in (path, *error["loc"]) if part != "")
            errors.setdefault(where, []).append(_plain(error))
        return None


def _plain(error: Any) -> str:
    if error.get("type") == "enum":
        return f"Choose one of the offered options ({error['ctx']['expected']})."
    return str(error.get("msg", "This value is not valid."))


def login_url(request: Request) -> str:
    """/login, with the page to come back to (for htmx: the page the browser shows)."""
    current = request.headers.get("HX-Current-URL") if is_htmx(request) else None
    if current:
        parts = urlsplit(current)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    else:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" and not current:
        target = "/"
    return "/login" if target in ("", "/") else f"/login?next={quote(target, safe='/')}"


class ErrorPages:
    """The handlers, over the app's templates."""

    def __init__(self, templates: Jinja2Templates) -> None:
        self.templates = templates

    async def domain_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SchedulerError)
        status, title = describe(exc)
        form = registered_form(request)
        if form is not None and isinstance(exc, ValidationFailed | AuthenticationFailed):
            return self.form_again(request, form, exc, status)
        if isinstance(exc, AuthenticationFailed):  # the session's user is gone
            return await self.login_required(request, LoginRequired())
        return self.error(request, status, title, exc.message)

    def form_again(
        self, request: Request, form: FormState, exc: SchedulerError, status: int
    ) -> Response:
        """The registered form with the error's messages next to their fields, input kept."""
        errors = exc.field_errors if isinstance(exc, ValidationFailed) else {"": [exc.message]}
        context = {**form.context, "values": form.values, "errors": errors}
        if not is_htmx(request):
            return render_page(self.templates, request, form.page, context, status_code=status)
        # To htmx a form with its messages is an ordinary answer to show (browsers log every
        # 4xx XHR as a console error); the fragment says what failed.
        if form.fragment is None:
            return render_page(self.templates, request, form.page, context)
        response = render_fragment(self.templates, request, form.fragment, context)
        if form.target:
            hx_retarget(response, form.target, "outerHTML")
        return response

    async def login_required(self, request: Request, exc: Exception) -> Response:
        log_out(request)
        if request.headers.get("accept") == "text/event-stream" or request.url.path == "/events":
            return PlainTextResponse("Log in to follow live updates.", status_code=401)
        url = login_url(request)
        if is_htmx(request):
            return hx_redirect(url, status_code=401)
        return RedirectResponse(url, status_code=303)

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            message = "There is no page at this address; check the link or go back."
            return self.error(request, 404, "Not found", message)
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    def error(self, request: Request, status: int, title: str, message: str) -> Response:
        """`_error.html` into the flash area for htmx, else the `error.html` page."""
        context = {"title": title, "message": message, "status": status}
        if is_htmx(request):
            response = render_fragment(
                self.templates, request, "_error.html", context, status_code=status
            )
            return hx_retarget(response, "#flash")
        return render_page(self.templates, request, "error.html", context, status_code=status)


def exception_handlers(templates: Jinja2Templates) -> dict[Any, Handler]:
    """What `Starlette(exception_handlers=...)` takes."""
    pages = ErrorPages(templates)
    return {
        SchedulerError: pages.domain_error,
        LoginRequired: pages.login_required,
        HTTPException: pages.http_error,
    }
