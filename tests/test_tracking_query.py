"""The tracking table's queries: filters that combine, keyset pages with no gap nor repeat,
what changed since, replies and their read mark — on the demo and on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from messagerie.models.clock import paris_today
from messagerie.models.formatting import PARIS
from messagerie.models.messages.inbound import find_recipient, record_reply
from messagerie.models.messages.tracking import (
    TrackingQuery,
    changed_since,
    mark_reply_read,
    message_summary,
    replies_of,
    tracking_count,
    tracking_page,
)
from messagerie.models.store.database import open_store
from messagerie.models.store.enums import MessageType, RecipientStatus, ReplyChannel
from messagerie.models.store.tables import Lot, Message, MessageLot, Recipient, table_of
from tests.helpers.accounts import DEMO_READER
from tests.helpers.clock import paris_moment
from tests.helpers.interleave import right_after
from tests.helpers.messages import A, B, queued_message, sent_message
from tests.helpers.smtp import send_out

# A send through aiosmtpd, clamd.
pytestmark = [pytest.mark.services, pytest.mark.xdist_group("test_tracking_query")]

recipient, message = table_of(Recipient), table_of(Message)


@pytest.fixture(scope="module")
def demo(demo_url):
    opened = open_store(demo_url)
    yield opened
    opened.close()


def every_row(store, query: TrackingQuery):
    rows, before = [], None
    while page := tracking_page(store, query, before=before, limit=37):
        rows.extend(page)
        before = page[-1].recipient_id
    return rows


def sql_count(store, *conditions) -> int:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count())
            .select_from(recipient.join(message))
            .where(recipient.c.delivery_state != "held", *conditions)
        ).scalar_one()


def test_pages_cover_every_row_once_newest_first(demo):
    rows = every_row(demo, TrackingQuery())
    ids = [row.recipient_id for row in rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert len(ids) == tracking_count(demo, TrackingQuery()) == sql_count(demo)


@pytest.mark.parametrize("status", list(RecipientStatus))
def test_status_filter(demo, status):
    query = TrackingQuery(status=status)
    rows = tracking_page(demo, query, limit=10_000)
    assert {row.status for row in rows} <= {status}
    assert len(rows) == tracking_count(demo, query) == sql_count(demo, recipient.c.status == status)
    if status is not RecipientStatus.PENDING:
        assert rows, f"the demo has recipients at {status.label}"


def test_filters_combine_and_clear(demo):
    everything = tracking_count(demo, TrackingQuery())
    query = TrackingQuery(message_type=MessageType.REJECTION, status=RecipientStatus.READ)
    rows = tracking_page(demo, query, limit=10_000)
    assert rows and all(
        r.type is MessageType.REJECTION and r.status is RecipientStatus.READ for r in rows
    )
    assert 0 < tracking_count(demo, query) < everything
    assert query.filtered() and not query.cleared().filtered()
    assert tracking_count(demo, query.cleared()) == everything


def test_company_filter_ignores_case_and_accents(demo):
    rows = tracking_page(demo, TrackingQuery(company="LEFEVRE"), limit=10_000)
    assert rows and all("Lefèvre" in (r.company or "") or "lefevre" in r.email for r in rows)


def test_text_filter_reads_subject_and_body(demo):
    rows = tracking_page(demo, TrackingQuery(text="attribution"), limit=10_000)
    assert rows and tracking_count(demo, TrackingQuery(text="attribution")) == len(rows)
    assert not tracking_page(demo, TrackingQuery(text="zzz-introuvable"))


def test_lot_and_date_range(demo):
    with demo.engine.connect() as connection:
        message_id, lot_number, consultation_id = connection.execute(
            sa.select(
                table_of(MessageLot).c.message_id,
                table_of(Lot).c.number,
                table_of(Lot).c.consultation_id,
            )
            .join(table_of(Lot))
            .limit(1)
        ).one()
        queued_at = connection.execute(
            sa.select(message.c.queued_at).where(message.c.id == message_id)
        ).scalar_one()
    day = queued_at.replace(tzinfo=UTC).astimezone(PARIS).date()
    query = TrackingQuery(consultation_id, lot_number=lot_number, sent_from=day, sent_to=day)
    rows = tracking_page(demo, query, limit=10_000)
    assert message_id in {row.message_id for row in rows}
    assert not tracking_page(demo, replace(query, sent_from=day + timedelta(days=1)))
    other_lot = tracking_page(demo, replace(query, lot_number=lot_number + 100), limit=10_000)
    assert message_id not in {row.message_id for row in other_lot}


async def test_the_days_filter_reads_when_each_copy_left(store):
    """A message queued one evening leaves the next morning (the relay was down): its E, and
    the filter « Du … Au … », say the morning. Read by the day it was queued, a buyer looking
    for what left that morning did not find it."""
    evening = paris_moment(paris_today() - timedelta(days=3), time(19, 30))
    with time_machine.travel(evening, tick=False):
        message_id = queued_message(store)
    with time_machine.travel(evening + timedelta(hours=13), tick=True):
        await send_out(store, message_id)

    def found(day):  # type: ignore[no-untyped-def]
        return {
            row.email for row in tracking_page(store, TrackingQuery(sent_from=day, sent_to=day))
        }

    assert found(evening.date()) == set()
    assert found(evening.date() + timedelta(days=1)) == {A, B}


def test_summary_counts_each_badge(demo):
    row = tracking_page(demo, TrackingQuery(status=RecipientStatus.REPLY_READ), limit=1)[0]
    summary = message_summary(demo, row.message_id, actor=DEMO_READER)
    assert summary.recipients >= summary.sent >= summary.delivered >= 0
    assert summary.replied >= 1 and summary.read >= 1
    assert summary.text().endswith("Non délivré") and f"{summary.sent} E" in summary.text()


async def test_changes_replies_and_read_mark_on_both_backends(store):
    await sent_message(store)
    query = TrackingQuery(company="entreprise.example")
    shown = tracking_page(store, query)
    assert {row.email for row in shown} == {A, B}
    mark = max(row.updated_at for row in shown)
    target = find_recipient(store, token=_token(store, A))
    later = datetime.now(UTC) + timedelta(seconds=30)
    record_reply(store, target, body="Réponse", files=[], channel=ReplyChannel.WEB, at=later)
    changed = changed_since(store, query, mark.replace(tzinfo=UTC) + timedelta(seconds=10))
    assert [row.email for row in changed] == [A]
    assert changed[0].status is RecipientStatus.REPLY_UNREAD
    ((line,),) = replies_of(store, [changed[0].recipient_id]).values()
    assert (line.body, line.read) == ("Réponse", False)
    mark_reply_read(store, line.id)
    row = tracking_page(store, TrackingQuery(company=A))[0]
    assert row.status is RecipientStatus.REPLY_READ
    assert replies_of(store, [row.recipient_id])[row.recipient_id][0].read


async def test_a_reply_arriving_as_the_buyer_reads_another_keeps_reponse_non_lue(store):
    """The buyer opens the first reply while the second is being recorded: the copy must not
    turn « Réponse lue » with the second unread (on PostgreSQL it did)."""
    await sent_message(store)
    target = find_recipient(store, token=_token(store, A))
    record_reply(store, target, body="Première", files=[], channel=ReplyChannel.WEB)
    ((first,),) = replies_of(store, [target.id]).values()

    def buyer_reads_the_first() -> None:
        mark_reply_read(store, first.id)

    with right_after(store, "INSERT INTO event", buyer_reads_the_first, head_start=0.5):
        record_reply(store, target, body="Seconde", files=[], channel=ReplyChannel.WEB)
    row = tracking_page(store, TrackingQuery(company=A))[0]
    assert row.status is RecipientStatus.REPLY_UNREAD
    assert [one.read for one in replies_of(store, [target.id])[target.id]] == [True, False]


async def test_one_reply_of_two_read_is_a_change_the_tables_follow(store):
    """Its line turns read while the copy stays « Réponse non lue »: an open table polls
    changes by time, so the copy's time moves too."""
    await sent_message(store)
    target = find_recipient(store, token=_token(store, A))
    now = datetime.now(UTC)
    for body, at in (("Première", now), ("Seconde", now + timedelta(seconds=1))):
        record_reply(store, target, body=body, files=[], channel=ReplyChannel.WEB, at=at)
    first, _ = replies_of(store, [target.id])[target.id]
    read_at = now + timedelta(minutes=1)
    mark_reply_read(store, first.id, at=read_at)
    (changed,) = changed_since(store, TrackingQuery(company=A), read_at)
    assert changed.status is RecipientStatus.REPLY_UNREAD


async def test_two_replies_to_one_copy_at_once_are_both_kept(store):
    """An e-mail and the page's form at the same moment: each wrote its reply, then waited
    for the other to add to the copy's history (on PostgreSQL, a deadlock lost one)."""
    await sent_message(store)
    target = find_recipient(store, token=_token(store, A))

    def by_the_page() -> None:
        record_reply(store, target, body="Par la page", files=[], channel=ReplyChannel.WEB)

    with right_after(store, "INSERT INTO reply", by_the_page, head_start=0.5):
        record_reply(store, target, body="Par courriel", files=[], channel=ReplyChannel.EMAIL)
    bodies = {one.body for one in replies_of(store, [target.id])[target.id]}
    assert bodies == {"Par la page", "Par courriel"}


def _token(store, email: str) -> str:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(recipient.c.token).where(recipient.c.email == email)
        ).scalar_one()
