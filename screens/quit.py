"""Leaving while a screen holds work the store does not (Ctrl+Q, or Échap in the message form
and the Q/A editor): ask first, and keep what can be kept. Ctrl+Q used to end the app at
once, with twenty minutes of a letter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Static

from messagerie.models.text import cut
from messagerie.screens.base import HoldsWork, StoreModal, Unsaved
from messagerie.screens.widgets import back_key, dialog_box, literal

if TYPE_CHECKING:
    from textual.screen import Screen

    from messagerie.models.store.database import Store


def unsaved_work(stack: Sequence[Screen[object]]) -> tuple[Unsaved, ...]:
    """What each screen of the stack would lose, the oldest screen first."""
    found = (screen.unsaved() for screen in stack if isinstance(screen, HoldsWork))
    return tuple(unsaved for unsaved in found if unsaved is not None)


def leave_or_ask(
    screen: Screen[object], unsaved: Unsaved | None, title: str, leave: Callable[[bool], object]
) -> None:
    """Échap on a screen holding `unsaved`: `leave(False)` at once when it holds nothing,
    else after the dialog `title` (`leave(True)` once kept)."""
    if unsaved is None:
        leave(False)
        return
    screen.app.push_screen(QuitDialog([unsaved], title=title, leave=leave))


def how_to_keep(goal: str, action: str) -> str:
    """The hint for work this dialog cannot keep: « Pour garder la ligne : Annuler (Échap),
    puis Enregistrer (^s). »"""
    return f"{goal} : Annuler (Échap), puis {action} (^s)."


def where_kept(kept: Sequence[Unsaved]) -> str:
    """Where the buyer finds again what « Enregistrer » keeps, or how to keep what it cannot,
    each kind said once."""
    return "\n".join(dict.fromkeys(one.found for one in kept if one.found))


def listed(unsaved: Sequence[Unsaved]) -> str:
    lines = []
    for one in unsaved:
        where = f" — {cut(one.reference, 30)}" if one.reference else ""
        lost = "" if one.keep else " (impossible à enregistrer d'ici)"  # any gender, number
        lines.append(f"• {one.what}{where}{lost}")
    return "\n".join(lines)


class QuitDialog(StoreModal[None]):
    """Leaving with work unsaved (Ctrl+Q: the app; Échap: a screen): keep it and leave,
    leave without it, or stay."""

    BINDINGS = [
        Binding("e", "keep", "Enregistrer et quitter"),
        Binding("q", "drop", "Quitter sans enregistrer"),
        back_key("dismiss(None)", "Annuler"),
    ]

    def __init__(
        self,
        unsaved: Sequence[Unsaved],
        *,
        title: str = "Quitter l'application",
        leave: Callable[[bool], object] | None = None,
    ) -> None:
        """`leave(kept)` once the buyer chose to keep (True) or not (False); by default the
        app ends, naming what was kept."""
        super().__init__()
        self.work = tuple(unsaved)
        self.keepable = tuple(one for one in self.work if one.keep is not None)
        self.title_text, self.leave = title, leave
        self.keeping = False

    def compose(self) -> ComposeResult:
        with dialog_box(self.title_text):
            yield Static(literal("Pas encore enregistré :\n" + listed(self.work)))
            if hints := where_kept(self.work):
                yield Static(literal(hints))
            with Horizontal(classes="buttons"):
                if self.keepable:
                    yield Button("Enregistrer et quitter (e)", id="keep", variant="primary",
                                 compact=True)  # fmt: skip
                yield Button("Ne pas enregistrer (q)", id="drop", variant="error",
                             compact=True)  # fmt: skip
                yield Button("Annuler (Échap)", id="stay", compact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "keep" and not self.keepable:
            return False
        return super().check_action(action, parameters)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        actions = {"keep": self.action_keep, "drop": self.action_drop}
        actions.get(event.button.id or "", lambda: self.dismiss(None))()

    def action_keep(self) -> None:
        """Keep everything in one worker, then leave; a refusal leaves nothing, and what
        was typed stays on the screen."""
        if not self.keepable or self.keeping:
            return
        self.keeping = True
        actor = self.app.actor

        def keep_all(store: Store) -> bool:
            for one in self.keepable:
                assert one.keep is not None
                one.keep(store, actor, False)
            return True

        self.store_task(keep_all, lambda _: self.done(True),
                        failed=lambda _: setattr(self, "keeping", False))  # fmt: skip

    def action_drop(self) -> None:
        self.done(False)

    def done(self, kept: bool) -> None:
        if self.leave is None:
            said = f"Enregistré :\n{listed(self.keepable)}\n{where_kept(self.keepable)}"
            self.app.exit(message=said if kept else None)
            return
        self.dismiss(None)
        self.leave(kept)

    def quit_again(self) -> None:
        """Ctrl+Q pressed again: the buyer wants out, and what can be kept is kept."""
        if self.keepable:
            self.action_keep()
