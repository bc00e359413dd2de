"""What a keystroke in the message form costs the app, at 80×24 on the demo.

Builds the demo on a SQLite file, opens the real application headless (Textual's Pilot), opens
"Messagerie sécurisée" on a consultation with dépôts, then types a subject and a body key by
key, as a buyer does (the live checks run after each pause, as they do when typing), and goes
round the form with Tab. Prints, per keystroke, the median CPU time of the process and how
many times the screen was laid out again (Screen._refresh_layout, a scroll's reflow included:
what a keystroke that changes nothing on screen but the field should not need). Not a test:
it prints medians.

    python bench/form_typing.py [--runs 5] [--keys 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from textual.screen import Screen
from textual.widgets import Input, TextArea

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from anywhere

from buyer import BUYER  # bench/ is this script's folder

from messagerie.models.consultations.detail import consultation_detail
from messagerie.models.demo.builder import seed_demo
from messagerie.models.store.accounts import ConsultationNotFound, load_account
from messagerie.models.store.database import open_store
from messagerie.models.store.enums import RegisterKind
from messagerie.models.store.tables import register_entry
from messagerie.screens.consultation import ConsultationScreen
from messagerie.screens.message_form import MessageFormScreen
from messagerie.tui.app import MessagerieApp

TEXT = "Précisions sur le lot 2 : visite des locaux, planning et pénalités de retard. "


class LayoutCounter:
    """Counts the whole-screen layouts (the cost a keystroke should not pay)."""

    def __init__(self) -> None:
        self.count = 0
        original = Screen._refresh_layout

        def counted(screen, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.count += 1
            return original(screen, *args, **kwargs)

        Screen._refresh_layout = counted  # type: ignore[method-assign]


def consultation_with_deposits(store) -> int:  # type: ignore[no-untyped-def]
    """The buyer's first consultation with a dépôt (the form then has recipients to check)."""
    with store.engine.connect() as connection:
        ids = (
            connection.execute(
                sa.select(register_entry.c.consultation_id)
                .where(register_entry.c.kind == RegisterKind.DEPOSIT)
                .order_by(register_entry.c.consultation_id)
                .distinct()
            )
            .scalars()
            .all()
        )
        account = load_account(connection, BUYER)
    for cid in ids:
        try:
            consultation_detail(store, cid, account=account)
        except ConsultationNotFound:  # another entity's: not hers
            continue
        return cid
    raise SystemExit("no consultation of the buyer with a dépôt in the demo")


async def pause_checks(pilot, form: MessageFormScreen) -> None:  # type: ignore[no-untyped-def]
    """Until the live checks have run (they wait for a short quiet time after typing)."""
    await pilot.pause()
    while getattr(form, "checks_due", False):
        await asyncio.sleep(0.05)
    await pilot.pause()


async def measure(store, cid: int, runs: int, keys: int, counter: LayoutCounter):  # type: ignore[no-untyped-def]
    app = MessagerieApp(open_store=lambda: store, actor=BUYER)
    samples: dict[str, list[tuple[float, float]]] = {"Objet": [], "Corps": [], "Tab": []}
    async with app.run_test(size=(80, 24), notifications=True) as pilot:  # as the app runs
        await pilot.pause()
        app.push_screen(ConsultationScreen(cid))
        await asyncio.sleep(1)
        await pilot.press("m")
        while not isinstance(app.screen, MessageFormScreen) or app.screen.context is None:
            await asyncio.sleep(0.05)
        form = app.screen
        await pause_checks(pilot, form)
        text = (TEXT * (keys // len(TEXT) + 1))[:keys]
        for _ in range(runs):
            for label, field in (
                ("Objet", form.query_one("#subject", Input)),
                ("Corps", form.query_one("#body", TextArea)),
            ):
                field.focus()
                field.clear()
                await pause_checks(pilot, form)
                layouts, cpu = counter.count, time.process_time()
                for char in text:
                    await pilot.press(char)
                await pause_checks(pilot, form)
                samples[label].append(
                    ((time.process_time() - cpu) / keys, (counter.count - layouts) / keys)
                )
            form.query_one("#subject", Input).focus()
            await pause_checks(pilot, form)
            layouts, cpu = counter.count, time.process_time()
            for _ in range(keys):  # the focus goes round the form, scrolling it
                await pilot.press("tab")
            await pause_checks(pilot, form)
            samples["Tab"].append(
                ((time.process_time() - cpu) / keys, (counter.count - layouts) / keys)
            )
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-form-typing-") as name:
        folder = Path(name)
        store = open_store(
            f"sqlite:///{folder / 'demo.sqlite3'}", upgrade=True, documents_dir=folder / "documents"
        )
        seed_demo(store, today=date(2026, 11, 27))  # the same demo whatever the day
        cid = consultation_with_deposits(store)
        counter = LayoutCounter()
        samples = asyncio.run(measure(store, cid, args.runs, args.keys, counter))
        store.close()
    print(f"{args.keys} keys typed {args.runs} times in each field, 80×24, consultation {cid}:")
    for label, values in samples.items():
        cpu = statistics.median(value[0] for value in values)
        layouts = statistics.median(value[1] for value in values)
        print(f"  {label:5} : {cpu * 1000:6.1f} ms of CPU per key, {layouts:.2f} layouts per key")


if __name__ == "__main__":
    main()
