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
    """The rejection letters of a lot, as the standstill sees them: the standstill runs from
    the last one that left, and not before each has left."""

    sent_at: datetime | None  # when the last copy left (its E); None: none has yet
    announced: bool = False  # it printed the date from which the contract may be signed
    electronic: bool = True
    # Copies not gone yet, or not delivered and not sent again: the standstill runs from
    # their (new) sending, which is not yet.
    waiting: int = 0


@dataclass(frozen=True)
class Standstill:
    """The standstill of the lots a notification is about: None `first_day` when there is
    none to wait for (no rejection sent yet, or a MAPA without one)."""

    first_day: date | None = None
    last_rejection: datetime | None = None
    electronic: bool = True
    formalised: bool = True
    waiting: int = 0  # rejection letters not gone yet (or not delivered): it has not begun

    def running(self, now: datetime) -> bool:
        """Whether a notification sent `now` (Europe/Paris day) would come too early."""
        if self.waiting:
            return True
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
    waiting = sum(r.waiting for r in starting)
    sent = [(r.sent_at, r.electronic) for r in starting if r.sent_at is not None]
    if not sent:
        return Standstill(formalised=formalised, waiting=waiting)
    last, electronic = max(sent, key=lambda one: signing_from(one[0], electronic=one[1]))
    return Standstill(
        first_day=signing_from(last, electronic=electronic),
        last_rejection=last,
        electronic=electronic,
        formalised=formalised,
        waiting=waiting,
    )
