"""The outbox's answers chained with the head its UPDATE hands back (RETURNING): a retry, a
refusal and an acceptance each extend the recipient's chain, an answer for a recipient no
longer claimed adds no event, and every chain verifies. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from messagerie.models.clock import utc_now
from messagerie.models.messages.outbox import claim, record_accepted, record_failure, release
from messagerie.models.messages.portal import record_opening
from messagerie.models.store.chain import GENESIS, verify_store
from messagerie.models.store.enums import DeliveryState, EventKind, RecipientStatus
from messagerie.models.store.tables import event
from tests.helpers.messages import A, B, queued_message, row_of

pytestmark = [pytest.mark.services]  # the message's attachment goes through clamd


def history(store, recipient_id: int) -> list[sa.Row]:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(event).where(event.c.recipient_id == recipient_id).order_by(event.c.id)
        ).all()


def test_each_answer_of_the_relay_extends_the_chain_it_read_back(store):
    queued_message(store)
    now = utc_now()
    claim(store, now=now)
    a, b = row_of(store, A).id, row_of(store, B).id
    assert record_failure(store, a, answer="451 plus tard", permanent=False, attempts=1, at=now)
    assert not record_failure(store, b, answer="550 inconnu", permanent=True, attempts=1, at=now)
    later = now + timedelta(minutes=2)
    claim(store, now=later)
    assert record_accepted(store, a, answer="250 OK", final_mailbox=True, at=later)

    # No longer claimed (answered already, e.g. by the worker that took it over): not recorded.
    assert not record_accepted(store, a, answer="250 encore", final_mailbox=True, at=later)

    kinds = [row.kind for row in history(store, a)]
    assert kinds == [EventKind.RETRY, EventKind.SENT, EventKind.DELIVERED]
    assert [row.kind for row in history(store, b)] == [EventKind.NOT_DELIVERED]
    for recipient_id in (a, b):
        rows = history(store, recipient_id)
        assert rows[0].previous_hash == GENESIS
        assert [row.previous_hash for row in rows[1:]] == [row.hash for row in rows[:-1]]
        assert row_of(store, A if recipient_id == a else B).chain_head == rows[-1].hash
    assert verify_store(store, later) == (2, [])


def test_a_worker_whose_lease_ran_out_moves_nothing_another_worker_claimed(store):
    """The first worker's lease ran out (a laptop asleep, a slow relay): a second claimed
    both copies and is sending them. The first one's late answers, and its giving back on
    stopping, move neither: a 4xx put back in the queue would be sent a third time."""
    queued_message(store)
    now = utc_now()
    (first,) = claim(store, now=now)
    a, b = row_of(store, A).id, row_of(store, B).id
    later = now + timedelta(minutes=6)
    (second,) = claim(store, now=later)  # the first lease (5 min) has run out
    stale = first.lease_until
    record_failure(store, a, answer="451 plus tard", permanent=False, attempts=1, at=later,
                   held_until=stale)  # fmt: skip
    assert not record_accepted(store, b, answer="250 OK", final_mailbox=True, at=later,
                               held_until=stale)  # fmt: skip
    release(store, {a: stale, b: stale})
    for email in (A, B):
        row = row_of(store, email)
        assert (row.delivery_state, row.lease_until, history(store, row.id)) == (
            DeliveryState.CLAIMED, second.lease_until, []
        )  # fmt: skip
    assert record_accepted(store, a, answer="250 OK", final_mailbox=True, at=later,
                           held_until=second.lease_until)  # fmt: skip
    release(store, {b: second.lease_until})
    assert row_of(store, B).delivery_state == DeliveryState.QUEUED


def test_a_copy_sent_again_after_its_worker_died_keeps_the_l_it_earned(store):
    """The first worker handed the copy to the relay and died before recording it; the
    company opened it (L). The lease ran out, a second worker sent it again: its E, or a
    refusal of that second sending, is in the history, and the copy stays « Lu »."""
    queued_message(store)
    now = utc_now()
    claim(store, now=now)
    a, b = row_of(store, A).id, row_of(store, B).id
    record_opening(store, a, client_address=None, user_agent=None, at=now + timedelta(minutes=1))
    later = now + timedelta(minutes=6)
    (second,) = claim(store, now=later)
    assert record_accepted(store, a, answer="250 OK", final_mailbox=False, at=later,
                           held_until=second.lease_until)  # fmt: skip
    record_opening(store, b, client_address=None, user_agent=None, at=later)
    record_failure(store, b, answer="550 inconnu", permanent=True, attempts=2, at=later,
                   held_until=second.lease_until)  # fmt: skip
    for email, last in ((A, EventKind.SENT), (B, EventKind.NOT_DELIVERED)):
        row = row_of(store, email)
        assert row.status == RecipientStatus.READ
        assert history(store, row.id)[-1].kind == last
