"""Appending to the audit log (append-only: the database refuses updates and deletes).

Every row goes through `append`, in the caller's transaction, so that an action and its
audit row are written together or not at all."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.clock import utc_now
from messagerie.models.store.database import Store
from messagerie.models.store.tables import audit_entry

OVERRIDE = "rule.override"  # a rule the buyer passed, with a written reason
EXEMPTION = "rule.exemption"  # a block lifted by an exemption the code provides (rule 8)


def append(
    connection: Connection,
    *,
    action: str,
    actor: str,
    at: datetime | None = None,
    overrides: tuple[Mapping[str, object], ...] = (),
    **fields: object,
) -> None:
    """One row for `action` (fields: consultation_id, message_id, rule, override_reason,
    detail), then one "rule.override" row for each of `overrides` (rule, override_reason),
    sharing its time, actor, consultation and message."""
    connection.execute(
        sa.insert(audit_entry),
        rows(action=action, actor=actor, at=at or utc_now(), overrides=overrides, **fields),
    )


def rows(
    *,
    action: str,
    actor: str,
    at: datetime,
    overrides: tuple[Mapping[str, object], ...] = (),
    **fields: object,
) -> list[dict[str, object]]:
    """The rows `append` writes, as dictionaries (the demo inserts its own in bulk)."""
    shared = {
        "at": at,
        "actor": actor,
        "consultation_id": fields.get("consultation_id"),
        "message_id": fields.get("message_id"),
    }
    blank = dict.fromkeys(("rule", "override_reason", "detail"))
    return [
        {**blank, **shared, **fields, "action": action},
        *({**blank, **shared, **override, "action": OVERRIDE} for override in overrides),
    ]


def record_override(
    store: Store, *, consultation_id: int, rule: int, reason: str, actor: str, detail: str
) -> None:
    """A rule the buyer chose to pass, with the written reason (later printed on the AR)."""
    with store.engine.begin() as connection:
        append(
            connection,
            action=OVERRIDE,
            actor=actor,
            consultation_id=consultation_id,
            rule=rule,
            override_reason=reason,
            detail=detail,
        )


# The triggers the first migration puts on the log, by dialect: without them, rows can be
# changed or deleted by anyone with the database's password.
GUARDS = {
    "sqlite": ("audit_log_no_update", "audit_log_no_delete"),
    "postgresql": ("audit_log_append_only",),
}


def missing_guards(store: Store) -> list[str]:
    """The append-only triggers that are gone (or, on PostgreSQL, disabled): an
    administrator lifted them, and the log may have been changed since."""
    if store.engine.dialect.name == "sqlite":
        present = sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    else:
        present = sa.text(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
            "AND tgenabled <> 'D'"
        )
    with store.engine.connect() as connection:
        found = set(connection.execute(present).scalars())
    return [name for name in GUARDS[store.engine.dialect.name] if name not in found]


def guard_line(missing: list[str]) -> str:
    """The status line of the audit log's protection."""
    if not missing:
        return "Journal d'audit : protégé (ajouts seulement)"
    return (
        f"Journal d'audit : PROTECTION RETIRÉE ({', '.join(missing)} absent ou désactivé) — "
        "ses lignes ont pu être modifiées ou supprimées depuis"
    )
