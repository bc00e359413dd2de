"""What every screen of the app stands on: store calls in workers, and the application typed.

Screens reach the app's services (actor, clock, settings, store) and its navigation
(`open_consultation`, `open_form`… in tui/navigation.py) through `self.app`, typed here: a
screen never imports another screen to open it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar, cast, runtime_checkable

from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Input, TextArea
from textual.worker import get_current_worker

from messagerie.screens.french import HELP_KEY, FrenchBindings
from messagerie.screens.rights import RightsChecked
from messagerie.screens.widgets import Footer, notify_literal

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from messagerie.models.errors import Refusal
    from messagerie.models.store.database import Store
    from messagerie.tui.app import MessagerieApp

T = TypeVar("T")
ResultType = TypeVar("ResultType")


@dataclass(frozen=True)
class Unsaved:
    """What a screen holds that the store does not, and would be lost if the app ended now."""

    what: str  # in French, for the question asked before quitting: « le message « … » »
    reference: str | None = None  # the consultation's, when known
    # Keeps it in the store (store, actor, at_hang_up); None when it cannot be kept as it
    # stands (a register line half typed, the DCE's pieces being changed).
    keep: Callable[[Store, str, bool], object] | None = None
    # Where the buyer finds it again once kept, or, when it cannot be kept here, how to keep
    # it: a sentence.
    found: str = ""


@runtime_checkable
class HoldsWork(Protocol):
    """A screen with typing or changes not saved: Ctrl+Q asks before they are lost, and a
    terminal that goes away keeps what can be kept."""

    def unsaved(self) -> Unsaved | None: ...


class StoreWork(RightsChecked):
    """For screens: run a store call in a worker thread and handle its answer on the UI side.

    A `Refusal` (French message for the buyer) is shown as an error notification and passed
    to `failed`, so the screen keeps what the buyer typed (`notify=False`: `failed` shows it
    itself, in the dialog it opens again, and it is said once); store faults end the app
    cleanly (MessagerieApp.store_call); anything else is a bug and surfaces.
    """

    def store_task(
        self,
        call: Callable[[Store], T],
        done: Callable[[T], object],
        failed: Callable[[Refusal], object] | None = None,
        *,
        group: str = "store",
        notify: bool = True,
    ) -> None:
        screen = cast("StoreScreen[object]", self)
        app = screen.app

        def work() -> None:
            from messagerie.models.errors import Refusal

            try:
                result = app.store_call(call)
            except Refusal as refusal:
                app.call_from_thread(self._refused, refusal, failed, notify)
                return
            if result is not None and not get_current_worker().is_cancelled:
                app.call_from_thread(deliver, result)

        def deliver(result: T) -> None:
            # The buyer may have left the screen meanwhile; `display` is False too while it
            # is being taken down (its widgets already gone).
            if screen.is_attached and screen.display:
                done(result)

        screen.run_worker(work, thread=True, group=group, exclusive=True)

    def _refused(
        self, refusal: Refusal, failed: Callable[[Refusal], object] | None, notify: bool
    ) -> None:
        if notify:
            notify_literal(
                cast(Screen, self), str(refusal), title="Impossible", severity="error", timeout=12
            )
        if failed is not None:
            failed(refusal)


class StoreScreen(StoreWork, FrenchBindings, Screen[ResultType]):
    """A screen of the app: the header, its own widgets (`compose_body`), the compact
    footer."""

    # Actions bound, with priority, to a printable key that moves the focus to a text field
    # (« / » → the search): a binding without priority runs only once its key has bubbled up
    # from the focused widget, and by then the app has routed the next keys of the same burst
    # (a paste, a fast typist, SSH) to that widget, where they were lost (issue 18). While a
    # text field has the focus, the key is typed there instead.
    FIELD_KEYS: ClassVar[frozenset[str]] = frozenset()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.FIELD_KEYS and isinstance(self.focused, (Input, TextArea)):
            return False
        return super().check_action(action, parameters)

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        """What the screen shows between its header and its footer."""
        yield from ()

    @property
    def app(self) -> MessagerieApp:
        return cast("MessagerieApp", super().app)


class StoreModal(StoreWork, FrenchBindings, ModalScreen[ResultType]):
    """A dialog of the app that calls the store."""

    BINDINGS = [HELP_KEY]

    @property
    def app(self) -> MessagerieApp:
        return cast("MessagerieApp", super().app)
