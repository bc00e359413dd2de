"""Benchmark of `messagerie demo --reset`: seed_demo(reset=True), migrations included.

A first, untimed seed builds the demo; each timed run then empties it (migrations down and
up) and builds it again, as `demo --reset` does on a store that holds the demo. It runs on a
SQLite file in a temporary folder and, when MESSAGERIE_TEST_PG_URL names a PostgreSQL server,
in a throwaway schema there too. Not a test: it prints figures.

    python bench/demo_reset.py [--runs 3] [--today 2026-11-27]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from anywhere

from messagerie.models.demo.builder import seed_demo
from messagerie.models.store.database import open_store

TARGET_SECONDS = 10
PG_URL_VARIABLE = "MESSAGERIE_TEST_PG_URL"


def time_resets(url: str, documents: Path, today: date, runs: int) -> list[float]:
    """Seconds taken by each of `runs` resets of the demo stored at `url` (its files in
    `documents`)."""
    store = open_store(url, upgrade=True, documents_dir=documents)
    try:
        seed_demo(store, today=today)
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            seed_demo(store, today=today, reset=True)
            timings.append(time.perf_counter() - started)
        return timings
    finally:
        store.close()


def print_figures(label: str, timings: list[float]) -> None:
    print(
        f"{label}: median {statistics.median(timings):.2f} s over {len(timings)} runs "
        f"(target ≤ {TARGET_SECONDS} s)"
    )
    print("    runs: " + ", ".join(f"{seconds:.2f} s" for seconds in timings))


@contextmanager
def postgres_schema(server_url: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema of the server, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in server_url else "?"
        yield f"{server_url}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 11, 27))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'demo.sqlite3'}"
        documents = Path(folder) / "documents"
        print_figures("demo --reset", time_resets(url, documents, args.today, args.runs))
        server_url = os.environ.get(PG_URL_VARIABLE)
        if server_url:
            with postgres_schema(server_url) as url:
                timings = time_resets(url, documents, args.today, args.runs)
                print_figures("demo --reset (PostgreSQL)", timings)
        else:
            print(f"PostgreSQL skipped: {PG_URL_VARIABLE} is not set.")


if __name__ == "__main__":
    main()
