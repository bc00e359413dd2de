"""The proof bundle's export, serial against parallel, in one run.

A SQLite store holding one consultation and one message sent "avec AR" to N recipients, every
one of them accepted by the relay (E, D) and opened with the page's button (L), so the bundle
holds N signed ARs. The bundle is exported three times: with one worker (the ARs drawn and
signed in this process, one after the other), with one worker process per core, and as the
default chooses for N (no pool for a few ARs, `ARS_PER_WORKER`); the first two
bundles are checked to hold the same entries, and the parallel one to verify (timed: each
recipient's chain recomputed, each AR's PAdES signature validated). Prints both
times, the CPU they took and the machine's load meanwhile (on a shared machine, what other
programs took shows there), and the ratio (target ≤ 0.6× the serial time on 2 cores). Not a
test.

    python bench/export.py [--recipients 1000] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from anywhere

from messagerie.letters.pdf.bundle import ARS_PER_WORKER, MANIFEST, export_bundle, verify_bundle
from messagerie.letters.pdf.certificate import CertificateSource
from messagerie.letters.pdf.sign import PlatformSigner, platform_signer
from messagerie.models.clock import utc_now
from messagerie.models.formatting import paris_time
from messagerie.models.importing.registers import import_file
from messagerie.models.messages.bundle import ar_count, find_consultation
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.form import load_context
from messagerie.models.messages.outbox import claim, record_accepted
from messagerie.models.messages.portal import record_opening
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import queue_message
from messagerie.models.store.database import Store, open_store
from messagerie.models.store.enums import MessageType, SendMode

REFERENCE = "BENCH-EXPORT"


def consultation_file(folder: Path) -> Path:
    """One open consultation, for `messagerie import`."""
    deadline = paris_time(utc_now() + timedelta(days=30), "dd/MM/yyyy HH:mm")
    record = {
        "reference": REFERENCE,
        "title": "Mesure de l'export du lot de preuves",
        "object": "Fournitures de bureau",
        "procedure": "Appel d'offres ouvert",
        "status": "Consultation",
        "bid_deadline": deadline,
        "organisation": "Commune de Mesure",
        "purchasing_entity": "Service de la commande publique",
        "sender_email": "marches@mesure.example",
    }
    path = folder / "consultation.json"
    path.write_text(json.dumps({"consultations": [record]}), encoding="utf-8")
    return path


def opened_store(folder: Path, recipients: int) -> Store:
    """The store: the message queued, accepted by the relay, then opened by every recipient."""
    store = open_store(
        f"sqlite:///{folder}/bench.sqlite3", upgrade=True, documents_dir=folder / "documents"
    )
    import_file(store, consultation_file(folder), actor="bench")
    consultation_id = find_consultation(store, REFERENCE)
    form = replace(
        preset_form(load_context(store, consultation_id), MessageType.FREE),
        send_mode=SendMode.WITH_AR,
        body="Bonjour,\n\nMesure de l'export du lot de preuves.",
        recipients=tuple(DraftRecipient(f"r{n}@entreprise.example") for n in range(recipients)),
    )
    queue_message(store, form, actor="bench")
    for batch in claim(store, limit=recipients):
        for one in batch.recipients:
            record_accepted(store, one.id, answer="250 2.0.0 Ok", final_mailbox=True)
            record_opening(store, one.id, client_address="203.0.113.7", user_agent="Mozilla/5.0")
    return store


def entries(bundle: Path) -> list[str]:
    with zipfile.ZipFile(bundle) as archive:
        return [file["path"] for file in json.loads(archive.read(MANIFEST))["files"]]


@dataclass(frozen=True)
class Measure:
    wall: float  # seconds
    cpu: float  # CPU seconds of this process and of the worker processes it waited for
    load: float  # mean 1-minute load average meanwhile: the cores other programs wanted too

    def line(self, label: str, ars: int) -> str:
        return (
            f"  {label:<30} {self.wall:7.1f} s ({self.wall / ars * 1000:.0f} ms per AR; "
            f"CPU {self.cpu:.0f} s; load average {self.load:.1f})"
        )


def cpu_seconds() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_export(store: Store, out: Path, signer: PlatformSigner, workers: int | None) -> Measure:
    """One export, with the machine's load sampled every 5 s while it runs (the machine may be
    shared: a figure without its load says little)."""
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(5):
            samples.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample, daemon=True)
    cpu, started = cpu_seconds(), time.perf_counter()
    sampler.start()
    try:
        summary = export_bundle(store, REFERENCE, out, signer=signer, max_workers=workers)
    finally:
        stop.set()
    wall = time.perf_counter() - started
    sampler.join()
    load = statistics.mean(samples) if samples else os.getloadavg()[0]
    assert summary.ars == ar_count(store, find_consultation(store, REFERENCE)), summary
    return Measure(wall, cpu_seconds() - cpu, load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    options = parser.parse_args()
    ars, cores = options.recipients, os.cpu_count()
    serial: list[Measure] = []
    parallel: list[Measure] = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        store = opened_store(folder, ars)
        print(f"Store with {ars} opened recipients built in "
              f"{time.perf_counter() - started:.1f} s; {cores} cores", flush=True)  # fmt: skip
        signer = platform_signer(CertificateSource(demo_dir=folder / "signature"))
        for _ in range(options.runs):
            serial.append(timed_export(store, folder / "serial.zip", signer, 1))
            print(serial[-1].line("serial (max_workers=1)", ars), flush=True)
            parallel.append(timed_export(store, folder / "parallel.zip", signer, cores))
            print(parallel[-1].line(f"parallel ({cores} worker processes)", ars), flush=True)
            chosen = min(cores or 1, ars // ARS_PER_WORKER)
            default = timed_export(store, folder / "default.zip", signer, None)
            print(default.line(f"default ({chosen} for {ars} ARs)", ars), flush=True)
            assert entries(folder / "serial.zip") == entries(folder / "parallel.zip")
            checking = time.perf_counter()
            assert verify_bundle(folder / "parallel.zip", signer.certificate).intact
            print(f"verify (chains, every AR's signature)  {time.perf_counter() - checking:6.1f} s",
                  flush=True)  # fmt: skip
        store.close()
    wall = statistics.median(p.wall for p in parallel) / statistics.median(s.wall for s in serial)
    cpu = statistics.median(p.cpu for p in parallel) / statistics.median(s.cpu for s in serial)
    print(f"Bundle of {ars} ARs, median of {options.runs} run(s):")
    print(f"  ratio parallel / serial        {wall:7.2f}× (target ≤ 0.6× on 2 cores)")
    print(f"  CPU parallel / serial          {cpu:7.2f}× (what the workers cost besides the "
          "ARs: start, imports, pickling)")  # fmt: skip


if __name__ == "__main__":
    main()
