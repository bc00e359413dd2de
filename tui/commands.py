"""Command palette entries: one per key binding of our screens and widgets, in French."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual import actions
from textual.app import SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen

from messagerie.screens.french import key_name
from messagerie.screens.rights import refusal

OUR_PACKAGES = ("messagerie.screens.", "messagerie.tui.")


def own_bindings(node: DOMNode) -> Iterator[Binding]:
    """Bindings declared by our own classes (not those Textual's widgets bring)."""
    for cls in type(node).__mro__:
        if cls.__module__.startswith(OUR_PACKAGES):
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.description:
                    yield binding


def binding_commands(screen: Screen) -> Iterator[SystemCommand]:
    """Every described binding of the app, the screen and its widgets, as a palette entry.

    The entry is titled with the binding's tooltip (the platform's full label) when it has
    one, its short footer description otherwise; its help names the key in French, and
    why the account may not run it when it lacks the right (the app then tells it instead).
    """
    seen: set[str] = set()
    for node in (screen.app, screen, *screen.query("*")):
        for binding in own_bindings(node):
            title = binding.tooltip or binding.description
            if title in seen:
                continue
            seen.add(title)
            key = key_name(binding.key)  # in words: "Ctrl+G", not the footer's "^g"
            reason = refusal(node, *actions.parse(binding.action)[1:])
            yield SystemCommand(
                title,
                f"Touche : {key}" + (f" — {reason}" if reason else ""),
                partial(node.run_action, binding.action),
            )
