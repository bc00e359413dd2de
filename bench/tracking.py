"""'Suivi des messages' with 100,000 recipient rows: open and filter, in the real app.

Builds the demo, then bulk-inserts copies of its messages and recipients (every status)
until the store holds `--rows` recipient rows, a tenth of them in the busiest consultation.
Then, in the real Textual app (headless), times from the action to the painted table:
- open: the tracking screen of that consultation, and the view across all consultations (as
  the demo's support account, who sees every organisation's: every row);
- filter: choosing a status in the filters (a Select: no typing delay involved);
and, in the same run, a plain DataTable loaded with the same rows (every row of the store,
as a naive screen would). Prints medians, the ratio (target ≥ 100×) and the peak RSS of the
process before the plain table (target < 120 MiB). On SQLite, and on PostgreSQL when
MESSAGERIE_TEST_PG_URL (or --pg) names a server. Not a test.

    python bench/tracking.py [--rows 100000] [--runs 11] [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from anywhere

from buyer import SUPPORT, busiest_consultation  # bench/ is this script's folder
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from messagerie.models.demo.builder import seed_demo
from messagerie.models.messages.recipient_secrets import new_secrets
from messagerie.models.messages.tracking import TrackingQuery, tracking_page
from messagerie.models.store.database import Store, open_store
from messagerie.models.store.enums import RecipientStatus
from messagerie.models.store.tables import message, recipient
from messagerie.screens.tracking import TrackingScreen, row_cells
from messagerie.tui.app import MessagerieApp

PER_MESSAGE = 20


def fill(store: Store, total: int) -> int:
    """Copy demo messages and recipients until `total` recipient rows; return the busiest
    consultation, which gets a tenth of the copies."""
    with store.engine.begin() as connection:
        busiest = busiest_consultation(connection)
        messages = [m._asdict() for m in connection.execute(sa.select(message).limit(200))]
        people = [r._asdict() for r in connection.execute(
            sa.select(recipient).where(recipient.c.delivery_state != "held").limit(2000)
        )]  # fmt: skip
        count = connection.execute(sa.select(sa.func.count()).select_from(recipient)).scalar_one()
        for number in range((total - count) // PER_MESSAGE):
            copy = {k: v for k, v in messages[number % len(messages)].items() if k != "id"}
            if number % 10 == 0:
                copy["consultation_id"] = busiest
            message_id = connection.execute(
                sa.insert(message).values(copy).returning(message.c.id)
            ).scalar_one()
            rows = []
            for seat in range(PER_MESSAGE):
                person = dict(people[(number * PER_MESSAGE + seat) % len(people)])
                person.pop("id")
                person.update(
                    message_id=message_id,
                    email=f"{seat}.{person['email']}",
                    resent_from_id=None,
                    **new_secrets("bench"),  # every unique random column, as the app makes
                )
                rows.append(person)
            connection.execute(sa.insert(recipient), rows)
    with store.engine.begin() as connection:
        # What autovacuum (PostgreSQL) does to a live store after such a load; without it the
        # planner, blind to the new rows, scans the table for a consultation's first page.
        for table in ("recipient", "message", "consultation", "company", "reply"):
            connection.execute(sa.text(f"ANALYZE {table}"))
    return busiest


async def time_screen(store: Store, cid: int, runs: int) -> dict[str, list[float]]:
    """Open (one consultation, all) and filter, from the action to the painted table."""
    timings: dict[str, list[float]] = {"open": [], "open_all": [], "filter": []}
    # Support sees every consultation: "all" is then every row, the worst case.
    app = MessagerieApp(open_store=lambda: store, actor=SUPPORT)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(3.0)  # past the app's own start-up work (settings, outbox timer)
        for _ in range(runs):
            for name, scope in (("open", cid), ("open_all", None)):
                screen = TimedTracking(scope)
                timings[name].append(await until_shown(screen, app.push_screen, screen))
                if name == "open":
                    await pilot.press("f")  # the filters, opened (not timed)
                    await pilot.pause(0.2)
                    select = screen.query_one("#filter-status")
                    timings["filter"].append(
                        await until_shown(screen, setattr, select, "value", RecipientStatus.READ)
                    )
                app.pop_screen()
                await pilot.pause(0.05)
    return timings


class TimedTracking(TrackingScreen):
    """The real screen, telling the benchmark when fresh rows are painted."""

    def __init__(self, consultation_id: int | None) -> None:
        super().__init__(consultation_id)
        self.shown = asyncio.Event()

    def on_tracking_screen_shown(self, _: TrackingScreen.Shown) -> None:
        self.shown.set()


async def until_shown(screen: TimedTracking, action, *args) -> float:  # type: ignore[no-untyped-def]
    """Seconds from `action(*args)` to the painted table."""
    screen.shown.clear()
    started = time.perf_counter()
    action(*args)
    await asyncio.wait_for(screen.shown.wait(), timeout=30)
    return time.perf_counter() - started


class PlainTable(App[None]):
    """Every row of the store in one DataTable: what the paged table avoids."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store, self.painted = store, asyncio.Event()

    def compose(self) -> ComposeResult:
        table: DataTable = DataTable()
        for label in ("Statut", "Message", "Destinataire", "Date limite"):
            table.add_column(label)
        yield table

    def load(self) -> None:
        rows = tracking_page(self.store, TrackingQuery(), limit=10**9)
        table = self.query_one(DataTable)
        for row in rows:
            table.add_row(*row_cells(row), height=None)
        self.call_after_refresh(self.painted.set)


async def time_plain(store: Store) -> tuple[float, int]:
    app = PlainTable(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        started = time.perf_counter()
        app.load()
        await asyncio.wait_for(app.painted.wait(), timeout=600)
        return time.perf_counter() - started, app.query_one(DataTable).row_count


def time_poll(store: Store, cid: int, runs: int) -> dict[str, float]:
    """The store call the table repeats every second, filtered on a status: reading the
    changed rows of that status only (before 2026-12-05) and of any status (since: a row
    leaving the filter is then seen), with every row changed since (the worst case)."""
    from dataclasses import replace

    from messagerie.models.messages.tracking import changed_since

    filtered = TrackingQuery(cid, status=RecipientStatus.READ)
    since = datetime(2000, 1, 1, tzinfo=UTC)
    medians = {}
    for name, query in (("poll_status", filtered), ("poll_any", replace(filtered, status=None))):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            changed_since(store, query, since)
            times.append(time.perf_counter() - started)
        medians[name] = statistics.median(times)
    return medians


def measure(url: str, cid: int, runs: int) -> None:
    """In a process of its own (so that its peak RSS is the TUI's, not the builder's): the
    screen's timings and the peak RSS, as one JSON line."""
    store = open_store(url)
    timings = asyncio.run(time_screen(store, cid, runs))
    print(json.dumps({"timings": timings, "rss": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited across exec from the
    parent that built the store)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def bench(url: str, options: argparse.Namespace, documents: Path) -> None:
    store = open_store(url, upgrade=True, documents_dir=documents)
    seed_demo(store, today=date(2026, 11, 27))
    cid = fill(store, options.rows)
    with store.engine.connect() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(recipient)).scalar_one()

    def child(runs: int) -> dict:  # type: ignore[type-arg]
        return json.loads(
            subprocess.run(
                [sys.executable, __file__, "--measure", url, "--cid", str(cid),
                 "--runs", str(runs)],
                check=True, capture_output=True, text=True,
            ).stdout.splitlines()[-1]
        )  # fmt: skip

    once, measured = child(1), child(options.runs)
    timings = measured["timings"]
    polls = time_poll(store, cid, options.runs)
    plain, plain_rows = asyncio.run(time_plain(store))
    open_ms = statistics.median(timings["open"]) * 1000
    print(f"{store.description}: {total} recipient rows, median of {options.runs} runs")
    for name, label in (("open", "open (one consultation)"), ("open_all", "open (all)"),
                        ("filter", "filter (status)")):  # fmt: skip
        print(f"  {label:<24} {statistics.median(timings[name]) * 1000:7.1f} ms "
              f"(target ≤ 150 ms)")  # fmt: skip
    print(f"  poll (filtered on a status, every row changed): {polls['poll_status'] * 1000:.1f} "
          f"ms reading that status, {polls['poll_any'] * 1000:.1f} ms reading any")  # fmt: skip
    print(f"  peak RSS of the TUI      {once['rss']:7.1f} MiB, both views opened and filtered "
          "once (target < 120 MiB)")  # fmt: skip
    print(f"                           {measured['rss']:7.1f} MiB after {options.runs} times")
    print(f"  plain DataTable, {plain_rows} rows: {plain * 1000:9.0f} ms  → "
          f"{plain * 1000 / open_ms:.0f}× slower than the paged open (target ≥ 100×)")  # fmt: skip
    store.close()


def postgres_schema(server: str) -> tuple[str, sa.Engine, str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in server else "?"
    return f"{server}{separator}options={quote(f'-csearch_path={schema}')}", admin, schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--pg", default=os.environ.get("MESSAGERIE_TEST_PG_URL"))
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--cid", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        measure(options.measure, options.cid, options.runs)
        return
    with tempfile.TemporaryDirectory() as folder:
        if options.only != "postgresql":
            bench(f"sqlite:///{folder}/bench.sqlite3", options, Path(folder) / "documents")
        if options.pg and options.only != "sqlite":
            url, admin, schema = postgres_schema(options.pg)
            try:
                bench(url, options, Path(folder) / "documents")
            finally:
                with admin.connect() as connection:
                    connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
