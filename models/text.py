"""Folding French text for search: no case, no accents ("Crémant" → "cremant"), and text
from outside made safe where it lands. Screens drawn in the first frame use it: SQLAlchemy
is imported for the one function that builds a condition, not with the module."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import sqlalchemy as sa

LIGATURES = (("œ", "oe"), ("Œ", "oe"), ("æ", "ae"), ("Æ", "ae"), ("’", "'"))


def fold(text: str) -> str:
    """The text with its ligatures spelt out, decomposed (NFKD), without its combining marks,
    case-folded. Every message, register entry and consultation is folded when written (the
    demo folds 15,000 texts): str.replace per ligature and per distinct mark is 5 times faster
    than str.translate or a test of each character, which took a tenth of `demo --reset`."""
    if text.isascii():
        return text.casefold()  # nothing to decompose, no ligature, no mark
    for ligature, spelt in LIGATURES:
        text = text.replace(ligature, spelt)
    decomposed = unicodedata.normalize("NFKD", text)
    for mark in {c for c in set(decomposed) if unicodedata.combining(c)}:
        decomposed = decomposed.replace(mark, "")
    return decomposed.casefold()


def ascii_digits(text: str) -> bool:
    """Whether `text` is digits 0 to 9 and nothing else. str.isdigit() also takes "²", which
    int() refuses, and "٣", which int() reads as 3: a number from outside is checked here."""
    return text.isascii() and text.isdigit()


def whole_number(text: str, most: int) -> int | None:
    """The number `text` writes in digits 0 to 9 when it is `most` at the most, else None.
    A text longer than `most` is refused unread: int() refuses 4,300 digits (ValueError)."""
    if not ascii_digits(text) or len(text) > len(str(most)):
        return None
    number = int(text)
    return number if number <= most else None


def search_text(*parts: str | None) -> str:
    """The folded search column of a row, from its searchable fields."""
    return fold(" ".join(part for part in parts if part))


def search_words(query: str) -> list[str]:
    """The words to look for: folded, without a final plural or feminine ending.

    Matching is by substring, so dropping "s", "x" and "e" lets "creme" find "Crémant" and
    "chocolats" find "chocolat"; short words are kept whole so that "les" stays "les".
    """
    words = []
    for word in fold(query).split():
        stem = word
        if len(stem) > 4 and stem[-1] in "sx":
            stem = stem[:-1]
        if len(stem) > 4 and stem.endswith("e"):
            stem = stem[:-1]
        words.append(stem)
    return words


def escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def words_condition(column: sa.ColumnElement[str], query: str) -> sa.ColumnElement[bool]:
    """Every word of `query` appears in the folded search `column` (case, accents ignored)."""
    import sqlalchemy as sa

    return sa.and_(
        sa.true(),
        *(column.like(f"%{escape_like(word)}%", escape="\\") for word in search_words(query)),
    )


# --- Text from outside, made safe where it lands (ARCHITECTURE.md, "Text and files from
# outside"): it stays data, never a header line or a formula.

# What spreadsheet software reads as the start of a formula (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# "//user:" then the password, up to the last @ (a password written raw may hold @ or /; an
# @ further on, in a path, hides more than the password: never less).
_PASSWORD = re.compile(r"(//[^:/@]*:).*@")
# libpq also reads the password from the query: postgresql://u@h/db?password=…
_QUERY_PASSWORD = re.compile(r"([?&](?:ssl)?pass(?:word|wd)?=)[^&#]*", re.IGNORECASE)


def without_password(url: str) -> str:
    """A URL fit to show (a relay's, a database's): its password as ***, even in a URL that
    no parser reads (« smtp://marie:s3cret@[::1 »), or in its query (« ?password=… »)."""
    return _QUERY_PASSWORD.sub(r"\1***", _PASSWORD.sub(r"\1***@", url))


def one_line(text: str) -> str:
    """`text` on one line: each control character (CR, LF, ESC, BEL…) becomes a space, so a
    name can never add a line to an e-mail's headers."""
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split())


def cut(text: str, most: int) -> str:
    """`text`, or its first `most` characters and « … »: a long value quoted in a message."""
    return text if len(text) <= most else f"{text[:most]}…"


def first_few(items: Sequence[str], separator: str = ", ", most: int = 3) -> str:
    """The first `most` of `items` and how many more: a list quoted in a message that must
    stay a few lines long in 80×24."""
    shown = separator.join(items[:most])
    return shown + (f" et {len(items) - most} autre(s)" if len(items) > most else "")


def kept_at_hang_up_notice(
    items: Sequence[str], kept: tuple[str, str], resume: tuple[str, str]
) -> str:
    """What a start tells of work kept when the buyer's terminal went away: `kept` and
    `resume` are said (for one, for several) of `items`, the first few listed."""
    several = int(len(items) > 1)
    listed = first_few(items, separator="; ")
    return f"À la coupure de la connexion, {kept[several]} : {listed}. {resume[several]}"


def lf_lines(text: str) -> str:
    """Text from a file with its lines ended by LF, as the form's fields end them: Excel ends
    a cell's lines with CRLF (CR alone, on an old Mac), a browser those of a text area (a
    question typed on the platform, then exported); and a CR is a control character that the
    checks refuse."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def spreadsheet_cell(text: str) -> str:
    """`text` as a CSV cell that a spreadsheet shows as text and never runs: a leading
    formula sign gets a quote in front (=1+1 → '=1+1)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


# Embeddings, overrides and isolates: they reorder what a terminal, a PDF viewer or a mail
# reader shows around them (U+202E makes « Société ‮LIVE » read backwards).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def escaped_controls(text: str, *, keep: str = "") -> str:
    """`text` with each control character (ESC, BEL, CR, the 8-bit CSI…), line separator
    (U+2028) and bidi control written as its escape (\\x1b, \\u202e), except those in
    `keep`: printed on a terminal or in a log, text from outside shows what it holds and
    never moves the cursor, retitles the window, rewrites a line or adds one."""
    if text.isprintable() and not keep:
        return text  # the usual case, at C speed (isprintable is false for all of them)
    return "".join(repr(c)[1:-1] if c not in keep and _acts(c) else c for c in text)


def _acts(char: str) -> bool:
    return unicodedata.category(char) in _BREAKING or char in BIDI_CONTROLS


# Control characters, and the line and paragraph separators (U+2028, U+2029) that
# str.splitlines() and some log readers take for a line feed.
_BREAKING = ("Cc", "Zl", "Zp")


def control_character(text: str, *, multiline: bool = False) -> str | None:
    """The first control character of `text` as "U+001B", a bidi control included (line
    feeds and tabs are allowed in multi-line text); None when there is none."""
    allowed = "\n\t" if multiline else ""
    found = next(
        (
            c
            for c in text
            if (unicodedata.category(c) == "Cc" and c not in allowed) or c in BIDI_CONTROLS
        ),
        None,
    )
    return None if found is None else f"U+{ord(found):04X}"


def control_character_problem(text: str, *, multiline: bool = False) -> str | None:
    """What to fix, in French, when `text` holds a control character."""
    found = control_character(text, multiline=multiline)
    if found is None:
        return None
    if chr(int(found[2:], 16)) in BIDI_CONTROLS:
        return f"contient un caractère qui inverse le sens du texte ({found}) : retirez-le."
    return f"contient un caractère de contrôle ({found}) : retirez-le."
