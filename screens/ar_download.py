""" "Télécharger l'AR (PDF)" of one recipient, from the tracking table and from la loupe (the
guide: « en allant sur la loupe puis télécharger en format PDF pour générer l'AR »)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.binding import Binding

from messagerie.models.atomic_write import write_whole
from messagerie.models.errors import Refusal, write_problem
from messagerie.screens.base import StoreScreen
from messagerie.screens.dialogs import WriteFailed, ask_for_path
from messagerie.screens.widgets import notify_literal

# The key that downloads it, in the tracking table and in la loupe.
AR_KEY = Binding("p", "ar", "AR", tooltip="Télécharger l'AR du destinataire (PDF)")


def download_ar(screen: StoreScreen[Any], recipient_id: int) -> None:
    """Ask where to write the signed AR of `recipient_id`, then write it off the UI thread.
    Before any opening there is nothing to prove: the store's refusal is shown and nothing
    is asked."""
    from messagerie.letters.pdf.ar import ar_filename, signed_ar
    from messagerie.models.messages.ar import ar_data

    def ask(data) -> None:  # type: ignore[no-untyped-def]
        def write(path: Path, failed: WriteFailed) -> None:
            write_off_thread(
                screen,
                path,
                lambda: write_whole(path, signed_ar(data, screen.app.platform_signer())),
                f"AR écrit dans « {path} ».",
                failed,
            )

        ask_for_path(
            screen, "Télécharger l'AR (PDF)", "Enregistrer l'AR sous :",
            ar_filename(data), write,
        )  # fmt: skip

    app = screen.app  # its account read once the store is open: signed in by then
    screen.store_task(
        lambda store: ar_data(
            store, recipient_id, account=app.account, anchor=app.last_anchor(store)
        ),
        ask,
        group="ar",
    )


def write_off_thread(
    screen: StoreScreen[Any],
    path: Path,
    work: Callable[[], object],
    done: str,
    failed: WriteFailed,
) -> None:
    """A file to write to `path` (PDF rendering included) off the UI thread; what went
    wrong goes to `failed`, in French."""
    app = screen.app

    def run() -> None:
        try:
            work()
        except OSError as error:
            app.call_from_thread(failed, write_problem(path, error))
        except Refusal as refusal:
            app.call_from_thread(failed, str(refusal))
        else:
            app.call_from_thread(notify_literal, screen, done, title="Fichier écrit")

    screen.run_worker(run, thread=True, group="write")
