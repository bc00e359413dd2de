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


def concerns_lots(of_lots: frozenset[int], lots: frozenset[int]) -> bool:
    """Whether what is about `of_lots` (a letter, a bid; empty: every lot) concerns `lots`
    (those of a notification; empty: every lot)."""
    return not of_lots or not lots or bool(of_lots & lots)


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
    unrejected_bids: int = 0  # several bids and no rejection letter at all: nor has it then

    @property
    def unbegun(self) -> str:
        """Why the standstill has not begun yet, in French; empty once it has (or needs not)."""
        if self.waiting:
            return (
                f"{self.waiting} courrier(s) de rejet de ce lot ne sont pas encore partis, ou "
                "n'ont pas été délivrés (renvoyez-les depuis le suivi des messages). Le délai "
                "court de leur envoi"
            )
        if self.unrejected_bids:
            return (
                f"{self.unrejected_bids} plis ont été déposés et aucun courrier de rejet n'est "
                "parti. Le délai court de l'envoi des courriers de rejet aux autres "
                "soumissionnaires"
            )
        return ""

    def running(self, now: datetime) -> bool:
        """Whether a notification sent `now` (Europe/Paris day) would come too early."""
        if self.unbegun:
            return True
        return self.first_day is not None and now.astimezone(PARIS).date() < self.first_day

    @property
    def days(self) -> int:
        return standstill_days(electronic=self.electronic)


NO_STANDSTILL = Standstill()


def lot_standstill(
    rejections: Iterable[RejectionSent], *, formalised: bool, bids: int = 0
) -> Standstill:
    """The standstill the notification of a lot waits for, from that lot's rejection letters:
    every one in a formalised procedure, in a MAPA only those that announced a signature date
    (the buyer's choice of a standstill). The latest letter decides. A formalised procedure
    that received several `bids` has one even before any rejection letter: it has not begun."""
    starting = [
        r for r in rejections if standstill_applies(formalised=formalised, chosen=r.announced)
    ]
    waiting = sum(r.waiting for r in starting)
    sent = [(r.sent_at, r.electronic) for r in starting if r.sent_at is not None]
    if not sent:
        unrejected = bids if formalised and not starting and bids > 1 else 0
        return Standstill(formalised=formalised, waiting=waiting, unrejected_bids=unrejected)
    last, electronic = max(sent, key=lambda one: signing_from(one[0], electronic=one[1]))
    return Standstill(
        first_day=signing_from(last, electronic=electronic),
        last_rejection=last,
        electronic=electronic,
        formalised=formalised,
        waiting=waiting,
    )
