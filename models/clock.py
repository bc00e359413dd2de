"""The one clock. Code that needs the time takes `now` as an argument or asks `utc_now()`;
the TUI hands its own clock to the screens (`MessagerieApp.clock`).

Tests move time with time-machine, which patches `datetime.now` underneath: so nothing may
keep the time of day from import time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from messagerie.models.formatting import PARIS


def utc_now() -> datetime:
    """Now, timezone-aware in UTC (as stored)."""
    return datetime.now(UTC)


def paris_today(now: datetime | None = None) -> date:
    """The day it is in Paris at `now` (default: now): the buyers' calendar."""
    return (now or utc_now()).astimezone(PARIS).date()
