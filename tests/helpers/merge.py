"""Mail merge ("Publipostage") driven from the consultation screen; also a pytest plugin (a
module asks for its fixture with `pytest_plugins = ["tests.helpers.merge"]`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from textual.pilot import Pilot
from textual.widgets import Input

from messagerie.models.consultations.registers import list_register
from messagerie.models.store.database import Store, open_store
from messagerie.models.store.enums import MessageState, MessageType, RegisterKind
from messagerie.models.store.tables import Consultation, Document, Message, table_of
from messagerie.screens.consultation import ConsultationScreen
from messagerie.screens.merge import MergeScreen
from tests.helpers.accounts import DEMO_READER
from tests.helpers.pilot import settle


@pytest.fixture
def fixed_demo(demo_url: str, tmp_path: Path) -> Iterator[Store]:
    """A copy of the demo built for a fixed day: the same screen every day."""
    copy = tmp_path / "demo.sqlite3"
    shutil.copyfile(demo_url.removeprefix("sqlite:///"), copy)
    store = open_store(f"sqlite:///{copy}", documents_dir=tmp_path / "documents")
    yield store
    store.close()


async def run_merge(pilot: Pilot, cid: int, path: Path) -> MergeScreen:
    """Open the merge screen of consultation `cid` and load the analysis file at `path`."""
    await settle(pilot)
    pilot.app.push_screen(ConsultationScreen(cid))
    await settle(pilot)
    await pilot.press("r")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MergeScreen)
    screen.query_one("#path", Input).value = str(path)
    await pilot.press("enter")
    for _ in range(4):
        await settle(pilot)
    return screen


def deposits(store: Store, cid: int) -> list[tuple[str, tuple[int, ...]]]:
    """The consultation's dépôts as its register shows them: (company, lot numbers; none for
    every lot), in register order."""
    page = list_register(store, cid, RegisterKind.DEPOSIT, actor=DEMO_READER, per_page=1000)
    return [(row.company_name, row.lot_numbers) for row in page.rows]


def bidders_for(store: Store, cid: int, lot: int) -> list[str]:
    """The companies a dépôt of which covers `lot`, in register order, each once."""
    found = [company for company, lots in deposits(store, cid) if not lots or lot in lots]
    return list(dict.fromkeys(found))


def queued_rejections(store: Store, cid: int) -> int:
    """How many rejection messages of the consultation wait in the outbox or went out."""
    message = table_of(Message)
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).where(
                message.c.consultation_id == cid,
                message.c.type == MessageType.REJECTION,
                message.c.state == MessageState.QUEUED,
            )
        ).scalar_one()


def letters_kept(store: Store, cid: int) -> int:
    """How many documents (the letters drawn) the consultation's space holds."""
    document = table_of(Document)
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).where(document.c.consultation_id == cid)
        ).scalar_one()


def consultation_id(store: Store, reference: str) -> int:
    consultation = table_of(Consultation)
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(consultation.c.id).where(
                consultation.c.reference == reference, consultation.c.parent_id.is_(None)
            )
        ).scalar_one()
