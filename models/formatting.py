"""How dates, numbers and lots read in French, shared by the screens and the letters."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal

PARIS = ZoneInfo("Europe/Paris")
LOCALE = "fr_FR"


def paris_minutes(moment: datetime) -> str:
    """A deadline as the platform shows it: "14/02/2026 12:00" (Europe/Paris)."""
    return format_datetime(moment, "dd/MM/yyyy HH:mm", tzinfo=PARIS, locale=LOCALE)


def paris_seconds(moment: datetime) -> str:
    """An event time as in the tracking table: "10/02/2026 - 16:41:11" (Europe/Paris)."""
    return format_datetime(moment, "dd/MM/yyyy - HH:mm:ss", tzinfo=PARIS, locale=LOCALE)


def count(number: int) -> str:
    """A count with French digit grouping: "1 395"."""
    return format_decimal(number, locale=LOCALE)


def size_text(size: int) -> str:
    """A file size as the buyer reads it: "842 octets", "12,4 Ko", "3,1 Mo"."""
    if size < 1024:
        return f"{size} octets"
    for unit, scale in (("Ko", 1024), ("Mo", 1024**2), ("Go", 1024**3)):
        if size < scale * 1024 or unit == "Go":
            return f"{format_decimal(round(size / scale, 1), locale=LOCALE)} {unit}"
    raise AssertionError("unreachable")


def lot_label(number: int, title: str) -> str:
    return f"Lot n°{number} - {title}"
