"""Bidi and zero-width characters in text from outside (tracker issue 17): measured on main, a
company named "Société \\u202eLIVE\\u202c Nord" was shown as stored, so U+202E (RIGHT-TO-LEFT
OVERRIDE) reordered the line in a bidi-capable terminal, and "AC\\u200bME" looked exactly like
"ACME". On screens they are now shown by a visible symbol, as control characters are
(screens/widgets.py); what is stored does not change. The screens themselves: the Pilot in
test_hostile_screens.py, whose corpus holds both."""

from __future__ import annotations

import io
import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from messagerie.screens.widgets import cell, harmless, literal

INVISIBLE = {"Cf", "Zl", "Zp"}
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"
SEPARATORS = "\u2028\u2029"


def on_terminal(text: Text) -> str:
    console = Console(width=120, file=io.StringIO(), record=True, color_system=None)
    console.print(text)
    return console.export_text()


def test_a_right_to_left_override_is_shown_not_obeyed():
    name = "Société \u202eLIVE\u202c Nord"
    assert harmless(name) == "Société \ufffdLIVE\ufffd Nord"
    shown = on_terminal(literal(name))
    assert "LIVE" in shown and "\u202e" not in shown  # the terminal gets no override
    assert name == "Société \u202eLIVE\u202c Nord"  # the stored text is the caller's, as is


def test_two_names_that_look_alike_are_told_apart():
    for hidden in ZERO_WIDTH:
        assert harmless(f"AC{hidden}ME") != harmless("ACME"), f"U+{ord(hidden):04X}"
        assert cell(f"AC{hidden}ME").plain == "AC\ufffdME"


def test_every_bidi_zero_width_and_separator_character_is_made_visible():
    for character in BIDI + ZERO_WIDTH + SEPARATORS + "\U000e0041":  # a tag (hidden text)
        assert harmless(f"a{character}b") == "a\ufffdb", f"U+{ord(character):04X}"


def test_letters_emoji_and_accents_stay_as_typed():
    for text in ("Boulangerie 🥖🇫🇷 e\u0301te\u0301", "Société Générale", "Ελλάδα", "שלום", "日本"):
        assert harmless(text) == text


def test_a_styled_text_keeps_its_styles():
    text = Text.assemble(("Société ", "bold"), ("\u202eLIVE", "italic"))
    shown = literal(text)
    assert shown.plain == "Société \ufffdLIVE"
    assert [(span.start, span.end, str(span.style)) for span in shown.spans] == [
        (0, 8, "bold"),
        (8, 13, "italic"),
    ]


@given(st.text())
def test_no_invisible_character_is_ever_shown(text):
    shown = harmless(text)
    assert len(shown) == len(text)  # one for one: styles and cursor positions hold
    assert not [c for c in shown if unicodedata.category(c) in INVISIBLE]
    assert harmless(shown) == shown  # what is shown is shown the same again


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs", *INVISIBLE))))
def test_text_without_them_is_unchanged(text):
    assert harmless(text) == text
