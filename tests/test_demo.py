"""The demo database: what a buyer sees in it, and how `seed_demo` treats the store."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from messagerie.models.demo.builder import (
    SECRET_COLUMNS,
    TABLES,
    build_demo,
    seed_demo,
)
from messagerie.models.demo.marker import DEMO_MARKER_KEY
from messagerie.models.formatting import lot_label
from messagerie.models.messages.form import ANNOUNCED_ATTACHMENT
from messagerie.models.rules.siret import luhn_valid, siret_is_valid
from messagerie.models.rules.standstill import signing_from
from messagerie.models.store import enums
from messagerie.models.store.database import Store, open_store
from messagerie.models.store.engine import StoreError
from messagerie.models.store.tables import Attachment, Organisation, table_of
from messagerie.models.text import search_text
from tests.conftest import copy_demo, demo_documents

# The tests of the module's second build (`rebuilt`) and of the demo's checksum run on one
# xdist worker (--dist loadgroup), which builds and reads them once; the others spread (the
# shared demo is built once per run whoever asks first, and opening it costs nothing).
ON_THE_MODULES_BUILDS = pytest.mark.xdist_group("test_demo")

ROOT = Path(__file__).resolve().parents[1]
PARIS = ZoneInfo("Europe/Paris")
TODAY = date(2026, 11, 27)
S = enums.ConsultationStatus
TEST_SUPPORT_DEADLINE = datetime(2027, 2, 22, 9, 55, tzinfo=PARIS)
GUIDE = {
    "202601": (
        "Achat de chocolats",
        "Achat de chocolats",
        ["Lot n°1 - Chocolat au lait", "Lot n°2 - Chocolat noir"],
        datetime(2026, 2, 14, 12, 0, tzinfo=PARIS),
        S.DECISION,
    ),
    "2025VINS": (
        "Achat de vins d'Alsace",
        "Achat de vins d'Alsace. A consommer avec modération ;)",
        ["Lot n°0 - Pinot gris", "Lot n°1 - Crémant"],
        datetime(2025, 12, 25, 17, 30, tzinfo=PARIS),
        S.DECISION,
    ),
    "C2025ADM": ("TEST SUPPORT", "TEST SUPPORT", [], TEST_SUPPORT_DEADLINE, S.OPEN),
    "ALT821-20260331": (
        "JL TEST 8.2.1",
        "JL TEST 8.2.1",
        [],
        datetime(2026, 4, 1, 11, 45, tzinfo=PARIS),
        S.DECISION,
    ),
}
MAIN_EVENTS = (
    enums.EventKind.SENT,
    enums.EventKind.DELIVERED,
    enums.EventKind.READ,
    enums.EventKind.REPLIED,
)
BADGES = {
    enums.EventKind.SENT: "sent_at",
    enums.EventKind.DELIVERED: "delivered_at",
    enums.EventKind.NOT_DELIVERED: "not_delivered_at",
    enums.EventKind.READ: "read_at",
    enums.EventKind.REPLIED: "replied_at",
}


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=PARIS)


NOW = midnight(TODAY)
attachment = table_of(Attachment)


# --- Helpers --------------------------------------------------------------------------------


def open_with_documents(folder: Path) -> Store:
    """A migrated SQLite store in `folder`, with its documents folder (the demo needs one)."""
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    return open_store(url, upgrade=True, documents_dir=folder / "documents")


@pytest.fixture(scope="module")
def demo(demo_url) -> Iterator[Store]:
    """The run's SQLite demo of 2026-11-27 with its documents (built once, shared with the
    other modules' read-only tests); tests only read it."""
    store = open_store(demo_url, documents_dir=demo_documents(demo_url))
    assert store.meta(DEMO_MARKER_KEY) == f"messagerie-demo v1, today={TODAY.isoformat()}"
    yield store
    store.close()


@pytest.fixture(scope="module")
def demo_checksum(demo) -> str:
    return checksum(demo)


# Another build of the same day, in another process whose strings hash differently from the
# processes of this run (they inherit PYTHONHASHSEED: unset, each draws its own at random).
OTHER_HASH_SEED = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
BUILD_IN_CHILD = (
    "import datetime, pathlib, sys; "
    "from messagerie.models.demo.builder import seed_demo; "
    "from messagerie.models.store.database import open_store; "
    "folder = pathlib.Path(sys.argv[1]); "
    "store = open_store(f'sqlite:///{folder / \"demo.sqlite3\"}', upgrade=True, "
    "documents_dir=folder / 'documents'); "
    f"seed_demo(store, today=datetime.date.fromisoformat('{TODAY.isoformat()}')); store.close()"
)


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Iterator[Store]:
    """The demo of the same day built again by another install, in a child process whose
    PYTHONHASHSEED is OTHER_HASH_SEED; tests only read it."""
    folder = tmp_path_factory.mktemp("rebuilt")
    subprocess.run(
        [sys.executable, "-c", BUILD_IN_CHILD, str(folder)],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": OTHER_HASH_SEED},
        check=True,
        timeout=120,
    )
    store = open_with_documents(folder)
    yield store
    store.close()


def table(name: str) -> sa.Table:
    return next(t for t in TABLES if t.name == name)


def rows(store: Store, name: str) -> list[Mapping[str, Any]]:
    """Every row of a table, as mappings, in primary key order."""
    t = table(name)
    with store.engine.connect() as connection:
        result = connection.execute(sa.select(t).order_by(*t.primary_key.columns))
        return [row._mapping for row in result]


def checksum(store: Store) -> str:
    """A digest of every row of every demo table, its secrets left out (drawn afresh)."""
    digest = hashlib.sha256()
    for t in TABLES:
        for row in rows(store, t.name):
            kept = [value for name, value in row.items() if name not in SECRET_COLUMNS]
            digest.update(repr(kept).encode())
    return digest.hexdigest()


def paris_minutes(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def paris_seconds(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y - %H:%M:%S")


def by_reference(store: Store) -> dict[str, Mapping[str, Any]]:
    return {row["reference"]: row for row in rows(store, "consultation")}


def check_lifecycle(consultations: list[Mapping[str, Any]], now: datetime) -> None:
    """Statuses agree with the deadline, seen from `now`."""
    for c in consultations:
        deadline, status = c["bid_deadline"], c["status"]
        assert c["created_at"] < min(deadline, now), c["reference"]
        if status in (S.DRAFTING, S.AWAITING_VALIDATION):
            assert deadline > now, c["reference"]
        elif status is S.OPEN:
            assert now < deadline, c["reference"]
            # The guide's TEST SUPPORT keeps its date; generated ones close within 90 days.
            assert c["reference"] in GUIDE or deadline <= now + timedelta(days=91)
        elif status is S.OPENING_ANALYSIS:
            assert now - timedelta(days=31) <= deadline < now, c["reference"]
        else:
            assert deadline < now - timedelta(days=29), c["reference"]


# --- Consultations --------------------------------------------------------------------------


def test_the_dashboard_counts_1395_consultations_in_every_status(demo):
    consultations = rows(demo, "consultation")
    assert len(consultations) == 1395
    statuses = Counter(c["status"] for c in consultations)
    assert set(statuses) == set(enums.ConsultationStatus)
    assert statuses[S.DECISION] > statuses[S.OPEN] > statuses[S.DRAFTING]
    procedures = Counter(c["procedure"] for c in consultations)
    assert set(procedures) == set(enums.Procedure)
    assert [p for p, _ in procedures.most_common(2)] == [
        enums.Procedure.ADAPTED,
        enums.Procedure.OPEN_TENDER,
    ]
    check_lifecycle(consultations, NOW)


def test_deadlines_fall_at_office_hours_and_test_support_sorts_first(demo):
    consultations = rows(demo, "consultation")
    latest = sorted(consultations, key=lambda c: (c["bid_deadline"], c["id"]), reverse=True)
    assert latest[0]["reference"] == "C2025ADM"
    assert latest[1]["bid_deadline"] < TEST_SUPPORT_DEADLINE
    for c in consultations:
        local = c["bid_deadline"].astimezone(PARIS)
        assert 9 <= local.hour <= 17 and local.second == 0, c["reference"]


def test_references_are_unique_and_search_text_covers_the_dashboard_fields(demo):
    entities = {e["id"]: e for e in rows(demo, "purchasing_entity")}
    organisations = {o["id"]: o["name"] for o in rows(demo, "organisation")}
    consultations = rows(demo, "consultation")
    assert len({c["reference"] for c in consultations}) == len(consultations)
    assert {"MAPA", "AO"} <= {re.match(r"[A-Z]*", c["reference"])[0] for c in consultations}
    for c in consultations:
        entity = entities[c["entity_id"]]
        expected = search_text(
            c["reference"],
            c["title"],
            c["object"],
            entity["name"],
            organisations[entity["organisation_id"]],
        )
        assert c["search_text"] == expected


def test_organisations_have_one_to_three_entities_with_a_sender_address(demo):
    organisations = {o["id"]: o["name"] for o in rows(demo, "organisation")}
    entities = rows(demo, "purchasing_entity")
    per_organisation = Counter(e["organisation_id"] for e in entities)
    assert len(organisations) >= 15
    assert set(per_organisation) == set(organisations)
    assert set(per_organisation.values()) <= {1, 2, 3}
    for entity in entities:
        assert re.fullmatch(r"[a-z.-]+@[a-z0-9.-]+\.(fr|eu|com)", entity["sender_email"])
        assert re.search(r"\b\d{5} [A-ZÉ]", entity["postal_address"])
    cea = [
        e["name"]
        for e in entities
        if organisations[e["organisation_id"]] == "Collectivité européenne d'Alsace"
    ]
    assert "Direction de la commande publique" in cea


def test_lots_are_numbered_from_one(demo):
    lots = defaultdict(list)
    for lot in rows(demo, "lot"):
        lots[lot["consultation_id"]].append(lot["number"])
    wines = by_reference(demo)["2025VINS"]["id"]
    assert len(lots) > 300
    for consultation_id, numbers in lots.items():
        first = 0 if consultation_id == wines else 1
        assert numbers == list(range(first, first + len(numbers)))
        assert 2 <= len(numbers) <= 6


def test_the_guides_consultations_have_their_exact_values(demo):
    consultations = by_reference(demo)
    lots = defaultdict(list)
    for lot in rows(demo, "lot"):
        lots[lot["consultation_id"]].append(lot_label(lot["number"], lot["title"]))
    for reference, (title, object_, labels, deadline, status) in GUIDE.items():
        c = consultations[reference]
        assert (c["title"], c["object"], c["status"]) == (title, object_, status)
        assert lots[c["id"]] == labels
        assert c["bid_deadline"] == deadline
        assert paris_minutes(c["bid_deadline"]) == paris_minutes(deadline)
    entities = {e["id"]: e for e in rows(demo, "purchasing_entity")}
    organisations = {o["id"]: o["name"] for o in rows(demo, "organisation")}
    jl_test = entities[consultations["ALT821-20260331"]["entity_id"]]
    assert organisations[jl_test["organisation_id"]] == "Collectivité européenne d'Alsace"
    # The guide shows TEST SUPPORT's registers empty; the demo fills all three (cases A, B).
    test_support = consultations["C2025ADM"]["id"]
    entries = rows(demo, "register_entry")
    assert {e["kind"] for e in entries if e["consultation_id"] == test_support} == set(
        enums.RegisterKind
    )


def test_the_question_of_nbc_fr_is_in_the_wines_register(demo):
    wines = by_reference(demo)["2025VINS"]["id"]
    companies = {c["id"]: c for c in rows(demo, "company")}
    questions = [
        e
        for e in rows(demo, "register_entry")
        if e["consultation_id"] == wines and e["kind"] is enums.RegisterKind.QUESTION
    ]
    assert len(questions) == 1
    question = questions[0]
    company = companies[question["company_id"]]
    assert (company["name"], company["siret"]) == ("N.B.C. FR", "47646011800047")
    assert question["number"] == 1
    assert paris_minutes(question["at"]) == "22/08/2025 09:31"
    assert "Crémant" in question["question_text"]


# --- Companies and registers -------------------------------------------------------------


def test_companies_have_valid_sirets_and_safe_addresses(demo):
    companies = rows(demo, "company")
    assert 300 <= len(companies) <= 600
    assert len({c["siret"] for c in companies}) == len(companies)
    for company in companies:
        assert siret_is_valid(company["siret"]), company
        assert luhn_valid(company["siret"][:9]), company
        assert re.fullmatch(r"\d{5}", company["postal_code"])
        assert company["address"] and company["city"]
    contacts = {e["contact_email"] for e in rows(demo, "register_entry")}
    contacts |= {r["email"] for r in rows(demo, "recipient")}
    assert all(email.endswith(".example") for email in contacts)


def test_registers_follow_the_consultation_lifecycle(demo):
    consultations = {c["id"]: c for c in rows(demo, "consultation")}
    entries = rows(demo, "register_entry")
    numbers = defaultdict(list)
    kinds_by_status: dict[enums.ConsultationStatus, Counter[enums.RegisterKind]] = defaultdict(
        Counter
    )
    for entry in entries:
        c = consultations[entry["consultation_id"]]
        kinds_by_status[c["status"]][entry["kind"]] += 1
        assert c["created_at"] < entry["at"] < c["bid_deadline"]
        assert entry["at"] < NOW
        assert entry["contact_name"] and entry["contact_email"]
        is_question = entry["kind"] is enums.RegisterKind.QUESTION
        assert (entry["question_text"] is not None) == is_question
        if is_question:
            numbers[c["id"]].append((entry["at"], entry["number"]))
    assert S.DRAFTING not in kinds_by_status and S.AWAITING_VALIDATION not in kinds_by_status
    # Bids come in before the deadline: a few open consultations (TEST SUPPORT among them)
    # already have some, all of them dated before the demo's day (checked above).
    open_with_bids = {
        consultations[e["consultation_id"]]["reference"]
        for e in entries
        if e["kind"] is enums.RegisterKind.DEPOSIT
        and consultations[e["consultation_id"]]["status"] is S.OPEN
    }
    assert "C2025ADM" in open_with_bids and len(open_with_bids) <= 3
    for status in (S.OPEN, S.OPENING_ANALYSIS, S.DECISION):
        assert kinds_by_status[status][enums.RegisterKind.WITHDRAWAL] > 0
    assert kinds_by_status[S.DECISION][enums.RegisterKind.DEPOSIT] > 0
    for asked in numbers.values():
        assert [number for _, number in sorted(asked)] == list(range(1, len(asked) + 1))


# --- Messages and tracking -----------------------------------------------------------------


def test_every_status_of_the_tracking_table_is_present(demo):
    statuses = Counter(r["status"] for r in rows(demo, "recipient"))
    assert set(statuses) == set(enums.RecipientStatus)
    messages = rows(demo, "message")
    assert 2000 <= len(messages) <= 4000
    assert 8000 <= statuses.total() <= 20000


def test_queued_messages_wait_in_the_outbox_without_events(demo):
    messages = rows(demo, "message")
    events = Counter(e["recipient_id"] for e in rows(demo, "event"))
    recipients = defaultdict(list)
    for recipient in rows(demo, "recipient"):
        recipients[recipient["message_id"]].append(recipient)
    states = {m["id"]: {r["delivery_state"] for r in recipients[m["id"]]} for m in messages}
    waiting = [m for m in messages if states[m["id"]] == {enums.DeliveryState.QUEUED}]
    drafts = [m for m in messages if m["state"] is enums.MessageState.DRAFT]
    assert 3 <= len(waiting) <= 5
    assert 1 <= len(drafts) <= 2
    for message in waiting:
        assert message["state"] is enums.MessageState.QUEUED
        assert message["created_at"] < message["queued_at"] < NOW
    for message in drafts:
        assert message["queued_at"] is None
        assert states[message["id"]] == {enums.DeliveryState.HELD}
    for message in waiting + drafts:
        for r in recipients[message["id"]]:
            assert r["status"] is enums.RecipientStatus.PENDING
            assert r["next_attempt_at"] is None and r["attempts"] == 0
            assert events[r["id"]] == 0


def expected_status(kinds: list[enums.EventKind], reply_read: bool) -> enums.RecipientStatus:
    """The tracking word from the last E/D/L/R/Non délivré event."""
    main = [k for k in kinds if k in BADGES]
    if not main:
        return enums.RecipientStatus.PENDING
    last = main[-1]
    if last is enums.EventKind.REPLIED:
        return (
            enums.RecipientStatus.REPLY_READ if reply_read else enums.RecipientStatus.REPLY_UNREAD
        )
    return {
        enums.EventKind.SENT: enums.RecipientStatus.SENT,
        enums.EventKind.DELIVERED: enums.RecipientStatus.DELIVERED,
        enums.EventKind.NOT_DELIVERED: enums.RecipientStatus.NOT_DELIVERED,
        enums.EventKind.READ: enums.RecipientStatus.READ,
    }[last]


def test_badge_times_match_the_events_and_strictly_increase(demo):
    messages = {m["id"]: m for m in rows(demo, "message")}
    events = defaultdict(list)
    for event in rows(demo, "event"):
        events[event["recipient_id"]].append(event)
    replies = {r["recipient_id"]: r for r in rows(demo, "reply")}
    refusals = []
    for r in rows(demo, "recipient"):
        message, mine = messages[r["message_id"]], events[r["id"]]
        kinds = [e["kind"] for e in mine]
        reply = replies.get(r["id"])
        assert r["status"] is expected_status(kinds, bool(reply and reply["read_at"]))
        for kind, column in BADGES.items():
            first = next((e["at"] for e in mine if e["kind"] is kind), None)
            assert r[column] == first, (r["id"], column)
        times = [r[BADGES[kind]] for kind in MAIN_EVENTS if r[BADGES[kind]]]
        assert times == sorted(set(times)), r["id"]
        assert [e["at"] for e in mine] == sorted(e["at"] for e in mine)
        assert all(e["at"] < NOW for e in mine)
        assert r["updated_at"] == (
            mine[-1]["at"] if mine else message["queued_at"] or message["created_at"]
        )
        if r["read_at"]:
            assert message["send_mode"] is enums.SendMode.WITH_AR
        if r["status"] is enums.RecipientStatus.NOT_DELIVERED:
            assert r["delivery_state"] is enums.DeliveryState.REFUSED
            refusals.append(mine[-1]["detail"])
        elif mine:
            assert r["delivery_state"] is enums.DeliveryState.ACCEPTED
        for opening in (
            e for e in mine if e["kind"] in (enums.EventKind.READ, enums.EventKind.OPENED_AGAIN)
        ):
            assert opening["client_address"].startswith(("192.0.2.", "198.51.100."))
            assert opening["user_agent"].startswith("Mozilla/5.0")
        assert (reply is not None) == (r["replied_at"] is not None)
        if reply:
            assert message["reply_allowed"]
            assert reply["received_at"] == r["replied_at"]
            assert reply["disposition"] is enums.ReplyDisposition.ON_TIME and reply["body"]
            assert (
                message["reply_deadline"] is None
                or reply["received_at"] <= message["reply_deadline"]
            )
            assert reply["read_at"] is None or r["replied_at"] < reply["read_at"] < NOW
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", r["token"])
        assert re.fullmatch(r"<[A-Za-z0-9_-]{24}@messagerie\.invalid>", r["message_id_header"])
        assert r["token"] not in r["message_id_header"]  # the link's secret never travels
    assert any(detail.startswith("550 5.1.1 <") for detail in refusals)


def test_message_types_go_to_the_right_companies(demo):
    consultations = {c["id"]: c for c in rows(demo, "consultation")}
    messages = rows(demo, "message")
    registers: dict[tuple[int, enums.RegisterKind], set[int]] = defaultdict(set)
    for entry in rows(demo, "register_entry"):
        registers[entry["consultation_id"], entry["kind"]].add(entry["company_id"])
    candidates: dict[int, set[int]] = defaultdict(set)
    for candidate in rows(demo, "suite_candidate"):
        candidates[candidate["consultation_id"]].add(candidate["company_id"])
    recipients = defaultdict(list)
    for r in rows(demo, "recipient"):
        recipients[r["message_id"]].append(r)
    assert {m["type"] for m in messages} == set(enums.MessageType)
    assert {m["send_mode"] for m in messages} == set(enums.SendMode)
    assert any(m["reply_allowed"] and m["reply_deadline"] for m in messages)
    for m in messages:
        assert recipients[m["id"]], m["id"]
        c = consultations[m["consultation_id"]]
        assert c["status"] in (S.OPEN, S.OPENING_ANALYSIS, S.DECISION)
        assert m["search_text"] == search_text(m["subject"], m["body"])
        assert m["body"].startswith("Bonjour,\n\n")
        assert m["body"].endswith(
            "Merci de votre intérêt pour cette consultation citée en référence."
        )
        companies = {r["company_id"] for r in recipients[m["id"]]}
        everyone = set().union(*(registers[c["id"], kind] for kind in enums.RegisterKind))
        # A suite's invitation goes to its admitted candidates (models/messages/presets.py).
        assert companies <= everyone | candidates[c["id"]]
        if m["type"] in (
            enums.MessageType.REJECTION,
            enums.MessageType.AWARD,
            enums.MessageType.NOTIFICATION,
        ):
            assert c["status"] is S.DECISION
            assert companies <= registers[c["id"], enums.RegisterKind.DEPOSIT]
        if m["queued_at"]:
            assert m["created_at"] < m["queued_at"] < NOW


def test_a_broadcast_reaches_dozens_of_companies_with_mixed_statuses(demo):
    statuses = defaultdict(set)
    for r in rows(demo, "recipient"):
        statuses[r["message_id"]].add(r["status"])
    counts = Counter(r["message_id"] for r in rows(demo, "recipient"))
    broadcasts = [m for m, n in counts.items() if 40 <= n <= 80 and len(statuses[m]) >= 3]
    assert broadcasts


def test_notification_waits_for_the_standstill_in_formalised_procedures(demo):
    consultations = {c["id"]: c for c in rows(demo, "consultation")}
    letters: dict[int, dict[enums.MessageType, list[datetime]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for m in rows(demo, "message"):
        letters[m["consultation_id"]][m["type"]].append(m["queued_at"])
    checked = 0
    for consultation_id, sent in letters.items():
        formalised = consultations[consultation_id]["procedure"].formalised
        if (
            formalised
            and sent[enums.MessageType.NOTIFICATION]
            and sent[enums.MessageType.REJECTION]
        ):
            gap = min(sent[enums.MessageType.NOTIFICATION]) - max(sent[enums.MessageType.REJECTION])
            assert gap >= timedelta(days=11)
            checked += 1
    assert checked > 20


def test_rejections_announce_a_signing_date_only_where_a_standstill_applies(demo):
    """models.rules.standstill decides: a formalised procedure's letters give the date from
    which the contract may be signed (R2182-1); the demo's MAPAs (2025VINS too) chose none."""
    consultations = {c["id"]: c for c in rows(demo, "consultation")}
    announced = re.compile(r"ne sera pas signé avant le (\d\d/\d\d/\d{4})")
    seen = Counter()
    for m in rows(demo, "message"):
        if m["type"] is not enums.MessageType.REJECTION or m["queued_at"] is None:
            continue
        c = consultations[m["consultation_id"]]
        found = announced.search(m["body"])
        if c["procedure"].formalised:
            assert found and "R2182-1" in m["body"], (c["reference"], m["body"])
            assert found[1] == f"{signing_from(m['queued_at']):%d/%m/%Y}"
            assert (m["mentions"] or {}).get("signature_date", found[1]) == found[1]
        else:
            assert not found and "R2182-1" not in m["body"], (c["reference"], m["body"])
            assert not (m["mentions"] or {}).get("signature_date")
        seen[c["procedure"].formalised, c["reference"] == "2025VINS"] += 1
    assert seen[True, False] > 20 and seen[False, False] > 5 and seen[False, True] >= 1


def test_every_demo_message_announcing_a_file_carries_one(demo):
    """The form refuses « ci-joint » without a file (models.messages.form): so does the demo."""
    with demo.engine.connect() as connection:
        attached = set(connection.execute(sa.select(attachment.c.message_id)).scalars())
    announcing = [m for m in rows(demo, "message") if ANNOUNCED_ATTACHMENT.search(m["body"])]
    assert [m["subject"] for m in announcing if m["id"] not in attached] == []


def test_the_guides_tracking_rows_are_reproduced(demo):
    chocolates = by_reference(demo)["202601"]["id"]
    messages = {
        m["id"]: m
        for m in rows(demo, "message")
        if m["consultation_id"] == chocolates and m["subject"] == "Courrier libre"
    }
    tracked = [r for r in rows(demo, "recipient") if r["message_id"] in messages]
    shown = {
        r["status"]: [
            paris_seconds(r[c])
            for c in ("sent_at", "delivered_at", "read_at", "replied_at")
            if r[c]
        ]
        for r in tracked
    }
    assert shown[enums.RecipientStatus.REPLY_READ] == [
        "10/02/2026 - 16:41:11",
        "10/02/2026 - 16:41:51",
        "10/02/2026 - 16:41:52",
        "10/02/2026 - 16:42:22",
    ]
    refused = next(r for r in tracked if r["status"] is enums.RecipientStatus.NOT_DELIVERED)
    assert paris_seconds(refused["not_delivered_at"]) == "10/02/2026 - 16:31:54"
    assert Counter(r["status"] for r in tracked)[enums.RecipientStatus.READ] == 3
    answered = messages[next(r for r in tracked if r["replied_at"])["message_id"]]
    assert paris_seconds(answered["reply_deadline"]) == "10/02/2026 - 17:00:00"


# --- seed_demo and the store ---------------------------------------------------------------


def test_demo_on_each_backend_is_idempotent_and_leaves_sequences_usable(store):
    report = seed_demo(store, today=TODAY)
    assert report.created and report.consultations == 1395
    assert store.meta(DEMO_MARKER_KEY) == "messagerie-demo v1, today=2026-11-27"
    assert by_reference(store)["C2025ADM"]["bid_deadline"] == TEST_SUPPORT_DEADLINE
    documents = rows(store, "document")
    assert documents and all(store.blobs.read(d["sha256"]) for d in documents)
    before = checksum(store)

    again = seed_demo(store, today=TODAY)
    assert again == replace(report, created=False)
    assert checksum(store) == before

    with Session(store.engine) as session:
        added = Organisation(name="Commune de Sessenheim")
        session.add(added)
        session.commit()
        assert added.id == len(rows(store, "organisation"))


@pytest.fixture(scope="module")
def rebuilt_checksum(rebuilt) -> str:
    return checksum(rebuilt)


@ON_THE_MODULES_BUILDS
def test_same_day_gives_identical_data(rebuilt_checksum, demo_checksum):
    assert rebuilt_checksum == demo_checksum


@ON_THE_MODULES_BUILDS
def test_rows_do_not_depend_on_string_hashing(rebuilt_checksum, demo_checksum):
    """Same day, two processes with different hash seeds: the same rows, byte for byte."""
    assert os.environ.get("PYTHONHASHSEED") != OTHER_HASH_SEED  # the run's: random, or set
    assert rebuilt_checksum == demo_checksum


@ON_THE_MODULES_BUILDS
def test_two_installs_share_no_secret(demo, rebuilt):
    """The recipients' tokens and Message-IDs come from the system's random source: another
    install's demo opens none of this one's pages or addresses."""

    def secrets_of(store: Store) -> set[str]:
        return {row[name] for row in rows(store, "recipient") for name in SECRET_COLUMNS}

    first, second = secrets_of(demo), secrets_of(rebuilt)
    assert len(first) == 4 * len(rows(demo, "recipient"))  # none repeated either
    assert first.isdisjoint(second)


@ON_THE_MODULES_BUILDS
def test_reset_restores_the_known_state(tmp_path, demo_url, demo_checksum):
    store = open_store(copy_demo(demo_url, tmp_path), documents_dir=tmp_path / "documents")
    try:
        with store.engine.begin() as connection:
            connection.execute(sa.text("UPDATE consultation SET title = 'Changé' WHERE id = 1"))
            connection.execute(sa.text("DELETE FROM event WHERE id = 1"))
            connection.execute(sa.text("INSERT INTO organisation (name) VALUES ('Ajoutée')"))
        assert not seed_demo(store, today=TODAY).created
        assert checksum(store) != demo_checksum

        assert seed_demo(store, today=TODAY, reset=True).created
        assert checksum(store) == demo_checksum
    finally:
        store.close()


@pytest.mark.parametrize("reset", [False, True])
def test_a_store_with_real_data_is_refused(store, reset):
    with store.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO organisation (name) VALUES ('Ville de Colmar')"))
        connection.execute(
            sa.text(
                "INSERT INTO purchasing_entity (organisation_id, name, sender_email, "
                "postal_address) VALUES (1, 'Marchés', 'marches@colmar.example', '68000 Colmar')"
            )
        )
        connection.execute(
            sa.insert(table("consultation")),
            {
                "reference": "VRAIE-01",
                "title": "Une vraie consultation",
                "object": "Une vraie consultation",
                "procedure": enums.Procedure.ADAPTED,
                "status": S.OPEN,
                "bid_deadline": datetime(2026, 12, 18, 12, tzinfo=PARIS),
                "urgent": False,
                "entity_id": 1,
                "organisation_id": 1,
                "created_at": datetime(2026, 11, 2, 9, tzinfo=PARIS),
                "search_text": "vraie-01",
            },
        )
    with pytest.raises(StoreError, match="données réelles"):
        seed_demo(store, today=TODAY, reset=reset)
    assert [c["reference"] for c in rows(store, "consultation")] == ["VRAIE-01"]
    assert store.meta(DEMO_MARKER_KEY) is None


def test_building_without_a_documents_folder_is_refused_before_any_change(sqlite_url):
    store = open_store(sqlite_url, upgrade=True)
    try:
        with pytest.raises(StoreError, match="dossier des données"):
            seed_demo(store, today=TODAY)
        assert store.meta(DEMO_MARKER_KEY) is None and not rows(store, "consultation")
    finally:
        store.close()


@pytest.mark.parametrize("today", [date(2026, 6, 15), date(2027, 6, 1)])
def test_the_demo_stays_coherent_whichever_day_it_is_built(today):
    tables = build_demo(today)
    now = midnight(today)
    assert len(tables["consultation"]) == 1395
    check_lifecycle(tables["consultation"], now)
    history = [e["at"] for e in tables["register_entry"]] + [e["at"] for e in tables["event"]]
    assert max(history) < now
    assert {r["status"] for r in tables["recipient"]} == set(enums.RecipientStatus)
