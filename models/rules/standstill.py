"""The standstill (délai de suspension, article R2182-1; LEGAL.md rules 7 and 8): the one place
that says whether a lot has one and from which day its contract may be signed and notified.

The rejection letters, the send checks, the form's status line, the letters' generation and
the demo all ask this module: a formalised procedure has a standstill by law; an adapted
procedure (MAPA) has one only when the buyer chose it, that is when its rejection letters
announced the date from which the contract may be signed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from messagerie.models.formatting import PARIS

ELECTRONIC_DAYS = 11  # rejection letters sent electronically (R2182-1)
PAPER_DAYS = 16  # rejection letters not sent electronically


def standstill_days(*, electronic: bool = True) -> int:
    return ELECTRONIC_DAYS if electronic else PAPER_DAYS


def signing_from(sent: datetime | date, *, electronic: bool = True) -> date:
    """The first day the contract may be signed (and notified) after rejection letters sent
    at `sent`: the send day, in Europe/Paris, + 11 days, or + 16 when they were not sent
    electronically. LEGAL.md counts calendar days: no weekend or holiday shift."""
    day = sent.astimezone(PARIS).date() if isinstance(sent, datetime) else sent
    return day + timedelta(days=standstill_days(electronic=electronic))


def standstill_applies(*, formalised: bool, chosen: bool) -> bool:
    """By law in a formalised procedure; in a MAPA only when the buyer chose one."""
    return formalised or chosen


@dataclass(frozen=True)
class RejectionSent:
    """A rejection letter already sent, as the standstill sees it."""

    sent_at: datetime
    announced: bool = False  # it printed the date from which the contract may be signed
    electronic: bool = True


@dataclass(frozen=True)
class Standstill:
    """The standstill of the lots a notification is about: None `first_day` when there is
    none to wait for (no rejection sent yet, or a MAPA without one)."""

    first_day: date | None = None
    last_rejection: datetime | None = None
    electronic: bool = True
    formalised: bool = True

    def running(self, now: datetime) -> bool:
        """Whether a notification sent `now` (Europe/Paris day) would come too early."""
        return self.first_day is not None and now.astimezone(PARIS).date() < self.first_day

    @property
    def days(self) -> int:
        return standstill_days(electronic=self.electronic)


NO_STANDSTILL = Standstill()


def lot_standstill(rejections: Iterable[RejectionSent], *, formalised: bool) -> Standstill:
    """The standstill the notification of a lot waits for, from that lot's rejection letters:
    every one in a formalised procedure, in a MAPA only those that announced a signature date
    (the buyer's choice of a standstill). The latest letter decides."""
    starting = [
        r for r in rejections if standstill_applies(formalised=formalised, chosen=r.announced)
    ]
    if not starting:
        return Standstill(formalised=formalised)
    last = max(starting, key=lambda r: signing_from(r.sent_at, electronic=r.electronic))
    return Standstill(
        first_day=signing_from(last.sent_at, electronic=last.electronic),
        last_rejection=last.sent_at,
        electronic=last.electronic,
        formalised=formalised,
    )
