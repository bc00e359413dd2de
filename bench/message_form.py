"""What the message form costs the store with 100,000 messages in it.

Builds the demo on a SQLite file, then copies its messages (with their recipients) until the
store holds `--messages` of them, a tenth of the copies being rejection letters of the busiest
consultation (the worst case of LEGAL rule 8's query). Then times, on that consultation:
- opening the form: load_context (consultation, registers, candidates, rejections, askers);
- one live check: check_form, as run after each pause in typing;
- Envoyer: queue_message (checks again, then one transaction);
- the first Ctrl+E of a rejection: rejected_before (who was rejected already), on the
  consultation's register addresses;
- the app's start: kept_at_hang_up (drafts kept when a terminal went away) and
  answers_kept_at_hang_up (answers to all kept so);
- a 40-page Q/A PDF attached (LEGAL rule 4 looks for the askers in it): reading it (once:
  Envoyer finds it read when the form read it), looking for the consultation's askers in its
  text (once: kept for the live checks), a live check and Envoyer with it.
Not a test: it prints medians.

    python bench/message_form.py [--messages 100000] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from anywhere

from buyer import BUYER, busiest_consultation  # bench/ is this script's folder

from messagerie.models.consultations.answer_drafts import answers_kept_at_hang_up
from messagerie.models.demo.builder import seed_demo
from messagerie.models.messages.drafts import kept_at_hang_up
from messagerie.models.messages.files import read_attachments
from messagerie.models.messages.form import asker_leaks, check_form, load_context
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import queue_message
from messagerie.models.messages.rejections import rejected_before
from messagerie.models.rules.document_text import document_text
from messagerie.models.store.database import open_store
from messagerie.models.store.documents import PDF, DocumentInfo, store_document
from messagerie.models.store.enums import DocumentOrigin, MessageState, MessageType
from messagerie.models.store.tables import message


def fill(store, total: int) -> int:  # type: ignore[no-untyped-def]
    """Copy the demo's messages until there are `total`; return the busiest consultation."""
    with store.engine.begin() as connection:
        busiest = busiest_consultation(connection)
        template = connection.execute(sa.select(message).limit(1)).one()._asdict()
        count = connection.execute(sa.select(sa.func.count()).select_from(message)).scalar_one()
        rows = []
        for number in range(total - count):
            row = {key: value for key, value in template.items() if key != "id"}
            if number % 10 == 0:
                row.update(consultation_id=busiest, type=MessageType.REJECTION)
            row.update(state=MessageState.QUEUED, queued_at=datetime.now(UTC))
            rows.append(row)
        for start in range(0, len(rows), 5000):
            connection.execute(sa.insert(message), rows[start : start + 5000])
    return busiest


def qa_document(store, cid: int) -> DocumentInfo:  # type: ignore[no-untyped-def]
    """A 40-page Q/A document, as a buyer attaches one, stored."""
    from weasyprint import HTML

    pages = "".join(
        f'<h2 style="page-break-before: always">Question {n}</h2><p>'
        + "Le candidat demande si la variante est autorisée pour ce lot. " * 40
        + "</p><p>Réponse : oui, dans les conditions du règlement de consultation.</p>"
        for n in range(1, 41)
    )
    return store_document(
        store, store.blobs, filename="questions-reponses.pdf",
        data=HTML(string=f"<html><body>{pages}</body></html>").write_pdf(),
        origin=DocumentOrigin.ATTACHMENT, consultation_id=cid, actor=BUYER,
    )  # fmt: skip


def median_ms(call, runs: int) -> float:  # type: ignore[no-untyped-def]
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url, documents = f"sqlite:///{folder}/bench.sqlite3", Path(folder) / "documents"
        store = open_store(url, upgrade=True, documents_dir=documents)
        seed_demo(store, today=date(2026, 11, 27))
        cid = fill(store, options.messages)
        context = load_context(store, cid)
        form = replace(
            preset_form(context, MessageType.CANCELLATION),
            body="Bonjour,\n\nLa procédure est déclarée sans suite.",
            mentions={"reasons": "Besoin disparu"},
        )
        now = datetime.now(UTC)
        with store.engine.connect() as connection:
            total = connection.execute(sa.select(sa.func.count()).select_from(message)).scalar()
            rejections = connection.execute(
                sa.select(sa.func.count()).where(
                    message.c.consultation_id == cid, message.c.type == MessageType.REJECTION
                )
            ).scalar()
        print(
            f"{total:,} messages; consultation {context.detail.identity.reference}, "
            f"{len(context.addresses)} register addresses, {rejections:,} rejection letters"
        )
        emails = [address.email for address in context.addresses]
        qa = qa_document(store, cid)
        with_qa = replace(form, attachment_ids=(qa.id,))
        readings = read_attachments(store, [qa], context.askers)
        (text,) = (reading.text or "" for reading in readings)
        print(f"Q/A PDF: {qa.size:,} bytes, {len(text):,} characters, {len(context.askers)} askers")
        for label, call in (
            ("open the form (load_context)", lambda: load_context(store, cid)),
            ("one live check (check_form)", lambda: check_form(form, context, now)),
            ("Envoyer (queue_message)", lambda: queue_message(store, form, actor=BUYER)),
            ("rejected_before", lambda: rejected_before(store, cid, (), emails, actor=BUYER)),
            ("start (kept_at_hang_up)", lambda: kept_at_hang_up(store, actor=BUYER)),
            (
                "start (answers_kept_at_hang_up)",
                lambda: answers_kept_at_hang_up(store, actor=BUYER),
            ),
            ("read the Q/A PDF", lambda: document_text(store.blobs.read(qa.sha256), PDF)),
            ("askers in it", lambda: asker_leaks(text, context.askers)),
            ("live check with it", lambda: check_form(with_qa, context, now, readings)),
            ("Envoyer with it", lambda: queue_message(store, with_qa, actor=BUYER)),
        ):
            print(f"{label + ':':34}{median_ms(call, options.runs):7.2f} ms")
        store.close()


if __name__ == "__main__":
    main()
