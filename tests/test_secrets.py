"""One secret per purpose: the page's token, the reply address's and the bounce address's are
independent random values; the headers of a sent e-mail (as the real aiosmtpd relay received
it) open no page, and no report to the bounce address that fails to name the e-mail changes a
status, whatever it says (Hypothesis)."""

from __future__ import annotations

import base64
import re
from email import message_from_bytes
from email.policy import default

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messagerie.letters.mail.inbound import InboundHandler
from messagerie.letters.portal.app import create_portal
from messagerie.models.messages.recipient_secrets import envelope_id, new_secrets
from messagerie.models.store.enums import EventKind, RecipientStatus
from messagerie.models.store.tables import Event, Recipient, table_of
from messagerie.tui.embedded import free_port
from tests.helpers.antivirus import intake
from tests.helpers.examples import examples
from tests.helpers.messages import A, queued_message
from tests.helpers.portal import fetch
from tests.helpers.reports import DSN, bounce_of
from tests.helpers.smtp import PUBLIC_URL, Relay, send_out
from tests.helpers.web import Clock, Served

recipient, event = table_of(Recipient), table_of(Event)
SECRETS = ("token", "reply_token", "bounce_token")


def random_bytes(token: str) -> int:
    return len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


@pytest.mark.services  # clamd scans the message's attachment
def test_a_new_recipient_gets_three_distinct_secrets_of_128_bits_at_least(store):
    message_id = queued_message(store)
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(recipient).where(recipient.c.message_id == message_id)
        ).all()
    values = [getattr(row, name) for row in rows for name in SECRETS]
    assert len(rows) == 2 and len(set(values)) == 6  # three each, none shared
    assert all(random_bytes(value) >= 16 for value in values)
    for row in rows:  # none is a part of another, nor of the Message-ID that travels in clear
        for name in SECRETS:
            others = [getattr(row, o) for o in SECRETS if o != name] + [row.message_id_header]
            assert not any(getattr(row, name) in other for other in others)
    drawn = [new_secrets("alsace.example") for _ in range(50)]
    assert len({d[name] for d in drawn for name in SECRETS}) == 150


@pytest.fixture
def portal(store):
    with Served(create_portal(store, intake(), clock=Clock()), free_port()) as served:
        yield served.url


TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{16,}")


@pytest.mark.services  # aiosmtpd relay, uvicorn
async def test_no_header_of_a_sent_email_holds_or_opens_the_page(store, portal):
    handler = Relay()
    rows = await send_out(store, queued_message(store), handler)
    assert len(handler.received) == 2
    for sender, rcpt, data in handler.received:
        row, mail = rows[rcpt], message_from_bytes(data, policy=default)
        headers = [sender] + [f"{name}: {value}" for name, value in mail.items()]
        assert not any(row.token in header for header in headers)
        assert not any("/m/" in header for header in headers)
        assert sender == f"bounce+{row.bounce_token}@alsace.example"
        assert mail["Reply-To"] == f"reply+{row.reply_token}@alsace.example"
        link = f"{PUBLIC_URL}m/{row.token}"
        assert link in mail.get_body(("plain",)).get_content()  # the page's token: the body
        assert fetch(f"{portal}/m/{row.token}")[0] == 200
        words = {w for header in headers for w in TOKEN_LIKE.findall(header)}
        assert {row.reply_token, row.bounce_token} <= words
        for word in words:
            assert fetch(f"{portal}/m/{word}")[0] == 404, word


LINE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60)
PROSE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@pytest.mark.services  # aiosmtpd relay, clamd
async def test_a_report_not_naming_the_email_never_changes_a_status(store):
    """Any diagnostic, any text, any returned headers or ENVID: without the e-mail's
    Message-ID or ENVID, the bounce address alone changes nothing."""
    rows = await send_out(store, queued_message(store))
    a, handler = rows[A], InboundHandler(store, intake())
    bounce = bounce_of(a)
    named = (a.message_id_header, envelope_id(a.message_id_header))

    @settings(
        max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(
        action=st.sampled_from(["failed", "delivered", "delayed"]) | LINE,
        lines=st.tuples(LINE, LINE, LINE),  # subject, ENVID, diagnostic
        text=PROSE,
        returned=PROSE,
    )
    def one_report(action, lines, text, returned):
        subject, envid, diagnostic = lines
        report = DSN.format(
            bounce=bounce, rcpt=A, subject=subject, text=text, action=action, status="5.1.1",
            diagnostic=diagnostic, returned=returned, envid=f"Original-Envelope-Id: {envid}\n",
        )  # fmt: skip
        if any(name.casefold() in report.casefold() for name in named):
            return
        handler.receive(bounce, message_from_bytes(report.encode(), policy=default))
        with store.engine.connect() as connection:
            now = connection.execute(sa.select(recipient).where(recipient.c.id == a.id)).one()
        assert now.status == RecipientStatus.SENT
        assert now.delivered_at is None and now.not_delivered_at is None

    one_report()
    with store.engine.connect() as connection:
        kinds = set(
            connection.execute(sa.select(event.c.kind).where(event.c.recipient_id == a.id))
            .scalars()
            .all()
        )
    assert kinds <= {EventKind.SENT, EventKind.REPORT_SET_ASIDE}
