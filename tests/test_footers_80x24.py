"""At 80×24, every screen's footer shows each key it offers whole (no label cut mid-word, no
stray letter after « ^p palette »), the keys a buyer needs there among them; the keys left out
of the footer are written where they act, and every action is in the command palette."""

from __future__ import annotations

import pytest
from textual.binding import ActiveBinding

from messagerie.tui.commands import own_bindings
from tests.helpers.pilot import settle
from tests.helpers.screens import SCREENS, footer_line, open_screen, written

SMALL = (80, 24)
PALETTE = "▏^p palette"

# The keys the footer must show on each screen (those issue #18 found cut off), and what
# must be written on the screen for the keys moved out of the footer.
ESSENTIAL = {
    "dashboard": ["d", "q", "m", "e", "a", "f1"],
    "consultation": ["escape", "d", "m", "i", "t", "r", "f1"],
    "dce": ["ctrl+s", "v", "h", "escape", "f1"],
    "registers": ["escape", "slash", "a", "e", "r", "f1"],
    "tracking": ["escape", "m", "p", "n", "x", "f1"],
    "message_form": ["ctrl+e", "ctrl+s", "ctrl+g", "f8", "escape", "f1"],
    "accounts": ["escape", "a", "e", "r", "f1"],
}
WRITTEN = {
    "dashboard": ["Rechercher (/)", "Statuts (s"],
    "consultation": ["(w)", "(q)", "(p)", "Créer une suite (s)", "Brouillons de messages (b)"],
    "dce": ["a ajouter · r remplacer · d supprimer · z remplacer le DCE · u défaire"],
    "registers": ["w retraits · q questions · p dépôts · > < pages"],
    "tracking": ["f : filtr"],
    "message_form": ["F3 registres", "F4 fichier · F5 espace doc. · Suppr retirer"],
    "accounts": ["a ajouter · e modifier · r retirer"],
}


def shown(screen) -> dict[str, ActiveBinding]:  # type: ignore[no-untyped-def]
    """The footer's keys: one per action (its first key), the palette's apart."""
    by_action: dict[str, ActiveBinding] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.show and binding.action != "command_palette":
            by_action.setdefault(binding.action, active)
    return by_action


@pytest.mark.parametrize("name", SCREENS)
async def test_every_key_of_the_footer_is_whole_at_80_columns(workspace, workspace_app, name):
    async with workspace_app.run_test(size=SMALL) as pilot:
        screen = await open_screen(pilot, workspace, name)
        line = footer_line(pilot)
        keys = shown(screen)
        assert keys, f"the {name} footer offers no key"
        for active in keys.values():
            label = f"{pilot.app.get_key_display(active.binding)} {active.binding.description}"
            assert f"{label} " in f"{line} ", f"« {label} » is cut from the footer: {line!r}"
        if PALETTE[1:] in line:  # docked on the right: nothing may show after it
            assert line.rstrip().endswith(PALETTE), line

        footer_keys = {active.binding.key for active in keys.values()}
        missing = set(ESSENTIAL.get(name, [])) - footer_keys
        assert not missing, f"{name}: {missing} not in the footer {line!r}"
        text = written(screen)
        for hint in WRITTEN.get(name, []):
            assert hint in text, f"{name}: « {hint} » is not written on the screen"


@pytest.mark.parametrize(
    "name", ["dashboard", "consultation", "dce", "registers", "tracking", "accounts"]
)
async def test_every_action_is_in_the_palette_shown_in_the_footer_or_not(
    workspace, workspace_app, name
):
    async with workspace_app.run_test(size=SMALL) as pilot:
        screen = await open_screen(pilot, workspace, name)
        titles = {command.title for command in pilot.app.get_system_commands(screen)}
        ours = [
            active.binding
            for active in screen.active_bindings.values()
            if (active.binding.action, active.binding.description)
            in {(b.action, b.description) for b in own_bindings(active.node)}
        ]
        hidden = [binding for binding in ours if not binding.show]
        assert hidden, "some keys are left out of the footer"
        for binding in ours:
            assert (binding.tooltip or binding.description) in titles, binding


async def test_the_footer_follows_the_focus(workspace, workspace_app):
    """The row's keys are the results list's: with the focus on the statuses (« s ») they
    leave the footer, and come back with it (the footer is rebuilt only when the keys it
    draws change: screens/widgets.Footer)."""
    async with workspace_app.run_test(size=SMALL) as pilot:
        screen = await open_screen(pilot, workspace, "dashboard")
        assert "d Détails" in footer_line(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert pilot.app.focused is screen.query_one("#statuses")
        assert "Détails" not in footer_line(pilot) and "a Suivi" in footer_line(pilot)
        screen.query_one("#results").focus()
        await settle(pilot)
        assert "d Détails" in footer_line(pilot)
