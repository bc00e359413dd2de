"""Textual's own key descriptions, in French, wherever a screen shows them (footer, F1 window).

Textual has no translation support: its widgets' bindings carry English descriptions ("Scroll
Left", "Focus Next", "Dismiss menu"…) fixed when their classes are defined. A screen's
`active_bindings` is what both the footer and the keys' window (F1) read, so the screens below hand
them French copies of those bindings; our own bindings are French already and pass through."""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from textual.binding import ActiveBinding, Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen

from messagerie.models.text import ascii_digits

# Textual 8's binding descriptions (Input, TextArea, OptionList, DataTable, Tree, RadioSet,
# Select, Button, scrolling containers, Screen, the command palette) → French.
DESCRIPTIONS = {
    "Bottom": "Dernière ligne",
    "Copy": "Copier",
    "Copy selected text": "Copier la sélection",
    "Cursor Down": "Ligne suivante",
    "Cursor Up": "Ligne précédente",
    "Cursor down": "Curseur vers le bas",
    "Cursor down select": "Sélectionner vers le bas",
    "Cursor left": "Curseur à gauche",
    "Cursor left select": "Sélectionner à gauche",
    "Cursor left word select": "Sélectionner le mot précédent",
    "Cursor line end": "Fin de ligne",
    "Cursor line end select": "Sélectionner jusqu'à la fin de ligne",
    "Cursor line start": "Début de ligne",
    "Cursor line start select": "Sélectionner jusqu'au début de ligne",
    "Cursor page down": "Page suivante",
    "Cursor page up": "Page précédente",
    "Cursor right": "Curseur à droite",
    "Cursor right select": "Sélectionner à droite",
    "Cursor right word select": "Sélectionner le mot suivant",
    "Cursor to next ancestor": "Élément suivant du niveau supérieur",
    "Cursor to next sibling": "Élément suivant du même niveau",
    "Cursor to parent": "Dossier parent",
    "Cursor to previous sibling": "Élément précédent du même niveau",
    "Cursor up": "Curseur vers le haut",
    "Cursor up select": "Sélectionner vers le haut",
    "Cursor word left": "Mot précédent",
    "Cursor word right": "Mot suivant",
    "Cut": "Couper",
    "Cut selected text": "Couper la sélection",
    "Delete all to the left": "Effacer tout à gauche",
    "Delete all to the right": "Effacer tout à droite",
    "Delete character left": "Effacer le caractère à gauche",
    "Delete character right": "Effacer le caractère à droite",
    "Delete left to start of word": "Effacer le mot à gauche",
    "Delete line": "Effacer la ligne",
    "Delete right to start of word": "Effacer le mot à droite",
    "Delete to line end": "Effacer jusqu'à la fin de ligne",
    "Delete to line start": "Effacer jusqu'au début de ligne",
    "Dismiss menu": "Fermer la liste",
    "Down": "Suivant",
    "End": "Fin",
    "Exit the command palette": "Fermer la palette",
    "Expand or collapse all": "Tout déplier ou replier",
    "First": "Premier",
    "Focus Next": "Champ suivant",
    "Focus Previous": "Champ précédent",
    "Go to bottom": "Aller à la fin",
    "Go to end": "Aller à la fin",
    "Go to start": "Aller au début",
    "Go to top": "Aller au début",
    "Home": "Début",
    "Last": "Dernier",
    "Move cursor left": "Curseur à gauche",
    "Move cursor left a word": "Mot précédent",
    "Move cursor left a word and select": "Sélectionner le mot précédent",
    "Move cursor left and select": "Sélectionner à gauche",
    "Move cursor right a word": "Mot suivant",
    "Move cursor right a word and select": "Sélectionner le mot suivant",
    "Move cursor right and select": "Sélectionner à droite",
    "Move cursor right or accept the completion suggestion": "Curseur à droite",
    "Next command": "Commande suivante",
    "Next option": "Option suivante",
    "Next page": "Page suivante",
    "Next tab": "Onglet suivant",
    "Page Down": "Page suivante",
    "Page Left": "Page à gauche",
    "Page Right": "Page à droite",
    "Page Up": "Page précédente",
    "Page down": "Page suivante",
    "Page up": "Page précédente",
    "Paste": "Coller",
    "Paste text from the clipboard": "Coller",
    "Press button": "Appuyer sur le bouton",
    "Previous command": "Commande précédente",
    "Previous option": "Option précédente",
    "Previous page": "Page précédente",
    "Previous tab": "Onglet précédent",
    "Redo": "Rétablir",
    "Scroll Down": "Défiler vers le bas",
    "Scroll End": "Défiler jusqu'à la fin",
    "Scroll Home": "Défiler jusqu'au début",
    "Scroll Left": "Défiler vers la gauche",
    "Scroll Right": "Défiler vers la droite",
    "Scroll Up": "Défiler vers le haut",
    "Select": "Choisir",
    "Select all": "Tout sélectionner",
    "Select line": "Sélectionner la ligne",
    "Select line end": "Sélectionner jusqu'à la fin",
    "Select line start": "Sélectionner jusqu'au début",
    "Show menu": "Ouvrir la liste",
    "Submit": "Valider",
    "Toggle": "Cocher ou décocher",
    "Toggle option": "Cocher ou décocher",
    "Top": "Première ligne",
    "Undo": "Annuler la frappe",
    "Up": "Précédent",
}
# The same English word for another gesture, by the class that binds it.
BY_WIDGET = {("Tree", "Toggle"): "Déplier ou replier"}


def french(text: str, node: DOMNode | None = None) -> str:
    """`text` (a Textual binding's description or tooltip) in French; ours unchanged."""
    if node is not None:
        for cls in type(node).__mro__:
            if (cls.__name__, text) in BY_WIDGET:
                return BY_WIDGET[cls.__name__, text]
    return DESCRIPTIONS.get(text, text)


def french_binding(binding: Binding, node: DOMNode | None = None) -> Binding:
    description, tooltip = french(binding.description, node), french(binding.tooltip, node)
    if (description, tooltip) == (binding.description, binding.tooltip):
        return binding
    return replace(binding, description=description, tooltip=tooltip)


def french_active(active: ActiveBinding) -> ActiveBinding:
    node = active.node
    return active._replace(
        binding=french_binding(active.binding, node), tooltip=french(active.tooltip, node)
    )


class FrenchBindings:
    """For a screen, listed before its Textual class (which then gives the screen its CSS:
    Textual takes a class's styles from its first base that is a widget): its footer and
    keys' window (F1) show every key in French."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        active: dict[str, ActiveBinding] = super().active_bindings  # type: ignore[misc]
        return {key: french_active(binding) for key, binding in active.items()}


ResultType = TypeVar("ResultType")


# A dialog hides the app's keys (Textual stops at a modal screen): F1 opens the keys' window
# over it too. Not in its footer, which shows the dialog's own keys.
HELP_KEY = Binding("f1", "app.toggle_help", "Aide", show=False)


class FrenchModal(FrenchBindings, ModalScreen[ResultType]):
    """A dialog whose keys read in French (in the keys' window opened over it)."""

    BINDINGS = [HELP_KEY]


# Keys by the names printed on a French keyboard (Textual writes "esc", "pgdn", "del"…).
KEY_NAMES = {
    "escape": "Échap",
    "enter": "Entrée",
    "space": "Espace",
    "tab": "Tab",
    "delete": "Suppr",
    "insert": "Inser",
    "home": "Début",
    "end": "Fin",
    "pageup": "PgPréc",
    "pagedown": "PgSuiv",
    "backspace": "⌫",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
}
MODIFIERS = {"ctrl": "^", "shift": "Maj+", "alt": "Alt+", "super": "Super+", "meta": "Méta+"}


def key_display(key: str) -> str:
    """How a binding's first key is shown: "^s", "Maj+Tab", "PgSuiv", "F5", "?"…"""
    from textual.keys import format_key

    *modifiers, name = key.split(",")[0].strip().split("+")
    if name in KEY_NAMES:
        shown = KEY_NAMES[name]
    elif len(name) > 1 and name[0] == "f" and ascii_digits(name[1:]):
        shown = name.upper()
    else:
        shown = format_key(name)
    return "".join(MODIFIERS.get(modifier, f"{modifier}+") for modifier in modifiers) + shown


# Modifiers spelt out, as the command palette names a key in words (the footer writes "^g").
MODIFIER_NAMES = {"ctrl": "Ctrl+", "shift": "Maj+", "alt": "Alt+", "super": "Super+",
                  "meta": "Méta+"}  # fmt: skip


def key_name(key: str) -> str:
    """A binding's first key in words, for the command palette: "Ctrl+G", "Maj+Tab", "F5",
    "Échap", "?", "e" (a letter alone is the one typed)."""
    *modifiers, name = key.split(",")[0].strip().split("+")
    shown = key_display(name)
    if modifiers and len(shown) == 1:
        shown = shown.upper()
    return "".join(MODIFIER_NAMES.get(modifier, f"{modifier}+") for modifier in modifiers) + shown
