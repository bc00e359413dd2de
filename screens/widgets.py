"""Widgets shared by several screens."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from models.errors import Refusal
    from models.store import Store

T = TypeVar("T")


class Footer(TextualFooter):
    """Textual's footer, rebuilt once per burst of binding changes.

    While a screen starts, focus and mounts change its bindings about seven times in a row;
    Textual's footer rebuilds every key each time (≈ 50 ms apiece here), which doubled the time
    to the first frame.
    """

    _rebuild_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        if self._rebuild_pending:
            return
        self._rebuild_pending = True
        self.call_after_refresh(self._rebuild, screen)

    def _rebuild(self, screen: Screen) -> None:
        self._rebuild_pending = False
        super().bindings_changed(screen)


class StoreWork:
    """For screens: run a store call in a worker thread and handle its answer on the UI side.

    A `Refusal` (French message for the buyer) is shown as an error notification and passed
    to `failed`, so the screen keeps what the buyer typed; store faults end the app cleanly
    (MessagerieApp.store_call); anything else is a bug and surfaces.
    """

    def store_task(
        self,
        call: Callable[[Store], T],
        done: Callable[[T], object],
        failed: Callable[[Refusal], object] | None = None,
        *,
        group: str = "store",
    ) -> None:
        screen = cast(Screen, self)
        app = screen.app

        def work() -> None:
            from models.errors import Refusal

            try:
                result = app.store_call(call)  # type: ignore[attr-defined]
            except Refusal as refusal:
                app.call_from_thread(self._refused, refusal, failed)
                return
            if result is not None and not get_current_worker().is_cancelled:
                app.call_from_thread(deliver, result)

        def deliver(result: T) -> None:
            # The buyer may have left the screen meanwhile; `display` is False too while it
            # is being taken down (its widgets already gone).
            if screen.is_attached and screen.display:
                done(result)

        screen.run_worker(work, thread=True, group=group, exclusive=True)

    def _refused(self, refusal: Refusal, failed: Callable[[Refusal], object] | None) -> None:
        cast(Screen, self).notify(str(refusal), title="Impossible", severity="error", timeout=12)
        if failed is not None:
            failed(refusal)
