"""Command palette entries: one per key binding of our screens and widgets, in French."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual import actions
from textual.app import SystemCommand
from textual.screen import Screen

from messagerie.screens.french import key_name
from messagerie.screens.keys_help import own_bindings
from messagerie.screens.rights import refusal


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
