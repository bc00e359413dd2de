"""How dates, numbers and lots read in French, shared by the screens and the letters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
LOCALE = "fr_FR"


def paris_time(moment: datetime, pattern: str) -> str:
    """`moment` in Europe/Paris with a CLDR pattern, by babel (imported when first needed:
    the dashboard's first frame does not show dates)."""
    from babel.dates import format_datetime

    return format_datetime(moment, pattern, tzinfo=PARIS, locale=LOCALE)


MINUTES, SECONDS = "dd/MM/yyyy HH:mm", "dd/MM/yyyy - HH:mm:ss"
PARIS_ZONE = "heure de Paris"  # said where a company abroad reads the time


def paris_minutes(moment: datetime, *, zone: str = "") -> str:
    """A deadline as the platform shows it: "14/02/2026 12:00" (Europe/Paris); with `zone`
    (« heure de Paris »), "14/02/2026 12:00 (heure de Paris)"."""
    return in_paris(paris_time(moment, MINUTES), moment, zone=zone)


def paris_seconds(moment: datetime, *, zone: str = "") -> str:
    """An event time as in the tracking table: "10/02/2026 - 16:41:11" (Europe/Paris)."""
    return in_paris(paris_time(moment, SECONDS), moment, zone=zone)


def paris_as_typed(moment: datetime) -> str:
    """ "14/02/2026 12:00", or "14/02/2026 12:00:45" when it has seconds: a time put back in
    a field reads back as itself (saving again must not move it), and two times a message
    compares never read alike."""
    pattern = "dd/MM/yyyy HH:mm:ss" if as_utc(moment).second else MINUTES
    return in_paris(paris_time(moment, pattern), moment)


def in_paris(text: str, moment: datetime, *, zone: str = "") -> str:
    """`text` (`moment` on the clocks of Paris), then what makes it one instant in one
    parenthesis: the `zone` when given, and which of the hour Paris lives twice in October
    ("02:30 (heure de Paris, heure d'hiver)", never two parentheses after each other)."""
    notes = [note for note in (zone, repeated_hour_season(moment)) if note]
    return f"{text} ({', '.join(notes)})" if notes else text


SUMMER_TIME, WINTER_TIME = "heure d'été", "heure d'hiver"


def repeated_hour_season(moment: datetime) -> str | None:
    """SUMMER_TIME or WINTER_TIME for a time of the hour Paris lives twice when winter time
    comes back (25/10/2026 02:30 is two instants an hour apart); None for any other."""
    local = as_utc(moment).astimezone(PARIS)
    if local.utcoffset() == local.replace(fold=1 - local.fold).utcoffset():
        return None
    return SUMMER_TIME if local.dst() else WINTER_TIME


NARROW_NO_BREAK_SPACE = "\u202f"


def count(number: int) -> str:
    """A count with French digit grouping: "1 395" (a narrow no-break space, as babel writes
    it; done by hand because the dashboard's first frame should not wait for babel's data)."""
    return f"{number:,}".replace(",", NARROW_NO_BREAK_SPACE)


# One « Mo » everywhere: 1,048,576 bytes (1 Mo = 1 024 Ko, as the file managers of the
# buyers and companies show sizes). MESSAGERIE_ATTACHMENT_MAX_MB counts in it, and every
# size and every size limit is written by size_text: 20 Mo is « 20 Mo » on the page, in the
# message form, in the errors and in the README.
MEGABYTE = 1024**2


def size_text(size: int) -> str:
    """A file size as the buyer reads it: "842 octets", "12,4 Ko", "3,1 Mo"."""
    if size < 1024:
        return f"{size} octets"
    for unit, scale in (("Ko", 1024), ("Mo", MEGABYTE), ("Go", 1024 * MEGABYTE)):
        if size < scale * 1024 or unit == "Go":
            return f"{round(size / scale, 1):g}".replace(".", ",") + f" {unit}"
    raise AssertionError("unreachable")


def lot_label(number: int, title: str) -> str:
    return f"Lot n°{number} - {title}"


def paris_span(start: datetime, end: datetime) -> timedelta:
    """`end` − `start` on the clocks of Paris, as the rules count days: across a change of
    time a day is a day (23 or 25 hours). Where the clocks go back and forth in the hour Paris
    lives twice, and disagree with the real span on which comes first, the real span."""
    wall = _wall_clock(end) - _wall_clock(start)
    real = as_utc(end) - as_utc(start)
    return wall if (wall >= timedelta(0)) == (real >= timedelta(0)) else real


def _wall_clock(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(PARIS).replace(tzinfo=None)


def duration_text(span: timedelta) -> str:
    """A span in French: "5 jours et 3 heures", "1 jour", "moins d'une heure"."""
    days, hours = span.days, span.seconds // 3600
    parts = [
        f"{number} {unit}{'s' if number > 1 else ''}"
        for number, unit in ((days, "jour"), (hours, "heure"))
        if number
    ]
    return " et ".join(parts) or "moins d'une heure"


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is a bug (every time in the store is aware)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime: {moment!r} (times are timezone-aware)")
    return moment.astimezone(UTC)
