"""PostgreSQL's second wall (migration 0009): a role connected straight to the database reads
its organisation's rows only, whatever it declares; the services' role reads every one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from messagerie.models.consultations.answer_drafts import KeptAnswer, keep_answer
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.form import load_context
from messagerie.models.messages.outbox import claim, record_accepted
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import queue_message
from messagerie.models.store import migrate
from messagerie.models.store.accounts import NewAccount, add_account
from messagerie.models.store.database import Store, open_store
from messagerie.models.store.database_roles import (
    grant_account_role,
    grant_service_role,
    scope_connections,
)
from messagerie.models.store.enums import ConsultationStatus, MessageType, RegisterKind, Right
from tests.helpers.factories import add_consultations, add_register_entries, paris

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("store_url", ["postgresql"],
                                                            indirect=True)]  # fmt: skip
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PASSWORD = "mot-de-passe-de-test"
TOWNS = {"A": "Ville de Colmar", "B": "Ville de Mulhouse"}
SIRETS = {"A": "47646011800047", "B": "73282932000074"}


@pytest.fixture
def roles() -> Iterator[dict[str, str]]:
    """Role names unique to the test (roles are the server's, shared by every schema).
    Requested before the store, so dropped after the test's schema (and its grants) is."""
    suffix = uuid.uuid4().hex[:8]
    names = {
        key: f"rls_{key.lower()}_{suffix}" for key in ("A", "B", "shared", "service", "support")
    }
    yield names
    admin = sa.create_engine(os.environ["MESSAGERIE_TEST_PG_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names.values():
            connection.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')
    admin.dispose()


def two_towns(store: Store, roles: dict[str, str]) -> dict[str, int]:
    """A consultation of each town, a company registered with it, a message sent to two
    addresses (events recorded), an account per town named after its role."""
    organisations = {}
    with store.engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO organisation (name) VALUES ('Plateforme')")
    support = NewAccount(roles["support"], "Support", "support@plateforme.example", "Plateforme",
                         (), frozenset({Right.MANAGE}), support=True)  # fmt: skip
    add_account(store, support, author=roles["support"], now=NOW)
    for key, town in TOWNS.items():
        (cid,) = add_consultations(
            store, [(f"2026{key}", f"Travaux {town}", ConsultationStatus.OPEN,
                     paris(2026, 12, 27))],
            organisation_name=town, entity_name=f"Services techniques {key}",
        )  # fmt: skip
        add_register_entries(store, cid, [RegisterKind.DEPOSIT], paris(2026, 11, 20),
                             email=f"contact@{key.lower()}.example",
                             company=(f"Entreprise {key}", SIRETS[key]))  # fmt: skip
        form = replace(
            preset_form(load_context(store, cid), MessageType.FREE),
            subject=f"Message de {town}",
            body="Bonjour,\n\nUn message.",
            recipients=tuple(DraftRecipient(f"r{n}@{key.lower()}.example") for n in (1, 2)),
        )
        rights = frozenset({Right.CONSULT, Right.SEND, Right.MANAGE})
        agent = NewAccount(roles[key], f"Agent {key}", f"agent@{key.lower()}.example", town, (),
                           rights)  # fmt: skip
        add_account(store, agent, author=roles["support"], now=NOW)
        queue_message(store, form, actor=roles[key], now=NOW)  # the store sends as an account
        with store.engine.connect() as connection:
            organisations[key] = connection.exec_driver_sql(
                "SELECT id FROM organisation WHERE name = %(town)s", {"town": town}
            ).scalar_one()
    for part in claim(store, limit=10, now=NOW):
        for one in part.recipients:
            record_accepted(store, one.id, answer="250 OK", final_mailbox=True, at=NOW)
    return organisations


def role_url(store_url: str, role: str) -> str:
    url = sa.make_url(store_url).set(username=role, password=PASSWORD)
    return url.render_as_string(hide_password=False)


def as_role(store_url: str, role: str) -> sa.Engine:
    return sa.create_engine(role_url(store_url, role))


def seen(engine: sa.Engine, *, declared: str | None = None) -> dict[str, list]:
    """What a direct SQL session of that role reads, table by table."""
    queries = {
        "consultation": "SELECT reference FROM consultation ORDER BY 1",
        "organisation": "SELECT name FROM organisation ORDER BY 1",
        "message": "SELECT subject FROM message ORDER BY 1",
        "recipient": "SELECT email FROM recipient ORDER BY 1",
        "event": "SELECT count(*) FROM event",
        "register_entry": "SELECT contact_email FROM register_entry ORDER BY 1",
        "company": "SELECT name FROM company ORDER BY 1",
        "account": "SELECT login FROM account ORDER BY 1",
        "audit_log": "SELECT count(*) FROM audit_log WHERE consultation_id IS NOT NULL",
    }
    with engine.begin() as connection:
        if declared is not None:
            connection.exec_driver_sql(
                "SELECT set_config('messagerie.organisations', %(ids)s, true)", {"ids": declared}
            )
        found = {name: connection.exec_driver_sql(sql).scalars().all()
                 for name, sql in queries.items()}  # fmt: skip
    engine.dispose()
    return found


def test_an_accounts_role_reads_its_organisations_rows_only(roles, store, store_url):
    organisations = two_towns(store, roles)
    for key in ("A", "B"):
        grant_account_role(store, roles[key], password=PASSWORD)
    everything = seen(store.engine)  # the tables' owner: the policies do not apply to it
    assert everything["consultation"] == ["2026A", "2026B"] and everything["event"] == [8]

    for key, other in (("A", "B"), ("B", "A")):
        own = seen(as_role(store_url, roles[key]))
        assert own["consultation"] == [f"2026{key}"]
        assert own["organisation"] == [TOWNS[key]]
        assert own["message"] == [f"Message de {TOWNS[key]}"]
        assert own["recipient"] == [f"r1@{key.lower()}.example", f"r2@{key.lower()}.example"]
        assert own["event"] == [4]  # sent and delivered, for each of its two
        assert own["register_entry"] == [f"contact@{key.lower()}.example"]
        assert own["company"] == [f"Entreprise {key}"]
        assert own["account"] == [roles[key]]
        assert own["audit_log"][0] > 0 and own["audit_log"][0] < everything["audit_log"][0]
        # Declaring the other town's organisation never widens what the role reads.
        declared = seen(as_role(store_url, roles[key]), declared=str(organisations[other]))
        assert all(rows in ([], [0]) for rows in declared.values()), declared


def test_a_shared_role_reads_what_the_application_declared_and_the_services_all(
    roles, store, store_url
):
    organisations = two_towns(store, roles)
    grant_account_role(store, roles["shared"], password=PASSWORD)  # no account of that name
    grant_service_role(store, roles["service"], password=PASSWORD)
    shared = as_role(store_url, roles["shared"])
    assert all(rows in ([], [0]) for rows in seen(shared).values())  # nothing declared
    assert seen(shared, declared=str(organisations["B"]))["consultation"] == ["2026B"]
    assert seen(as_role(store_url, roles["service"]))["consultation"] == ["2026A", "2026B"]

    # The application declares its account's organisations on every connection it opens.
    scoped = open_store(role_url(store_url, roles["shared"]))
    try:
        scope_connections(scoped, frozenset({organisations["A"]}))
        with scoped.engine.connect() as connection:
            references = connection.exec_driver_sql("SELECT reference FROM consultation")
            assert references.scalars().all() == ["2026A"]
    finally:
        scoped.close()


def test_every_table_holding_an_organisations_data_is_behind_the_wall(store):
    """A table added without its policy would show every organisation's rows to any role."""
    with store.engine.connect() as connection:
        open_tables = (
            connection.exec_driver_sql(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
                "AND relkind = 'r' AND NOT relrowsecurity ORDER BY 1"
            )
            .scalars()
            .all()
        )
    assert open_tables == ["alembic_version", "store_meta"]  # the store's own facts


def test_a_role_granted_before_migration_0011_keeps_its_own_answers_and_sees_no_other(
    roles, store, store_url
):
    """The answers kept while writing (answer_draft) came after the roles were granted the
    store's tables: the migration grants it to them, behind the same wall. (The towns are
    written by today's tables, then the store goes back to 0010 with them.)"""
    two_towns(store, roles)
    migrate.downgrade(store.engine, "0010")
    grant_account_role(store, roles["A"], password=PASSWORD)
    grant_account_role(store, roles["B"], password=PASSWORD)
    migrate.upgrade(store.engine)
    with store.engine.connect() as connection:
        entries = dict(connection.exec_driver_sql(
            "SELECT c.reference, e.id FROM register_entry e JOIN consultation c "
            "ON c.id = e.consultation_id"
        ).all())  # fmt: skip
    for key in ("A", "B"):
        own = open_store(role_url(store_url, roles[key]))
        try:
            kept = KeptAnswer("Q ?", f"Réponse de {key}", NOW, True)
            keep_answer(own, entries[f"2026{key}"], kept, actor=roles[key])
        finally:
            own.close()
    for key in ("A", "B"):
        engine = as_role(store_url, roles[key])
        with engine.connect() as connection:
            answers = connection.exec_driver_sql("SELECT answer FROM answer_draft").scalars()
            assert answers.all() == [f"Réponse de {key}"]
        engine.dispose()
