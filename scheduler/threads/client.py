"""ThreadsClient: an async client of the Threads Graph API over an injected `httpx.AsyncClient`.

One client serves every account: the access token is an argument of each call. Failures raise the
families of `scheduler.platform.errors.ThreadsApiError`, classified in
`scheduler.threads.graph_errors`.

Publishing exactly once. `publish()` is the one call that must never be repeated blindly: when it
fails after the request may have reached Meta it raises `ThreadsOutcomeUnknown`. The engine then
(after persisting "publish sent, outcome unknown" *before* the call) resolves it with
`resolve_publish(container_id, sent_at=…, text=…)`, which asks for the container's status:

* `PUBLISHED` → it happened; `resolution.media_id` is looked up among the account's posts (or
  replies) created since `sent_at`, matched by text, and may be None if Threads does not list it
  yet.
* `FINISHED` → it did not happen; publishing the same container again is safe.
* `IN_PROGRESS` → it did not happen; wait for FINISHED (`wait_until_ready`) and publish.
* `ERROR` / `EXPIRED` → it did not happen and cannot: create a new container.
* status unavailable (Threads rejects the lookup) → the recent posts are searched by text;
  `published` is None when nothing matches, meaning "ask again later".

Wait a few seconds after the failed call before resolving, so a publish Meta is still processing
has landed. Container creation (without `auto_publish_text`) may simply be retried: an unused
container expires by itself after 24 hours.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

import httpx

from scheduler.ops.metrics import Observer
from scheduler.platform.clock import Clock, SystemClock
from scheduler.platform.errors import (
    ConfigurationError,
    ThreadsContainerNotReady,
    ThreadsRejectedError,
)
from scheduler.threads.graph_errors import (
    error_from_response,
    error_from_transport,
    error_from_unreadable,
    media_failed,
)
from scheduler.threads.models import (
    ContainerRequest,
    ContainerState,
    ContainerStatus,
    Insights,
    Page,
    Profile,
    PublishingLimit,
    PublishResolution,
    ThreadsPost,
    TokenGrant,
)

T = TypeVar("T")

DEFAULT_BASE_URL = "https://graph.threads.net/v1.0"
DEFAULT_AUTHORIZE_URL = "https://threads.net/oauth/authorize"
DEFAULT_SCOPES = (
    "threads_basic",
    "threads_content_publish",
    "threads_manage_replies",
    "threads_read_replies",
    "threads_manage_insights",
    "threads_delete",
)
POST_FIELDS = (
    "id,media_product_type,media_type,media_url,permalink,owner,username,text,timestamp,shortcode,"
    "thumbnail_url,children,is_quote_post,quoted_post,alt_text,link_attachment_url,topic_tag,"
    "has_replies,reply_audience"
)
REPLY_FIELDS = POST_FIELDS + ",is_reply,replied_to,root_post"
PROFILE_FIELDS = "id,username,name,threads_profile_picture_url,threads_biography,is_verified"
LIMIT_FIELDS = "quota_usage,config,reply_quota_usage,reply_config,delete_quota_usage,delete_config"
POST_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")
ACCOUNT_METRICS = ("views", "likes", "replies", "reposts", "quotes", "followers_count")

_VERSION_SUFFIX = re.compile(r"/v\d+\.\d+/?$")
_THREADS_HOSTS = ("graph.threads.net", "graph.threads.com")


class ThreadsClient:
    """Async Threads Graph API client.

    Args:
        http: the shared `httpx.AsyncClient` (its transport and timeouts are the caller's choice).
        base_url: versioned Graph base, e.g. the simulator's `http://127.0.0.1:PORT/v1.0`.
        app_id: Threads app id (OAuth calls and the authorize URL).
        app_secret: Threads app secret (OAuth calls).
        bearer: send tokens as `Authorization: Bearer` instead of the `access_token` parameter.
        clock: time source for `Retry-After`, container polling and outcome resolution.
        authorize_url: the OAuth authorize page; defaults to threads.net for Meta's hosts and to
            `{base}/oauth/authorize` otherwise (the simulator serves one).
        observer: told about every request (the process's `Metrics`); records nothing if None.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str = DEFAULT_BASE_URL,
        app_id: str | None = None,
        app_secret: str | None = None,
        bearer: bool = False,
        clock: Clock | None = None,
        authorize_url: str | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")
        # OAuth endpoints have no version segment: drop a trailing /vX.Y from the base.
        self.oauth_base = _VERSION_SUFFIX.sub("", self.base_url)
        self.app_id = app_id
        self.app_secret = app_secret
        self.bearer = bearer
        self.clock: Clock = clock or SystemClock()
        self.observer = observer or Observer()  # metrics: latency and errors of every call
        host = urlsplit(self.base_url).hostname or ""
        self.authorize_base = authorize_url or (
            DEFAULT_AUTHORIZE_URL
            if host in _THREADS_HOSTS
            else f"{self.oauth_base}/oauth/authorize"
        )

    # --- publishing -------------------------------------------------------------------------

    async def create_container(
        self, request: ContainerRequest, *, access_token: str, user_id: str = "me"
    ) -> str:
        """Create a media container; returns its id (the media id if `auto_publish_text`)."""
        body = await self._call(
            "POST",
            f"{user_id}/threads",
            operation="create container",
            repeatable=not request.auto_publish_text,
            access_token=access_token,
            params=request.to_params(),
        )
        return self._id(body, "create container", repeatable=not request.auto_publish_text)

    async def get_container_status(
        self, container_id: str, *, access_token: str
    ) -> ContainerStatus:
        """Read a container's status (IN_PROGRESS, FINISHED, PUBLISHED, ERROR, EXPIRED)."""
        body = await self._call(
            "GET",
            container_id,
            operation="get container status",
            access_token=access_token,
            params={"fields": "id,status,error_message"},
        )
        return self._parse(body, ContainerStatus.from_json, "get container status")

    async def wait_until_ready(
        self,
        container_id: str,
        *,
        access_token: str,
        poll_interval: float = 1.0,
        give_up_after: float = 300.0,
    ) -> ContainerStatus:
        """Poll until the container is FINISHED (or already PUBLISHED).

        Raises:
            ThreadsMediaFailed: the container ended in ERROR (the message explains what to fix).
            ThreadsRejectedError: the container EXPIRED.
            ThreadsContainerNotReady: still IN_PROGRESS after `give_up_after` seconds.
        """
        deadline = self.clock.now() + timedelta(seconds=give_up_after)
        while True:
            status = await self.get_container_status(container_id, access_token=access_token)
            if status.status in (ContainerState.FINISHED, ContainerState.PUBLISHED):
                return status
            if status.status in (ContainerState.ERROR, ContainerState.EXPIRED):
                raise media_failed(status)
            if self.clock.now() >= deadline:
                raise ThreadsContainerNotReady(
                    f"Container {container_id} is still IN_PROGRESS after {give_up_after:g} s",
                    explanation="Threads is slow to process this media; check again later.",
                )
            await self.clock.sleep(poll_interval)

    async def publish(self, container_id: str, *, access_token: str, user_id: str = "me") -> str:
        """Publish a FINISHED container; returns the published media id.

        Raises:
            ThreadsOutcomeUnknown: the call may have published; resolve with `resolve_publish`.
            ThreadsContainerNotReady: not processed yet (code 24/4279009); wait and publish again.
        """
        body = await self._call(
            "POST",
            f"{user_id}/threads_publish",
            operation="publish",
            repeatable=False,
            access_token=access_token,
            params={"creation_id": container_id},
        )
        return self._id(body, "publish", repeatable=False)

    async def resolve_publish(
        self,
        container_id: str,
        *,
        access_token: str,
        sent_at: datetime,
        text: str | None = None,
        is_reply: bool = False,
        user_id: str = "me",
        known: Collection[str] = (),
    ) -> PublishResolution:
        """Find out whether a publish with an unknown outcome happened (see the module docstring).

        Args:
            container_id: the container that was being published.
            access_token: the account's token.
            sent_at: when the publish call was sent (posts older than this are ignored).
            text: the post's text, to recognise it among recent posts.
            is_reply: search the account's replies instead of its top-level posts.
            user_id: the account ("me" for the token owner).
            known: media ids already accounted for (earlier occurrences of a recurring post have
                the same text): never taken for this publish.
        """
        try:
            status = await self.get_container_status(container_id, access_token=access_token)
        except ThreadsRejectedError:
            status = None
        if status is not None and status.status is not ContainerState.PUBLISHED:
            return PublishResolution(published=False, container=status)
        media_id = await self._find_recent(
            access_token=access_token,
            user_id=user_id,
            since=sent_at,
            text=text,
            is_reply=is_reply,
            known=known,
        )
        if status is None:
            return PublishResolution(published=True if media_id else None, media_id=media_id)
        return PublishResolution(published=True, container=status, media_id=media_id)

    async def get_publishing_limit(
        self, *, access_token: str, user_id: str = "me"
    ) -> PublishingLimit:
        """Current usage of the post, reply and delete quotas over the rolling 24 hours."""
        body = await self._call(
            "GET",
            f"{user_id}/threads_publishing_limit",
            operation="get publishing limit",
            access_token=access_token,
            params={"fields": LIMIT_FIELDS},
        )
        return self._parse(body, PublishingLimit.from_json, "get publishing limit")

    # --- reading ----------------------------------------------------------------------------

    async def get_profile(
        self, *, access_token: str, user_id: str = "me", fields: str = PROFILE_FIELDS
    ) -> Profile:
        """The token owner's profile."""
        body = await self._call(
            "GET",
            user_id,
            operation="get profile",
            access_token=access_token,
            params={"fields": fields},
        )
        return self._parse(body, Profile.from_json, "get profile")

    async def list_posts(
        self,
        *,
        access_token: str,
        user_id: str = "me",
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 25,
        after: str | None = None,
        before: str | None = None,
        fields: str = POST_FIELDS,
    ) -> Page[ThreadsPost]:
        """One page of the account's own posts, newest first."""
        return await self._list(
            f"{user_id}/threads",
            "list posts",
            access_token,
            since,
            until,
            limit,
            after,
            before,
            fields,
        )

    async def list_replies(
        self,
        *,
        access_token: str,
        user_id: str = "me",
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 25,
        after: str | None = None,
        before: str | None = None,
        fields: str = REPLY_FIELDS,
    ) -> Page[ThreadsPost]:
        """One page of the account's own replies, newest first."""
        return await self._list(
            f"{user_id}/replies",
            "list replies",
            access_token,
            since,
            until,
            limit,
            after,
            before,
            fields,
        )

    async def iter_posts(
        self,
        *,
        access_token: str,
        user_id: str = "me",
        since: datetime | None = None,
        replies: bool = False,
        page_size: int = 100,
        max_pages: int = 50,
    ) -> AsyncIterator[ThreadsPost]:
        """Every own post (or reply) since `since`, newest first, following the `after` cursors."""
        lister = self.list_replies if replies else self.list_posts
        after: str | None = None
        for _ in range(max_pages):
            page = await lister(
                access_token=access_token,
                user_id=user_id,
                since=since,
                limit=page_size,
                after=after,
            )
            for post in page.data:
                yield post
            if not page.has_next or not page.after:
                return
            after = page.after

    async def get_post(
        self, media_id: str, *, access_token: str, fields: str = REPLY_FIELDS
    ) -> ThreadsPost:
        """One published post or reply."""
        body = await self._call(
            "GET",
            media_id,
            operation="get post",
            access_token=access_token,
            params={"fields": fields},
        )
        return self._parse(body, ThreadsPost.from_json, "get post")

    async def delete_post(self, media_id: str, *, access_token: str) -> str:
        """Delete one of the account's posts; returns the deleted id."""
        body = await self._call(
            "DELETE", media_id, operation="delete post", access_token=access_token
        )
        if not isinstance(body, Mapping) or body.get("success") is not True:
            raise error_from_unreadable(200, operation="delete post", repeatable=True)
        return str(body.get("deleted_id", media_id))

    async def get_post_insights(
        self, media_id: str, *, access_token: str, metrics: Sequence[str] = POST_METRICS
    ) -> Insights:
        """Lifetime metrics of one post (views, likes, replies, reposts, quotes, shares)."""
        body = await self._call(
            "GET",
            f"{media_id}/insights",
            operation="get post insights",
            access_token=access_token,
            params={"metric": ",".join(metrics)},
        )
        return self._parse(body, Insights.from_json, "get post insights")

    async def get_account_insights(
        self,
        *,
        access_token: str,
        user_id: str = "me",
        metrics: Sequence[str] = ACCOUNT_METRICS,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Insights:
        """Account metrics over a period (default: yesterday to today); time series are summed."""
        params = {"metric": ",".join(metrics)}
        if since is not None:
            params["since"] = str(int(since.timestamp()))
        if until is not None:
            params["until"] = str(int(until.timestamp()))
        body = await self._call(
            "GET",
            f"{user_id}/threads_insights",
            operation="get account insights",
            access_token=access_token,
            params=params,
        )
        return self._parse(body, Insights.from_json, "get account insights")

    # --- OAuth ------------------------------------------------------------------------------

    def authorize_url(
        self, *, redirect_uri: str, scopes: Sequence[str] = DEFAULT_SCOPES, state: str | None = None
    ) -> str:
        """The URL to send a user to so they grant the app access (returns with `?code=`)."""
        params = {
            "client_id": self._require("app_id"),
            "redirect_uri": redirect_uri,
            "scope": ",".join(scopes),
            "response_type": "code",
        }
        if state is not None:
            params["state"] = state
        return f"{self.authorize_base}?{urlencode(params)}"

    async def exchange_code(self, code: str, *, redirect_uri: str) -> TokenGrant:
        """Exchange an authorization code for a short-lived (1 hour) token."""
        body = await self._call(
            "POST",
            "oauth/access_token",
            operation="exchange authorization code",
            oauth=True,
            params={
                "client_id": self._require("app_id"),
                "client_secret": self._require("app_secret"),
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code.removesuffix("#_"),  # the redirect appends "#_"
            },
        )
        return self._parse(body, TokenGrant.from_json, "exchange authorization code")

    async def exchange_long_lived(self, short_lived_token: str) -> TokenGrant:
        """Exchange a valid short-lived token for a long-lived (60 day) one."""
        body = await self._call(
            "GET",
            "access_token",
            operation="exchange for a long-lived token",
            oauth=True,
            params={
                "grant_type": "th_exchange_token",
                "client_secret": self._require("app_secret"),
                "access_token": short_lived_token,
            },
        )
        return self._parse(body, TokenGrant.from_json, "exchange for a long-lived token")

    async def refresh_token(self, long_lived_token: str) -> TokenGrant:
        """Refresh a long-lived token that is at least 24 hours old and not expired."""
        body = await self._call(
            "GET",
            "refresh_access_token",
            operation="refresh token",
            oauth=True,
            params={"grant_type": "th_refresh_token", "access_token": long_lived_token},
        )
        return self._parse(body, TokenGrant.from_json, "refresh token")

    # --- plumbing ---------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        repeatable: bool = True,
        access_token: str | None = None,
        params: Mapping[str, str] | None = None,
        oauth: bool = False,
    ) -> Any:
        url = f"{self.oauth_base if oauth else self.base_url}/{path}"
        values = dict(params or {})
        headers: dict[str, str] = {}
        if access_token is not None:
            if self.bearer:
                headers["Authorization"] = f"Bearer {access_token}"
            else:
                values["access_token"] = access_token
        # POST parameters go in the form body, so tokens stay out of URLs (and access logs).
        as_form = method == "POST"
        try:
            response = await self._http.request(
                method,
                url,
                params=None if as_form else values,
                data=values if as_form else None,
                headers=headers,
            )
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            self.observer.threads_call(operation, None, exc)
            raise error_from_transport(exc, operation=operation, repeatable=repeatable) from exc
        self.observer.threads_call(operation, response)
        now = self.clock.now()
        if response.status_code >= 400:
            raise error_from_response(response, operation=operation, repeatable=repeatable, now=now)
        try:
            body = response.json()
        except ValueError:
            raise error_from_unreadable(
                response.status_code, operation=operation, repeatable=repeatable
            ) from None
        if isinstance(body, Mapping) and ("error" in body or "error_type" in body):
            raise error_from_response(response, operation=operation, repeatable=repeatable, now=now)
        return body

    async def _list(
        self,
        path: str,
        operation: str,
        access_token: str,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        after: str | None,
        before: str | None,
        fields: str,
    ) -> Page[ThreadsPost]:
        if not 1 <= limit <= 100:
            raise ValueError(f"limit must be between 1 and 100 (Graph maximum), not {limit}.")
        if after is not None and before is not None:
            raise ValueError("Pass either `after` or `before`, not both: Graph rejects the pair.")
        params = {"fields": fields, "limit": str(limit)}
        if since is not None:
            params["since"] = str(int(since.timestamp()))
        if until is not None:
            params["until"] = str(int(until.timestamp()))
        if after is not None:
            params["after"] = after
        if before is not None:
            params["before"] = before
        body = await self._call(
            "GET", path, operation=operation, access_token=access_token, params=params
        )
        return self._parse(body, lambda b: _page(b, ThreadsPost.from_json), operation)

    async def _find_recent(
        self,
        *,
        access_token: str,
        user_id: str,
        since: datetime,
        text: str | None,
        is_reply: bool,
        known: Collection[str] = (),
    ) -> str | None:
        # Threads stamps the post when it processes the publish; allow for clock skew between us
        # and Meta.
        window_start = since - timedelta(minutes=2)
        matches = [
            post
            async for post in self.iter_posts(
                access_token=access_token,
                user_id=user_id,
                since=window_start,
                replies=is_reply,
                max_pages=5,
            )
            if (text is None or (post.text or "") == text) and post.id not in known
        ]
        # Newest first: the oldest match after `since` is the one this publish created.
        return matches[-1].id if matches else None

    def _id(self, body: Any, operation: str, *, repeatable: bool) -> str:
        if isinstance(body, Mapping) and body.get("id") not in (None, ""):
            return str(body["id"])
        raise error_from_unreadable(200, operation=operation, repeatable=repeatable)

    @staticmethod
    def _parse(body: Any, parse: Callable[[Any], T], operation: str) -> T:
        try:
            return parse(body)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            raise error_from_unreadable(200, operation=operation, repeatable=True) from None

    def _require(self, name: str) -> str:
        value: str | None = getattr(self, name)
        if not value:
            raise ConfigurationError(
                f"ThreadsClient needs `{name}` for OAuth; set THREADS_{name.upper()} to the "
                "Threads app's value (Meta app dashboard → Use cases → Threads API → Settings).",
                variables=[f"THREADS_{name.upper()}"],
            )
        return value


def _page(body: Any, parse: Callable[[Any], T]) -> Page[T]:
    paging = body.get("paging") or {}
    cursors = paging.get("cursors") or {}
    return Page(
        data=tuple(parse(item) for item in body["data"]),
        before=cursors.get("before"),
        after=cursors.get("after"),
        has_next="next" in paging,
        has_previous="previous" in paging,
    )
