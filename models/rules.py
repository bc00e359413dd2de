"""The rules of the Code de la commande publique the messaging checks (LEGAL.md).

Each rule is a plain function over plain data returning a verdict, or None when it is met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SINGLE_ANSWER_REASONS = (
    "La réponse contient des données personnelles",
    "La question ne concerne que ce candidat",
)


@dataclass(frozen=True)
class RuleVerdict:
    rule: int
    level: Literal["warning", "block"]
    message: str
    field: str | None = None  # the form field it concerns, when there is one

    @property
    def blocks(self) -> bool:
        return self.level == "block"


def answer_to_one_company(register_addresses: int, reason: str) -> RuleVerdict | None:
    """Rule 1: an answer goes to every company of the registers unless a reason is given."""
    if register_addresses <= 1 or reason.strip():
        return None
    return RuleVerdict(
        rule=1,
        level="block",
        field="reason",
        message=(
            "Égalité de traitement : une réponse utile à tous doit être envoyée aux "
            f"{register_addresses} entreprises des registres. Pour ne répondre qu'à ce "
            "candidat, indiquez la raison (données personnelles, question qui ne concerne "
            "que lui)."
        ),
    )


def asker_identified(leaks: tuple[str, ...], recipients: int) -> RuleVerdict | None:
    """Rule 4: a document sent to several companies must not reveal who asked."""
    if not leaks or recipients <= 1:
        return None
    return RuleVerdict(
        rule=4,
        level="warning",
        field="question",
        message="Anonymisez la question avant diffusion : " + " ; ".join(leaks) + ".",
    )
