"""Anchoring the histories: `messagerie anchor` and `messagerie verify-store` on a store of
`--rows` recipients (100,000 by default), each with its chained history.

Builds the demo, then copies its recipients with their events (chained as the app chains
them) until the store holds `--rows` recipients. Times, through the real command (its start
included), medians of `--runs`: verify-store with no anchor, writing one anchor, and
verify-store against 1 and then 10 anchors; and reading the newest anchor back, as each AR
drawn does (in process). Prints the anchor's size. On SQLite. Not a test.

    python bench/anchor.py [--rows 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from anywhere

from messagerie.letters.pdf.anchor import last_anchor, write_anchor
from messagerie.letters.pdf.certificate import CertificateSource
from messagerie.letters.pdf.sign import platform_signer
from messagerie.models.clock import utc_now
from messagerie.models.demo.builder import seed_demo
from messagerie.models.messages.recipient_secrets import new_secrets
from messagerie.models.store.chain import HASHED_FIELDS, chain_rows
from messagerie.models.store.database import Store, open_store, store_identity
from messagerie.models.store.tables import event, recipient

BATCH = 2_000


def fill(store: Store, total: int) -> int:
    """Copy recipients that have a history, with their events, until `total` recipients."""
    with store.engine.connect() as connection:
        chained = sa.select(recipient).where(recipient.c.chain_head.is_not(None)).limit(BATCH)
        people = [row._asdict() for row in connection.execute(chained)]
        listed = connection.execute(
            sa.select(event).where(event.c.recipient_id.in_([p["id"] for p in people]))
            .order_by(event.c.id)
        )  # fmt: skip
        history: dict[int, list[dict]] = {}
        for row in listed:
            history.setdefault(row.recipient_id, []).append(
                {name: row._mapping[name] for name in HASHED_FIELDS}
            )
        count = connection.execute(sa.select(sa.func.count()).select_from(recipient)).scalar_one()
    made = 0
    while count + made < total:
        size = min(BATCH, total - count - made)
        copies = []
        for seat in range(size):
            person = {k: v for k, v in people[seat % len(people)].items() if k != "id"}
            person.update(email=f"{made + seat}.{person['email']}", resent_from_id=None,
                          **new_secrets("bench"))  # fmt: skip
            copies.append(person)
        with store.engine.begin() as connection:
            ids = (
                connection.execute(
                    sa.insert(recipient).returning(recipient.c.id, sort_by_parameter_order=True),
                    copies,
                )
                .scalars()
                .all()
            )
            rows = [
                {**listed_event, "recipient_id": new}
                for new, seat in zip(ids, range(size), strict=True)
                for listed_event in history[people[seat % len(people)]["id"]]
            ]
            heads: dict[int, str | None] = {}
            chain_rows(rows, heads)
            connection.execute(sa.insert(event), rows)
            connection.execute(
                sa.update(recipient).where(recipient.c.id == sa.bindparam("rid"))
                .values(chain_head=sa.bindparam("head")),
                [{"rid": rid, "head": head} for rid, head in heads.items()],
            )  # fmt: skip
        made += size
    return count + made


def timed(
    arguments: list[str], env: dict[str, str], runs: int, python: str = sys.executable
) -> float:
    """The median seconds of the `messagerie` command, which must succeed."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([python, "-m", "messagerie.tui.cli", *arguments], env=env, check=True,
                       capture_output=True)  # fmt: skip
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--before", metavar="PYTHON", help="the interpreter of a checkout without anchors, to "
        "time its verify-store on the same store (e.g. /tmp/clone/.venv/bin/python)"
    )  # fmt: skip
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        url = f"sqlite:///{data / 'bench.sqlite3'}"
        store = open_store(url, upgrade=True, documents_dir=data / "documents")
        seed_demo(store, today=date(2026, 11, 27))
        rows = fill(store, options.rows)
        with store.engine.connect() as connection:
            events = connection.execute(sa.select(sa.func.count()).select_from(event)).scalar_one()
        env = {**os.environ, "MESSAGERIE_DB": url, "MESSAGERIE_DATA_DIR": folder,
               "MESSAGERIE_CLAMD": "off"}  # fmt: skip
        anchors = data / "ancrages"
        print(f"{rows} destinataires, {events} événements (SQLite)")
        if options.before:
            before = timed(["verify-store"], env, options.runs, options.before)
            print(f"verify-store avant les ancrages ({options.before}) : {before:.2f} s")
        (data / "vide").mkdir()
        bare = timed(["verify-store", "--ancrages", str(data / "vide")], env, options.runs)
        print(f"verify-store sans ancrage : {bare:.2f} s")
        signer = platform_signer(CertificateSource(demo_dir=data / "signature"))
        started = time.perf_counter()
        written = write_anchor(store, anchors, signer, actor="bench", now=utc_now())
        print(
            f"anchor (écriture, en processus) : {time.perf_counter() - started:.2f} s, "
            f"{written.path.stat().st_size / 1e6:.1f} Mo"
        )
        started = time.perf_counter()
        assert last_anchor(anchors, [signer.certificate], store_identity(store)) is not None
        print(f"dernier ancrage lu et vérifié, pour un AR : {time.perf_counter() - started:.2f} s")
        one = timed(["verify-store"], env, options.runs)
        print(f"verify-store contre 1 ancrage : {one:.2f} s")
        for hour in range(1, 10):
            write_anchor(
                store, anchors, signer, actor="bench", now=utc_now() - timedelta(hours=hour)
            )
        ten = timed(["verify-store"], env, options.runs)
        print(f"verify-store contre 10 ancrages : {ten:.2f} s")
        store.close()


if __name__ == "__main__":
    main()
