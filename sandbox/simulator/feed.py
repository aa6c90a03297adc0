"""A small HTML feed per simulated account (`/__feed/{username}`): what was published, newest first.

Plain server-rendered HTML with inline styles and no external assets (media are shown as links, so
opening the page fetches nothing from elsewhere).
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from sandbox.simulator.objects import Media
from sandbox.simulator.state import SimulatorState

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;color:#111}"
    "article{border-bottom:1px solid #ddd;padding:.75rem 0}"
    "small{color:#666}.text{white-space:pre-wrap;margin:.25rem 0}"
)


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _article(state: SimulatorState, media: Media) -> str:
    spec = media.spec
    meta = [media.timestamp.isoformat(timespec="seconds"), media.media_type, f"id {media.id}"]
    if spec.reply_to_id:
        meta.append(f"reply to {spec.reply_to_id}")
    if spec.topic_tag:
        meta.append(f"#{spec.topic_tag}")
    links = [spec.image_url, spec.video_url, spec.link_attachment]
    links += [
        state.containers[c].spec.image_url or state.containers[c].spec.video_url
        for c in spec.children
    ]
    media_html = "".join(
        f'<li><a href="{escape(url)}" rel="nofollow">{escape(url)}</a></li>' for url in links if url
    )
    return (
        f"<article id='m{media.id}'><small>{escape(' · '.join(meta))}</small><p "
        f"class='text'>{escape(spec.text or '')}</p>"
        + (f"<ul>{media_html}</ul>" if media_html else "")
        + "</article>"
    )


def feed_routes(state: SimulatorState) -> list[Route]:
    """`/__feed` (accounts) and `/__feed/{username}` (one account's posts and replies)."""

    async def index(request: Request) -> Response:
        items = "".join(
            f"<li><a href='/__feed/{escape(a.username)}'>@{escape(a.username)}</a> "
            f"({len(a.posts)} posts, {len(a.replies)} replies)</li>"
            for a in state.accounts.values()
        )
        return _page("Threads simulator", f"<h1>Simulated accounts</h1><ul>{items}</ul>")

    async def feed(request: Request) -> Response:
        username = request.path_params["username"]
        account = state.accounts.get(state.usernames.get(username, ""))
        if account is None:
            return HTMLResponse(
                f"<p>No simulated account @{escape(username)}.</p>", status_code=404
            )
        ids = sorted(account.posts + account.replies, key=int, reverse=True)
        posts = [state.media[i] for i in ids if not state.media[i].deleted]
        body = "".join(_article(state, m) for m in posts) or "<p>Nothing published yet.</p>"
        return _page(f"@{username}", f"<h1>@{escape(username)}</h1>{body}")

    return [Route("/__feed", index), Route("/__feed/{username}", feed)]
