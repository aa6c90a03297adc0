"""Bootstrap: the seed's way to start with one account already connected.

`THREADS_ACCESS_TOKEN` (a long-lived token; `THREADS_USER_ID` optional) connects that account for
the first owner at start-up, idempotently. Threads has no separate refresh token: a long-lived
token refreshes itself, so `THREADS_REFRESH_TOKEN` is used only when no access token is given.
"""

from __future__ import annotations

import logging

from scheduler.accounts.auth import actor_for
from scheduler.platform.documents import Account, AccountStatus, Role, User
from scheduler.platform.errors import SchedulerError
from scheduler.services import Services

log = logging.getLogger(__name__)


async def bootstrap_account(services: Services) -> Account | None:
    """Connect the account named by the environment for the first owner; None when not asked."""
    settings = services.settings
    secret = settings.threads_access_token or settings.threads_refresh_token
    if secret is None:
        return None
    owner = await User.find({"role": str(Role.OWNER)}).sort("created_at").first_or_none()
    if owner is None:
        log.warning(
            "THREADS_ACCESS_TOKEN is set but no user exists yet: open the dashboard's setup page "
            "(or run `threads-scheduler create-user`), then restart to connect the account."
        )
        return None
    if settings.threads_user_id:
        existing = await Account.find_one(
            {"owner_id": owner.owner_id, "threads_user_id": settings.threads_user_id}
        )
        if existing is not None and existing.status is AccountStatus.ACTIVE:
            return existing
    try:
        account = await services.accounts.connect_with_token(
            actor_for(owner), secret.get_secret_value()
        )
    except SchedulerError as exc:
        log.error("could not connect the account from THREADS_ACCESS_TOKEN: %s", exc)  # noqa: TRY400
        return None
    log.info("connected @%s from THREADS_ACCESS_TOKEN for %s", account.username, owner.email)
    return account
