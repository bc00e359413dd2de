"""The embedded default: with no relay configured, the TUI runs, in its own process, a local
final mailbox (aiosmtpd, a free port on 127.0.0.1, a Maildir under the data folder) and the
recipients' web page (uvicorn on 127.0.0.1), and sends through that mailbox itself. A demo
then shows the whole E → D → L → R loop on one machine; a deployment replaces each part
(README, "Déploiement").
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from messagerie.tui.settings import Settings

EMBEDDED_OUTBOX_EVERY = 3.0  # seconds: the demo shows E and D soon after the send


def free_port(preferred: int = 0) -> int:
    """`preferred` when nothing listens on it, else any free port of 127.0.0.1."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


@dataclass
class Embedded:
    """The local mailbox and web page, started in background threads."""

    settings: Settings  # as the app uses them: relay and links point here
    smtp_port: int
    portal_port: int
    stoppers: list[Callable[[], None]] = field(default_factory=list)
    problem: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)  # started, or failed

    def start(self) -> None:
        """Start both services (in the calling thread's background); a failure is kept in
        `problem` for the app to show, never raised."""
        try:
            self._start_mailbox()
            self._start_portal()
        except Exception as error:  # a port taken meanwhile, a broken data folder
            self.problem = f"Services locaux de démonstration indisponibles : {error}"
        finally:
            self.ready.set()

    def _start_mailbox(self) -> None:
        from aiosmtpd.controller import Controller

        from messagerie.letters.mail.mailbox import MailboxHandler

        controller = Controller(
            MailboxHandler(self.settings.mailbox_dir), hostname="127.0.0.1", port=self.smtp_port
        )
        controller.start()
        self.stoppers.append(controller.stop)

    def _start_portal(self) -> None:
        import uvicorn

        from messagerie.models.store.database import open_store
        from messagerie.tui import services

        store = open_store(self.settings.database_url, documents_dir=self.settings.documents_dir)
        server = uvicorn.Server(
            uvicorn.Config(
                services.portal(store, self.settings),
                host="127.0.0.1",
                port=self.portal_port,
                log_level="warning",
            )
        )
        thread = threading.Thread(target=server.run, name="portal", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)

        def stop_portal() -> None:
            server.should_exit = True
            thread.join(timeout=5)
            store.close()

        if not server.started:
            stop_portal()
            raise OSError(f"la page web n'a pas démarré sur le port {self.portal_port}")
        self.stoppers.append(stop_portal)

    def stop(self) -> None:
        while self.stoppers:
            self.stoppers.pop()()


def embed(settings: Settings) -> tuple[Settings, Embedded | None]:
    """With no MESSAGERIE_SMTP_URL: the settings pointing at the local services, and those
    services (not started yet). Otherwise the settings unchanged and None."""
    if settings.smtp_url:
        return settings, None
    smtp_port = free_port()
    portal_port = free_port(settings.portal_port)
    local = settings.model_copy(
        update={
            "smtp_url": f"smtp://127.0.0.1:{smtp_port}?final=1",
            "portal_host": "127.0.0.1",
            "portal_port": portal_port,
            "outbox_in_tui": True,
            "outbox_every": min(settings.outbox_every, EMBEDDED_OUTBOX_EVERY),
        }
    )
    return local, Embedded(local, smtp_port, portal_port)
