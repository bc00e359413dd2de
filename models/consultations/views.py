"""Plain data the store hands to the screens (no SQL here, cheap to import)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.store.enums import ConsultationStatus, Procedure

PAGE_SIZES = (10, 20)


@dataclass(frozen=True)
class DashboardQuery:
    """What the buyer asked for: search words, status filter and page."""

    text: str = ""
    status: ConsultationStatus | None = None
    page: int = 1
    per_page: int = PAGE_SIZES[0]

    def but(self, **changes: object) -> DashboardQuery:
        """A copy with `changes`; a new search or filter starts again at page 1."""
        if ("text" in changes or "status" in changes or "per_page" in changes) and (
            "page" not in changes
        ):
            changes["page"] = 1
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ConsultationSummary:
    id: int
    identity: ConsultationIdentity
    status: ConsultationStatus
    procedure: Procedure
    bid_deadline: datetime
    lots: tuple[str, ...]
    withdrawals: int
    questions: int
    deposits: int


@dataclass(frozen=True)
class DashboardPage:
    query: DashboardQuery
    total: int
    status_counts: dict[ConsultationStatus, int] = field(default_factory=dict)
    items: tuple[ConsultationSummary, ...] = ()

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))


def page_to_json(page: DashboardPage) -> dict[str, object]:
    """A JSON-ready form of the first dashboard page (for the start-up snapshot)."""
    return {
        "total": page.total,
        "per_page": page.query.per_page,
        "status_counts": {status.value: number for status, number in page.status_counts.items()},
        "items": [
            {
                **{name: getattr(item, name) for name in item.__dataclass_fields__},
                "identity": asdict(item.identity),
                "bid_deadline": item.bid_deadline.isoformat(),
                "lots": list(item.lots),
            }
            for item in page.items
        ],
    }


def page_from_json(data: dict) -> DashboardPage:
    items = tuple(
        ConsultationSummary(
            **{
                **item,
                "identity": ConsultationIdentity(**item["identity"]),
                "status": ConsultationStatus(item["status"]),
                "procedure": Procedure(item["procedure"]),
                "bid_deadline": datetime.fromisoformat(item["bid_deadline"]),
                "lots": tuple(item["lots"]),
            }
        )
        for item in data["items"]
    )
    return DashboardPage(
        query=DashboardQuery(per_page=data["per_page"]),
        total=data["total"],
        status_counts={ConsultationStatus(k): v for k, v in data["status_counts"].items()},
        items=items,
    )
