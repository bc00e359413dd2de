"""With the help panel open (F1) the dashboard is narrower: its text wraps between words,
never inside one ("d'informatio / ns"), at 80×24 and at 120×40."""

from __future__ import annotations

from itertools import pairwise

import pytest

from tests.helpers.pilot import settle
from tests.helpers.screens import screen_lines

# Words of the dashboard's own text a narrow column could cut (its labels and panel titles).
WORDS = ("d'informations", "informations", "Informations", "Retraits", "Questions", "Dépôts",
         "Statuts", "Elaboration", "Consultation", "Décision", "validation", "Ouverture",
         "analyse", "Résultats")  # fmt: skip
FRAMES = "│▏╭╮╰╯"


def cut_words(lines: list[str]) -> list[str]:
    """The words of WORDS painted cut in two: the end of a line's cell (between two frames)
    and the start of the same cell on the next line read together as one of them."""
    found = []
    for upper, lower in pairwise(lines):
        frames = [-1, *(i for i, char in enumerate(upper) if char in FRAMES), len(upper)]
        for left, right in pairwise(frames):
            head, tail = upper[left + 1 : right].split(), lower[left + 1 : right].split()
            if head and tail and head[-1] + tail[0] in WORDS:
                found.append(f"{head[-1]} / {tail[0]}")
    return found


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_no_word_is_cut_with_the_help_panel_open(demo_app, size):
    async with demo_app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("plus")  # "+ Plus d'informations" on the first row
        await pilot.press("f1")
        await settle(pilot)
        assert pilot.app.screen.query("HelpPanel")
        lines = screen_lines(pilot)
    assert cut_words(lines) == [], "\n".join(lines)
