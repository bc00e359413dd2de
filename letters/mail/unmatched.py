"""Mail the listener could not match to a message, kept aside for the operator.

Each such e-mail is written as it came into the data folder's ``unmatched/`` (one .eml file,
its date of modification the time it was kept aside, by the app's clock); the listener
deletes those older than the retention (MESSAGERIE_UNMATCHED_RETENTION_DAYS, 90 days by
default) as it works, and `messagerie status` says how many are kept and since when.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from messagerie.models.atomic_write import writing_beside
from messagerie.models.errors import os_problem
from messagerie.models.formatting import paris_seconds

LOGGER = logging.getLogger("messagerie.inbound")
UNMATCHED_FOLDER = "unmatched"
RETENTION_DAYS = 90
SUFFIX = ".eml"


@dataclass(frozen=True)
class KeptAside:
    """What unmatched/ holds: how many e-mails, and when the oldest was kept aside."""

    count: int
    oldest: datetime | None


def keep_file(folder: Path, name: str, data: bytes, at: datetime) -> Path:
    """Write `data` as `name`.eml in `folder` at once (a reader never sees half a file), dated
    `at`: the retention counts from when it was kept, by the app's clock."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}{SUFFIX}"
    with writing_beside(path) as temporary:
        temporary.write_bytes(data)
        os.utime(temporary, (at.timestamp(), at.timestamp()))  # dated before it is seen
    return path


def _files(folder: Path) -> list[tuple[Path, datetime]]:
    """Each regular file of the folder with its date ([] when there is no folder); a file
    deleted meanwhile, or dated out of range, is skipped."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    for entry in entries:
        try:
            if entry.is_file(follow_symlinks=False):
                stamp = entry.stat(follow_symlinks=False).st_mtime
                found.append((Path(entry.path), datetime.fromtimestamp(stamp, UTC)))
        except (OSError, OverflowError, ValueError):
            continue
    return found


def kept_aside(folder: Path) -> KeptAside:
    """How many e-mails are kept aside, and the oldest one's date."""
    dates = [at for path, at in _files(folder) if path.suffix == SUFFIX]
    return KeptAside(len(dates), min(dates, default=None))


def remove_expired(folder: Path, now: datetime, retention: timedelta) -> int:
    """Delete the e-mails kept aside before `now - retention`; returns how many went. (A
    temporary file is left alone: another thread may be writing it.)"""
    removed = 0
    for path, at in _files(folder):
        if path.suffix == SUFFIX and at < now - retention:
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        LOGGER.info("unmatched: %d e-mail(s) kept aside over %d days deleted from %s",
                    removed, retention.days, folder)  # fmt: skip
    return removed


def status_line(folder: Path, retention_days: int) -> str:
    """The line of `messagerie status` (French)."""
    rule = f"effacés après {retention_days} jours"
    try:
        kept = kept_aside(folder)
    except OSError as error:
        return f"Courriels non rattachés (dossier {folder}) : illisible ({os_problem(error)})"
    if kept.oldest is None:
        return f"Courriels non rattachés (dossier {folder}) : aucun ({rule})"
    return (
        f"Courriels non rattachés (dossier {folder}) : {kept.count} ({rule}), le plus ancien "
        f"mis de côté le {paris_seconds(kept.oldest)}"
    )
