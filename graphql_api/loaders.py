"""Loaders: DataLoaders that batch the per-post lookups of a list into one query each.

Listing 50 posts with their account and last occurrence costs one query for the accounts and one
for the occurrences, whatever the page size; the posts that lists of other things point at
(queue slots, insights, notifications, repeated posts) cost one query too. Loaders live for one
operation (see `graphql_api.context.OperationLoaders`): a WebSocket connection lasts hours, and a
cache kept that long would serve stale accounts. They do not cache at all, because a subscription
is one long operation too; batching needs no cache.
"""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from scheduler.accounts.actors import Actor
from scheduler.platform.documents import Account, Occurrence, Post
from scheduler.platform.errors import AuthenticationFailed
from scheduler.services import Services


class Loaders:
    """The batch loaders of one operation, keyed by id strings."""

    def __init__(self, services: Services, actor: Actor | None) -> None:
        self._services = services
        self._actor = actor
        self.account = DataLoader[str, Account | None](load_fn=self._accounts, cache=False)
        self.last_occurrence = DataLoader[str, Occurrence | None](
            load_fn=self._last_occurrences, cache=False
        )
        self.post = DataLoader[str, Post | None](load_fn=self._posts, cache=False)

    def _require_actor(self) -> Actor:
        if self._actor is None:
            raise AuthenticationFailed("Authentication required.")
        return self._actor

    async def _accounts(self, ids: Sequence[str]) -> list[Account | None]:
        found = await self._services.accounts.get_many(self._require_actor(), list(set(ids)))
        by_id = {str(account.id): account for account in found}
        return [by_id.get(i) for i in ids]

    async def _last_occurrences(self, ids: Sequence[str]) -> list[Occurrence | None]:
        found = await self._services.posts.last_occurrences(self._require_actor(), list(set(ids)))
        return [found.get(i) for i in ids]

    async def _posts(self, ids: Sequence[str]) -> list[Post | None]:
        found = await self._services.posts.get_many(self._require_actor(), list(set(ids)))
        by_id = {str(post.id): post for post in found}
        return [by_id.get(i) for i in ids]
