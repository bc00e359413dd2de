"""Migrations produce exactly the models' schema, on SQLite and on PostgreSQL."""

import secrets
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from messagerie.models.messages.inbound import find_recipient
from messagerie.models.messages.outbox import claim
from messagerie.models.store import migrate
from messagerie.models.store.database import Store, open_store
from messagerie.models.store.engine import StoreError, create_store_engine
from messagerie.models.store.enums import (
    ConsultationStatus,
    DeliveryState,
    MessageState,
    MessageType,
    RecipientStatus,
    SendMode,
)
from messagerie.models.store.tables import (
    AuditEntry,
    consultation,
    message,
    organisation,
    purchasing_entity,
    recipient,
)
from tests.helpers.factories import add_consultations


def test_upgrading_an_empty_database_yields_the_models_schema(store_url):
    engine = create_store_engine(store_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.HEAD_REVISION
    assert migrate.schema_differences(engine) == []
    tables = set(sa.inspect(engine).get_table_names())
    assert {"consultation", "recipient", "event", "reply", "audit_log", "dce_piece"} <= tables
    engine.dispose()


def test_head_constant_matches_alembic():
    assert migrate.script_head() == migrate.HEAD_REVISION


def test_reset_gives_an_empty_schema_again(store):
    with store.engine.begin() as connection:
        connection.execute(sa.insert(AuditEntry).values(actor="a", action="test"))
    migrate.reset(store.engine)
    assert migrate.schema_differences(store.engine) == []
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar() == 0


def test_audit_log_is_append_only(store):
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(AuditEntry).values(
                actor="marie", action="override", rule=3, override_reason="Report accordé"
            )
        )
    for statement in (sa.update(AuditEntry).values(actor="x"), sa.delete(AuditEntry)):
        with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as connection:
            connection.execute(statement)
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(AuditEntry.actor)).scalar_one() == "marie"


def test_times_come_back_aware_and_in_utc(store):
    moment = datetime(2026, 2, 14, 12, 0, tzinfo=UTC)
    with store.engine.begin() as connection:
        connection.execute(sa.insert(AuditEntry).values(actor="a", action="t", at=moment))
    with store.engine.connect() as connection:
        stored = connection.execute(sa.select(AuditEntry.at)).scalar_one()
    assert stored == moment
    assert stored.utcoffset().total_seconds() == 0


def test_naive_times_are_refused(store):
    with pytest.raises(sa.exc.StatementError, match="timezone"), store.engine.begin() as c:
        c.execute(sa.insert(AuditEntry).values(actor="a", action="t", at=datetime(2026, 1, 1)))


def test_open_store_refuses_an_unmigrated_database(store_url):
    with pytest.raises(StoreError, match="db upgrade"):
        open_store(store_url)


def test_open_store_refuses_a_database_behind_the_code(store_url):
    engine = create_store_engine(store_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    with pytest.raises(StoreError, match="révision 0000"):
        open_store(store_url)


def test_sqlite_runs_with_foreign_keys_and_wal(sqlite_url):
    store = open_store(sqlite_url, upgrade=True)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        with pytest.raises(sa.exc.IntegrityError):
            connection.execute(
                sa.text("INSERT INTO lot (consultation_id, number, title) VALUES (999, 1, 'x')")
            )
    store.close()


def test_upgrading_a_0004_store_keeps_every_address_already_sent(store_url):
    """0005 adds the reply and bounce tokens: a store of 0004 with messages keeps its rows,
    the addresses its e-mails carried (with the page's token) still find their recipient,
    and a recipient still to be sent gets tokens of its own before its e-mail leaves."""
    engine = create_store_engine(store_url)
    migrate.upgrade(engine, "0004")
    sent_token, queued_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    message_id = _message_of_0004(Store(engine), sent_token, queued_token)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.HEAD_REVISION
    assert migrate.schema_differences(engine) == []
    engine.dispose()
    store = open_store(store_url)
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(recipient.c.token, recipient.c.reply_token, recipient.c.bounce_token)
            .where(recipient.c.message_id == message_id)
            .order_by(recipient.c.id)
        ).all()
    assert rows == [(sent_token, None, None), (queued_token, None, None)]
    sent = find_recipient(store, reply_token=sent_token)
    assert sent is not None and sent.email == "a@entreprise.example"
    assert find_recipient(store, bounce_token=sent_token) == sent
    ((claimed,),) = [part.recipients for part in claim(store)]  # the queued one only
    assert claimed.email == "b@entreprise.example" and claimed.token == queued_token
    assert len({claimed.token, claimed.reply_token, claimed.bounce_token}) == 3
    assert find_recipient(store, reply_token=queued_token) is None  # never sent: retired
    assert find_recipient(store, reply_token=claimed.reply_token).email == claimed.email
    assert find_recipient(store, reply_token=sent_token) == sent  # still the old addresses
    store.close()


def _consultation_as_stored(store: Store) -> int:
    """A consultation as the store's revision holds it: its tables read from the database,
    without the columns later migrations add (0015's organisation)."""
    stored = sa.MetaData()
    with store.engine.begin() as connection:
        stored.reflect(connection, only=["organisation", "purchasing_entity", "consultation"])
        organisation, entity, consultation = (
            stored.tables[name] for name in ("organisation", "purchasing_entity", "consultation")
        )
        organisation_id = connection.execute(
            sa.insert(organisation).values(name="Collectivité européenne d'Alsace")
        ).inserted_primary_key[0]
        entity_id = connection.execute(
            sa.insert(entity).values(
                organisation_id=organisation_id,
                name="Direction des achats",
                sender_email="marches@alsace.example",
                postal_address="",
            )
        ).inserted_primary_key[0]
        now = datetime.now(UTC).replace(tzinfo=None)
        return connection.execute(
            sa.insert(consultation).values(
                reference="2026OLD",
                title="Avant 0005",
                object="Avant 0005",
                procedure="open_tender",
                status=ConsultationStatus.OPEN.value,
                bid_deadline=now,
                urgent=False,
                entity_id=entity_id,
                created_at=now,
                search_text="2026old",
            )
        ).inserted_primary_key[0]


def _message_of_0004(store: Store, sent_token: str, queued_token: str) -> int:
    """A message as 0004 stored it: one recipient sent (E), one still queued."""
    cid = _consultation_as_stored(store)
    now = datetime.now(UTC)
    with store.engine.begin() as connection:
        message_id = connection.execute(
            sa.insert(message)
            .values(
                consultation_id=cid,
                type=MessageType.FREE,
                subject="Avant la migration",
                body="Bonjour.",
                send_mode=SendMode.WITH_AR,
                reply_allowed=True,
                state=MessageState.QUEUED,
                author="marie.dupont",
                queued_at=now,
                search_text="avant la migration bonjour",
            )
            .returning(message.c.id)
        ).scalar_one()
        for email, token, state, status in (
            ("a@entreprise.example", sent_token, DeliveryState.ACCEPTED, RecipientStatus.SENT),
            ("b@entreprise.example", queued_token, DeliveryState.QUEUED, RecipientStatus.PENDING),
        ):
            connection.execute(
                sa.insert(recipient).values(
                    message_id=message_id,
                    email=email,
                    token=token,
                    message_id_header=f"<{secrets.token_urlsafe(18)}@alsace.example>",
                    delivery_state=state,
                    status=status,
                    sent_at=now if status is RecipientStatus.SENT else None,
                )
            )
    return message_id


def test_upgrading_a_0005_store_keeps_its_replies_and_makes_form_keys_unique(store_url):
    """0006 adds the page's reply form key: the replies already kept stay, without a key (as
    e-mailed replies); several replies may lack a key, but one key is kept once."""
    from messagerie.models.store.enums import ReplyChannel, ReplyDisposition
    from messagerie.models.store.tables import Reply, table_of

    reply = table_of(Reply)

    def row(recipient_id: int, body: str, key: str | None = None) -> dict[str, object]:
        kept = {"recipient_id": recipient_id, "received_at": datetime.now(UTC), "body": body}
        kept |= {"channel": ReplyChannel.WEB, "disposition": ReplyDisposition.ON_TIME}
        return kept | ({"submission_key": key} if key else {})

    engine = create_store_engine(store_url)
    migrate.upgrade(engine, "0005")
    token = secrets.token_urlsafe(24)
    _message_of_0004(Store(engine), token, secrets.token_urlsafe(24))
    with engine.begin() as connection:
        recipient_id = connection.execute(
            sa.select(recipient.c.id).where(recipient.c.token == token)
        ).scalar_one()
        connection.execute(sa.insert(reply).values(**row(recipient_id, "Avant 0006")))
    migrate.upgrade(engine, "0006")
    key = secrets.token_urlsafe(24)
    with engine.begin() as connection:
        for kept in (row(recipient_id, "Par e-mail"), row(recipient_id, "Page", key)):
            connection.execute(sa.insert(reply).values(**kept))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(reply).values(**row(recipient_id, "Page", key)))
    migrate.upgrade(engine)
    assert migrate.schema_differences(engine) == []
    with engine.connect() as connection:
        kept = connection.execute(
            sa.select(reply.c.body, reply.c.submission_key).order_by(reply.c.id)
        ).all()
    assert kept == [("Avant 0006", None), ("Par e-mail", None), ("Page", key)]
    engine.dispose()


def test_an_installation_without_its_scripts_refuses_to_migrate(tmp_path, monkeypatch):
    """A package missing `versions/` once "upgraded" a new base to nothing and said it was up
    to date: now the buyer is told to reinstall, and the base is left untouched."""
    partial = tmp_path / "migrations"
    partial.mkdir()
    for name in ("env.py", "script.py.mako"):
        (partial / name).write_bytes((migrate.MIGRATIONS / name).read_bytes())
    monkeypatch.setattr(migrate, "MIGRATIONS", partial)
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    with pytest.raises(StoreError, match="réinstallez le paquet") as refused:
        open_store(url, upgrade=True)
    assert "la dernière trouvée : aucune, attendue : " + migrate.HEAD_REVISION in str(refused.value)
    engine = create_store_engine(url)
    assert sa.inspect(engine).get_table_names() == []
    engine.dispose()


def test_upgrading_a_0014_store_gives_each_consultation_its_entity_s_organisation(store_url):
    """0015 makes a reference unique in its organisation: each consultation carries its
    entity's organisation, which the database keeps equal to it; two organisations may then
    each have a consultation « 2026OLD »."""
    engine = create_store_engine(store_url)
    migrate.upgrade(engine, "0014")
    old = _consultation_as_stored(Store(engine))
    migrate.upgrade(engine)
    assert migrate.schema_differences(engine) == []
    with engine.begin() as connection:
        row = connection.execute(sa.select(consultation).where(consultation.c.id == old)).one()
        entity = connection.execute(
            sa.select(purchasing_entity).where(purchasing_entity.c.id == row.entity_id)
        ).one()
        assert row.organisation_id == entity.organisation_id
        other = connection.execute(
            sa.insert(organisation).values(name="Ville de Colmar").returning(organisation.c.id)
        ).scalar_one()
    copy = {**row._asdict(), "organisation_id": other}
    del copy["id"]
    with pytest.raises(DatabaseError), engine.begin() as connection:  # not its entity's
        connection.execute(sa.insert(consultation).values(copy))
    with engine.begin() as connection:  # its own entity: « 2026OLD » is Colmar's too
        colmar = connection.execute(
            sa.insert(purchasing_entity)
            .values(organisation_id=other, name="Marchés", sender_email="", postal_address="")
            .returning(purchasing_entity.c.id)
        ).scalar_one()
        connection.execute(sa.insert(consultation).values({**copy, "entity_id": colmar}))
        references = connection.execute(sa.select(consultation.c.reference)).scalars().all()
    assert references == ["2026OLD", "2026OLD"]
    engine.dispose()


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_migration_that_fails_leaves_the_store_as_it_was_and_old_orphans_do_not_stop_it(
    store_url,
):
    """SQLite's driver opens no transaction before DDL: a failed batch migration left its
    `_alembic_tmp_` table, and every retry failed on it. A consultation whose entity was
    deleted by hand (foreign keys are off in the sqlite3 shell) cannot be given its
    organisation: 0015 fails, twice alike, and changes nothing. Once it is gone, the event
    another hand-deletion orphaned (verify-store names it) does not stop the upgrade."""
    engine = create_store_engine(store_url)
    migrate.upgrade(engine, "0014")
    old = _consultation_as_stored(Store(engine))
    with engine.connect() as connection:  # the sqlite3 shell's way: foreign keys off
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        connection.exec_driver_sql("DELETE FROM purchasing_entity")
        connection.exec_driver_sql(
            "INSERT INTO event (recipient_id, kind, at) VALUES (404, 'sent', '2026-12-01')"
        )
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")
    for _ in range(2):
        with pytest.raises(StoreError) as failed:
            migrate.upgrade(engine)
        assert str(failed.value) == (
            "La migration a échoué (NOT NULL constraint failed: "
            "_alembic_tmp_consultation.organisation_id) : la base n'a pas été modifiée."
        )
        assert migrate.current_revision(engine) == "0014"
        assert not [name for name in sa.inspect(engine).get_table_names() if "tmp" in name]
    with engine.begin() as connection:
        connection.execute(sa.delete(consultation).where(consultation.c.id == old))
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.HEAD_REVISION
    engine.dispose()


def test_going_back_before_0015_refuses_references_two_organisations_share(store):
    """Before 0015 a reference was unique in the store: the downgrade failed on the
    database's constraint, half done on SQLite. It names the references, changes nothing."""
    deadline = datetime(2026, 12, 18, tzinfo=UTC)
    ids = [
        add_consultations(store, [("2026-001", "Voirie", ConsultationStatus.OPEN, deadline)],
                          organisation_name=town)[0]
        for town in ("Strasbourg", "Colmar")
    ]  # fmt: skip
    with pytest.raises(StoreError) as refused:
        migrate.downgrade(store.engine, "0014")
    assert str(refused.value) == (
        "Revenir avant 0015 rendrait chaque référence unique dans la base, et plusieurs "
        "organisations ont une consultation « 2026-001 » : renommez-les d'abord. La base n'a "
        "pas été modifiée."
    )
    assert migrate.current_revision(store.engine) == migrate.HEAD_REVISION
    with store.engine.begin() as connection:
        connection.execute(sa.delete(consultation).where(consultation.c.id == ids[0]))
    migrate.downgrade(store.engine, "0014")
    assert migrate.current_revision(store.engine) == "0014"
