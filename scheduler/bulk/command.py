"""The CLI side of bulk work: `threads-scheduler import`, `export` and `import-template`.

Each command opens the services like the web app does, acts as one owner (`--owner EMAIL`, or the
only owner there is) and prints what happened; a progress indicator goes to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from scheduler.accounts.actors import Actor
from scheduler.accounts.auth import actor_for
from scheduler.bulk.importer import ImportOptions, ImportProgress, ImportReport, RowIssue
from scheduler.platform.documents import PostStatus, Role, User
from scheduler.platform.errors import NotFoundError, SchedulerError
from scheduler.platform.settings import Settings
from scheduler.posts.service import PostFilter
from scheduler.services import Services, build_services

LISTED = 50  # issues printed per kind; the rest are counted


async def owner_actor(email: str | None) -> Actor:
    """The actor of the user with `email`, or of the only owner when no email is given."""
    if email:
        user = await User.find_one({"email": email.strip().lower()})
        if user is None:
            raise NotFoundError("User", email)
        return actor_for(user)
    owners = await User.find({"role": str(Role.OWNER)}).limit(2).to_list()
    if len(owners) != 1:
        raise SchedulerError(
            "Choose the owner to act as with --owner EMAIL"
            + (" (there are several)." if owners else "; no user exists yet (create-user).")
        )
    return actor_for(owners[0])


class ProgressBar:
    """Draws `phase done/total` on stderr: in place on a terminal, one line per step otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()

    def __call__(self, progress: ImportProgress) -> None:
        if progress.phase in ("reading", "done"):
            return
        width = 30
        filled = width * progress.done // progress.total if progress.total else width
        bar = "#" * filled + "." * (width - filled)
        line = f"{progress.phase:>10} [{bar}] {progress.done}/{progress.total} rows"
        if self._tty:
            end = "\n" if progress.done == progress.total else ""
            self._stream.write("\r" + line + end)
        else:
            self._stream.write(line + "\n")
        self._stream.flush()


async def import_command(
    settings: Settings,
    path: Path,
    *,
    owner: str | None,
    options: ImportOptions,
    dry_run: bool,
    out: TextIO | None = None,
) -> int:
    """`threads-scheduler import FILE`: 0 when every row is fine, 1 when some row has an error."""
    out = out or sys.stdout
    async with build_services(settings) as services:
        actor = await owner_actor(owner)
        bulk = services.bulk
        run = bulk.dry_run if dry_run else bulk.import_posts
        report = await run(actor, path, options, ProgressBar())
    print_report(report, out)
    return 1 if report.errors else 0


def print_report(report: ImportReport, out: TextIO) -> None:
    """The report for people: the summary, then errors, warnings, skipped rows and notices."""
    where = f" (sheet {report.sheet!r})" if report.sheet else ""
    layout = "the seed's layout" if report.layout == "seed" else "the import format"
    out.write(f"{report.kind.upper()} file{where} in {layout}: {report.summary()}\n")
    _issues(out, "Errors", report.errors)
    _issues(out, "Warnings", report.warnings)
    _issues(out, "Skipped", report.skipped)
    for notice in report.notices:
        out.write(f"Note: {notice}\n")
    if report.dry_run:
        out.write("Dry run: nothing was written.\n")


def _issues(out: TextIO, title: str, issues: Sequence[RowIssue]) -> None:
    if not issues:
        return
    out.write(f"{title}:\n")
    for issue in issues[:LISTED]:
        out.write(f"  {issue}\n")
    if len(issues) > LISTED:
        out.write(f"  ... and {len(issues) - LISTED} more.\n")


async def export_command(
    settings: Settings,
    *,
    owner: str | None,
    account: str | None,
    statuses: Sequence[str],
) -> str:
    """`threads-scheduler export`: the actor's posts as CSV text."""
    async with build_services(settings) as services:
        actor = await owner_actor(owner)
        filters = PostFilter(
            status=[PostStatus(s.upper()) for s in statuses],
            account_id=await _account_id(services, actor, account),
        )
        return await services.bulk.export_csv(actor, filters)


async def _account_id(services: Services, actor: Actor, account: str | None) -> str | None:
    if not account:
        return None
    for found in await services.accounts.all(actor):
        if account.removeprefix("@").lower() in (found.username.lower(), str(found.id)):
            return str(found.id)
    raise NotFoundError("Account", account)


def template_command(output: Path, *, xlsx: bool) -> str:
    """`threads-scheduler import-template`: writes the template, returns the line to print."""
    from scheduler.bulk.template import template_csv, template_xlsx
    from scheduler.platform.clock import SystemClock

    today = SystemClock().now().date()
    output.write_bytes(template_xlsx(today) if xlsx else template_csv(today))
    return f"Wrote the import template to {output}."
