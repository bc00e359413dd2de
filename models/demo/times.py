"""The demo's clock: Europe/Paris wall-clock times as stored (aware UTC), as the messages
write them, and the office hours the generator places history in.

Nothing here reads the clock: every time is drawn from a seeded generator or placed relative
to the demo's day.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from messagerie.models.demo import corpus

DAY = timedelta(days=1)


def paris_at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    """A Paris wall-clock time on `day`, as an aware UTC datetime (as stored)."""
    local = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=corpus.PARIS)
    return local.astimezone(UTC)


def paris_day(moment: datetime) -> date:
    return moment.astimezone(corpus.PARIS).date()


def paris_text(moment: datetime) -> str:
    """A time as the messages write it: "14/02/2026 à 12:00" (Paris)."""
    local = moment.astimezone(corpus.PARIS)
    return f"{local:%d/%m/%Y} à {local:%H:%M}"


def between(rng: random.Random, low: datetime, high: datetime) -> datetime:
    """A whole second in [low, high), or `low` when the interval is empty."""
    seconds = int((high - low).total_seconds())
    return low + timedelta(seconds=rng.randrange(seconds)) if seconds > 0 else low


def later(rng: random.Random, start: datetime, low: float, high: float) -> datetime:
    """`start` plus a delay of `low` to `high` seconds, log-uniform: short delays dominate."""
    seconds = low * (high / low) ** rng.random()
    return start + timedelta(seconds=max(1, round(seconds)))


def workday(rng: random.Random, first: date, last: date) -> date:
    """A day in [first, last], a weekday when a few draws find one."""
    span = max(0, (last - first).days)
    day = first
    for _ in range(8):
        day = first + timedelta(days=rng.randint(0, span))
        if day.weekday() < 5:
            break
    return day


def office_time(rng: random.Random, low: datetime, high: datetime) -> datetime:
    """An office time (weekday, 8:00-18:00 Paris) in [low, high) when there is one."""
    day = workday(rng, paris_day(low), paris_day(high))
    moment = paris_at(day, rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59))
    return moment if low <= moment < high else between(rng, low, high)
