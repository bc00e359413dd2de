"""Every parser of text from outside gives its value or a French refusal, never another
exception: the dates, lots and SIRET of an import file or a form, the rights of `comptes`,
the buyer's analysis file, the relay's and clamd's addresses, clamd's answer. Each property
once found a crash: « 01/01/0001 00:00 » (OverflowError), a SIRET or a port with « ² » (a
digit to str.isdigit(), not to int()), a rank of 5,000 digits, « smtp://[::1 »."""

from __future__ import annotations

import ast
import json
import string
import struct
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from messagerie.letters.intake.antivirus import (
    AntivirusRefusal,
    AntivirusState,
    ClamdAddress,
    parse_clamd_address,
    read_version,
)
from messagerie.letters.mail.transport import RelayProblem, parse_smtp_url
from messagerie.letters.pdf.bundle import (
    MANIFEST,
    MEMBER_LIMIT,
    BundleCheck,
    verify_bundle,
)
from messagerie.models.errors import Refusal
from messagerie.models.formatting import PARIS_ZONE, paris_as_typed, paris_minutes, paris_seconds
from messagerie.models.messages.merge import COLUMNS, AnalysisRefused, read_analysis
from messagerie.models.rules.siret import luhn_valid, siret_is_valid
from messagerie.models.rules.validation import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_LOT_NUMBER,
    ValidationFailed,
    check_siret,
    parse_lot_numbers,
    parse_paris_datetime,
)
from messagerie.models.store.accounts import parse_rights
from messagerie.models.store.enums import Right
from messagerie.models.text import (
    BIDI_CONTROLS,
    control_character,
    escaped_controls,
    without_password,
)

ROOT = Path(__file__).resolve().parents[1]
# Digits that str.isdigit() takes and int() refuses (²) or reads (٣, a digit to int()).
ODD_DIGITS = "²³¹٣০໓"
DIGITISH = st.text(alphabet=string.digits + ODD_DIGITS + " .,/:-+T", max_size=30)
ANY_TEXT = st.text(max_size=60) | DIGITISH


def parsed(parse: Callable[[Any], Any], text: Any, refusal: type[Refusal]) -> Any:
    """What `parse` makes of `text`, or the `refusal` it raised, which says what to fix; any
    other exception fails the test."""
    try:
        return parse(text)
    except refusal as refused:
        assert str(refused).strip()
        return refused


# --- Dates ------------------------------------------------------------------------------------


@given(text=ANY_TEXT)
@example("01/01/0001 00:00")  # OverflowError: year 1 in Paris is year 0 in UTC
@example("9999-12-31T23:59-05:00")
@example("31/12/2099 23:59")
@example("2099-12-31T23:59-05:00")  # 2100 in Paris and in UTC: written in 2099, accepted
def test_any_date_text_gives_a_utc_time_in_range_or_a_refusal(text):
    moment = parsed(parse_paris_datetime, text, ValidationFailed)
    if isinstance(moment, Refusal):
        return
    assert moment.tzinfo is UTC
    # The year as written is in range; an offset moves the moment a day at most.
    assert FIRST_YEAR - 1 <= moment.year <= LAST_YEAR + 1


@given(moment=st.datetimes(datetime(FIRST_YEAR, 1, 1), datetime(LAST_YEAR, 12, 31, 23, 59)))
@example(datetime(2026, 3, 29, 2, 30))  # the hour summer time skips
@example(datetime(2026, 10, 25, 2, 30))  # the hour that comes twice
@example(datetime(2026, 10, 25, 1, 59))
@example(datetime(2026, 10, 25, 3, 0))
def test_a_time_typed_as_the_platform_writes_it_is_shown_back_as_typed(moment):
    typed = moment.strftime("%d/%m/%Y %H:%M")
    read = parsed(parse_paris_datetime, typed, ValidationFailed)
    # Summer time starts on the last Sunday of March (clocks go from 02:00 to 03:00) and ends
    # on the last Sunday of October (from 03:00 back to 02:00).
    last_sunday_at_two = moment.weekday() == 6 and moment.day > 24 and moment.hour == 2
    skipped = last_sunday_at_two and moment.month == 3
    repeated = last_sunday_at_two and moment.month == 10
    assert isinstance(read, Refusal) == (skipped or repeated), typed
    if skipped:
        assert "cette heure n'existe pas à Paris" in str(read)
    elif repeated:
        assert "cette heure existe deux fois à Paris" in str(read)
    else:
        assert paris_minutes(read) == typed


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (
            "25/10/2026 02:30",  # the hour winter time repeats
            "« 25/10/2026 02:30 » : cette heure existe deux fois à Paris, où l'on revient ce "
            "jour-là de 03:00 à 02:00 (heure d'hiver) ; indiquez une autre heure, ou ajoutez "
            "« (heure d'été) » pour la première, « (heure d'hiver) » pour la seconde.",
        ),
        (
            "15/07/2026 10:00 (heure d'hiver)",
            "« 15/07/2026 10:00 (heure d'hiver) » : Paris n'est pas à l'heure d'hiver à cette "
            "heure-là ; retirez la mention.",
        ),
        (
            "01/01/0001 00:00",
            "« 01/01/0001 00:00 » : l'année 0001 est hors de la période possible (2000 à "
            "2099) ; vérifiez-la.",
        ),
    ],
)
def test_a_date_refused_says_what_to_write_instead(typed, said):
    with pytest.raises(ValidationFailed) as refused:
        parse_paris_datetime(typed)
    assert str(refused.value) == said


@given(
    moment=st.datetimes(
        datetime(FIRST_YEAR, 1, 2), datetime(LAST_YEAR, 12, 30), timezones=st.just(UTC)
    )
)
@example(datetime(2026, 10, 25, 0, 30, 15, tzinfo=UTC))  # 02:30:15 in Paris, summer time
@example(datetime(2026, 10, 25, 1, 30, 15, tzinfo=UTC))  # 02:30:15 again, winter time
def test_any_instant_shown_reads_back_as_that_instant(moment):
    """What the screens and letters show of a time is typed back as the same instant, in
    the hour Paris lives twice too (« 25/10/2026 02:30 (heure d'hiver) »)."""
    to_the_second, to_the_minute = moment.replace(microsecond=0), moment.replace(second=0)
    assert parse_paris_datetime(paris_seconds(moment)) == to_the_second
    assert parse_paris_datetime(paris_minutes(moment)) == to_the_minute.replace(microsecond=0)
    # As the AR and the letters say it, and as a field gives it back to be typed again.
    assert parse_paris_datetime(paris_seconds(moment, zone="Paris")) == to_the_second
    zoned = paris_minutes(moment, zone=PARIS_ZONE)
    assert parse_paris_datetime(zoned) == to_the_minute.replace(microsecond=0)
    assert parse_paris_datetime(paris_as_typed(moment)) == to_the_second


@pytest.mark.parametrize(
    "typed",
    [
        "25/10/2026 02:30 (heure d'hiver)",
        "25/10/2026 02:30 heure d’HIVER",
        "25/10/2026 02h30 (heure d'hiver)",
    ],
)
def test_the_repeated_hour_typed_with_its_season_is_that_one(typed):
    assert parse_paris_datetime(typed) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert parse_paris_datetime("25/10/2026 02:30 (heure d'ete)") == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "typed", ["25/10/2026 02:30 (heure d'hiver", "25/10/2026 02:30 heure d'hiver)"]
)
def test_a_season_with_one_parenthesis_alone_is_refused(typed):
    with pytest.raises(ValidationFailed, match="n'est pas une date valide"):
        parse_paris_datetime(typed)


@pytest.mark.parametrize(
    ("typed", "instant"),
    [
        ("25/10/2026 02:30 (heure de Paris, heure d'hiver)", datetime(2026, 10, 25, 1, 30)),
        ("25/10/2026 02:30:00 (Paris, heure d'été)", datetime(2026, 10, 25, 0, 30)),
        ("14/02/2026 12:00 (heure de Paris)", datetime(2026, 2, 14, 11)),
        ("10/02/2026 16:41:11 (Paris)", datetime(2026, 2, 10, 15, 41, 11)),
    ],
)
def test_a_time_copied_from_the_ar_or_a_letter_with_its_zone_is_read(typed, instant):
    assert parse_paris_datetime(typed) == instant.replace(tzinfo=UTC)


def test_a_whole_cell_pasted_as_a_date_is_quoted_short():
    with pytest.raises(ValidationFailed) as refused:
        parse_paris_datetime("14/02/2026 " + "12:00 " * 100_000)
    assert len(str(refused.value)) < 200 and "…" in str(refused.value)


def test_the_repeated_hour_with_its_offset_is_read_as_that_instant():
    second = parse_paris_datetime("2026-10-25T02:30+01:00")
    assert second == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


# --- Lots, SIRET, rights ----------------------------------------------------------------------


@given(text=ANY_TEXT)
@example("²")
@example("1, " + "9" * 5000)
def test_any_lot_text_gives_sorted_lots_or_a_refusal(text):
    lots = parsed(parse_lot_numbers, text, ValidationFailed)
    if isinstance(lots, Refusal):
        return
    assert list(lots) == sorted(set(lots))
    assert all(0 <= lot <= MAX_LOT_NUMBER for lot in lots)


@given(
    lots=st.lists(st.integers(0, MAX_LOT_NUMBER), max_size=8),
    separator=st.sampled_from([", ", " ", ",", " , "]),
)
def test_lots_typed_with_any_separator_are_read_back(lots, separator):
    assert parse_lot_numbers(separator.join(map(str, lots))) == tuple(sorted(set(lots)))


@given(text=ANY_TEXT)
@example("1234567890123²")  # 14 "digits": int() then refused the last
@example("476 460 118 00047")
def test_any_siret_text_gives_fourteen_digits_with_their_key_or_a_refusal(text):
    assert siret_is_valid(text) in (True, False)
    digits = parsed(check_siret, text, ValidationFailed)
    if isinstance(digits, Refusal):
        assert not siret_is_valid(text)
        return
    assert len(digits) == 14 and digits.isascii() and digits.isdigit() and luhn_valid(digits)
    assert siret_is_valid(text)


@given(
    text=st.text(max_size=60) | st.lists(st.sampled_from([r.value for r in Right])).map(",".join)
)
def test_any_rights_text_gives_rights_or_a_refusal_naming_them_all(text):
    try:
        rights = parse_rights(text)
    except Refusal as refusal:
        assert all(right.value in str(refusal) for right in Right)
        return
    assert rights <= set(Right)


@given(rights=st.sets(st.sampled_from(list(Right))))
def test_rights_written_as_the_readme_says_are_read_back(rights):
    assert parse_rights(" , ".join(right.value for right in rights)) == rights


# --- The buyer's analysis file ----------------------------------------------------------------

CELL = st.text(alphabet=st.characters(exclude_characters="\r\n\x00"), max_size=12) | DIGITISH


@st.composite
def analysis_files(draw: st.DrawFn) -> str:
    """A header of the known columns (some perhaps missing, in any order), rows of any cells."""
    header = draw(
        st.permutations(list(COLUMNS)).flatmap(
            lambda names: st.just(names) | st.lists(st.sampled_from(names), max_size=6)
        )
    )
    delimiter = draw(st.sampled_from([";", ","]))
    rows = draw(st.lists(st.lists(CELL, max_size=len(header) + 1), max_size=4))
    return "\n".join(delimiter.join(cells) for cells in [header, *rows])


@given(data=analysis_files() | st.text(max_size=200) | st.binary(max_size=200))
@example("entreprise;lot;note;rang;motifs\nACME;1;12;" + "9" * 5000 + ";prix\n")
@example("entreprise;lot;note;rang;motifs\nACME;1;12;²;prix\n")
@example("entreprise;lot;note;rang;motifs\nACME\x1b[31m;1;12;1;prix\n")
def test_any_analysis_file_gives_its_rows_or_a_refusal_saying_where(data):
    rows = parsed(read_analysis, data, AnalysisRefused)
    if isinstance(rows, AnalysisRefused):
        assert rows.line is not None  # « Ligne 3, colonne « rang » : … »
        return
    assert rows and all(row.company for row in rows)
    assert all(row.rank is None or row.rank >= 1 for row in rows)
    # What goes into the letters holds no control character, which the send checks refuse.
    assert not any(
        control_character(row.company) or control_character(row.lot)
        or control_character(row.reasons, multiline=True)
        for row in rows
    )  # fmt: skip


# --- The relay's and clamd's addresses, clamd's answer ------------------------------------------


@given(
    text=st.text(max_size=60)
    | st.builds("{}://{}".format, st.sampled_from(["smtp", "smtps", "smtp+starttls"]), ANY_TEXT)
)
@example("smtp://[::1")  # urlsplit's ValueError
@example("smtp://relais:0")  # port 0 was read as « no port »: 25
@example("smtp://relais:²")
def test_any_relay_address_gives_a_relay_or_a_refusal(text):
    relay = parsed(parse_smtp_url, text, RelayProblem)
    assert isinstance(relay, RelayProblem) or (relay.host and 0 < relay.port < 65536)


@given(
    scheme=st.sampled_from(["smtp", "smtps", "smtp+starttls"]),
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){0,2}", fullmatch=True),
    port=st.integers(1, 65535),
    user=st.text(min_size=1, max_size=12),
    password=st.text(min_size=1, max_size=12),
)
def test_a_relay_address_is_read_back_and_its_password_never_shown(
    scheme, host, port, user, password
):
    login = f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    relay = parse_smtp_url(f"{login}:{port}")
    assert (relay.host, relay.port, relay.username, relay.password) == (host, port, user, password)
    with pytest.raises(RelayProblem) as refused:
        parse_smtp_url(f"{login}:0")
    assert f"« {scheme}://{quote(user, safe='')}:***@{host}:0 »" in str(refused.value)


@given(
    password=st.text(alphabet=st.characters(exclude_characters="&#/@:"), min_size=1),
    name=st.sampled_from(["password", "PASSWORD", "sslpassword", "passwd"]),
    before=st.sampled_from(["?", "?sslmode=require&"]),
)
def test_a_password_in_a_database_urls_query_is_never_shown(password, name, before):
    """`--db "postgresql+psycopg://u@h:1/x?password=…"` printed it in the error."""
    url = f"postgresql+psycopg://u@127.0.0.1:1/x{before}{name}={password}&application_name=m"
    assert without_password(url) == (
        f"postgresql+psycopg://u@127.0.0.1:1/x{before}{name}=***&application_name=m"
    )


@given(
    text=st.text(max_size=40)
    | st.builds("tcp://h:{}".format, DIGITISH)
    | st.builds("unix://{}".format, st.text(max_size=10))
)
@example("tcp://clamd:²")  # ValueError from int()
@example("tcp://clamd:" + "9" * 5000)  # int() refuses 4,300 digits
@example("tcp://clamd:٣")  # read as port 3
def test_any_clamd_address_gives_an_address_off_or_a_refusal(text):
    address = parsed(parse_clamd_address, text, AntivirusRefusal)
    if isinstance(address, Refusal):
        return
    assert address is None or isinstance(address, ClamdAddress)
    if address is not None and address.path is None:
        assert address.host and 0 < address.port < 65536 and str(address.port) in text


@given(
    reply=st.text(max_size=60)
    | st.builds("ClamAV 1.4/{}/{}".format, DIGITISH, st.text(max_size=30))
)
@example("ClamAV 1.4.6/²/Mon Dec  1 08:30:00 2026")  # ValueError from int()
@example("ClamAV 1.4.6/" + "9" * 5000 + "/Mon Dec  1 08:30:00 2026")
@example("ClamAV 1.4.6/27500/Mon Dec  1 08:30:00 2026")
def test_any_clamd_answer_gives_a_status(reply):
    status = read_version(reply)
    assert status.state in (AntivirusState.ON, AntivirusState.UNREACHABLE)
    assert status.database is None or status.database >= 0
    assert status.line  # what the buyer reads where files are attached


# --- Text printed on a terminal ---------------------------------------------------------------


@given(text=st.text(max_size=80))
@example("ACME\x1b]0;PWNED\x07\x9b2J\u202eSNL")
@example("ligne\u2028fausse ligne")
def test_escaped_text_is_one_line_without_controls_and_printable_text_unchanged(text):
    shown = escaped_controls(text)
    assert len(shown.splitlines()) <= 1  # no LF, CR, U+2028… to forge a line of a log
    assert not any(unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS for c in shown)
    if text.isprintable():
        assert shown == text


def test_escaped_text_keeps_the_line_feeds_asked_for():
    assert escaped_controls("a\x1b[2Jb\nc\td", keep="\n\t") == "a\\x1b[2Jb\nc\td"
    assert escaped_controls("ligne 1\nligne 2") == "ligne 1\\nligne 2"


def digit_tests(path: Path) -> list[str]:
    """Calls of str.isdigit(), isdecimal() or isnumeric() in `path`, as "line N"."""
    return [
        f"line {node.lineno}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("isdigit", "isdecimal", "isnumeric")
    ]


def test_numbers_from_outside_are_checked_by_ascii_digits_only():
    """str.isdigit() takes « ² » (int() then fails) and « ٣ » (int() reads 3): the program
    asks models.text.ascii_digits, which takes 0 to 9 only."""
    offenders = {
        str(path.relative_to(ROOT)): found
        for folder in ("tui", "screens", "models", "letters")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != ROOT / "models" / "text.py" and (found := digit_tests(path))
    }
    assert not offenders, f"use ascii_digits: {offenders}"


def test_the_digit_check_sees_a_bare_isdigit(tmp_path):
    offender = tmp_path / "offender.py"
    offender.write_text("def port(text):\n    return int(text) if text.isdigit() else None\n")
    assert digit_tests(offender) == ["line 2"]


# --- A proof bundle handed to `messagerie verify` ---------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
MESSAGE_JSON = "messages/1/message.json"
MANIFESTS = st.fixed_dictionaries({
    "files": st.lists(st.fixed_dictionaries({
        "path": st.just(MESSAGE_JSON) | JSON_VALUES,
        "size": st.integers(-1, 10**30) | JSON_VALUES,
        "sha256": st.text(max_size=64) | JSON_VALUES,
    }), max_size=2) | JSON_VALUES,
}) | JSON_VALUES  # fmt: skip
EVENTS = st.fixed_dictionaries({
    "at": st.sampled_from(["2026-12-01T09:00:00+00:00", "0001-01-01T00:00:00+01:00"]) | JSON_VALUES,
    "kind": st.just("read") | JSON_VALUES,
})  # fmt: skip
MESSAGES = st.fixed_dictionaries({
    "send_mode": st.just("with_ar") | JSON_VALUES,
    "recipients": st.lists(st.fixed_dictionaries({
        "id": st.integers() | JSON_VALUES,
        "email": JSON_VALUES,
        "chain_head": JSON_VALUES,
        "events": st.lists(EVENTS, max_size=2) | JSON_VALUES,
    }), max_size=2) | JSON_VALUES,
}) | JSON_VALUES  # fmt: skip


def with_method(raw: bytes, method: int) -> bytes:
    """The zip `raw` (stored members, no comment) with every member's compression method
    field set to `method`, in its local header and in the central directory."""
    patched = bytearray(raw)
    central = struct.unpack_from("<I", raw, len(raw) - 22 + 16)[0]
    while raw[central : central + 4] == b"PK\x01\x02":
        struct.pack_into("<H", patched, central + 10, method)
        local = struct.unpack_from("<I", raw, central + 42)[0]
        struct.pack_into("<H", patched, local + 8, method)
        lengths = struct.unpack_from("<HHH", raw, central + 28)
        central += 46 + sum(lengths)
    return bytes(patched)


def verified(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> BundleCheck:
    """verify_bundle's verdict, without the platform's certificate, on a zip of `members`."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lot.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        path.write_bytes(with_method(path.read_bytes(), method))
        return verify_bundle(path, None)


@given(
    manifest=MANIFESTS,
    message=MESSAGES,
    method=st.sampled_from([zipfile.ZIP_STORED, 12, 14, 93, 99]),  # 93 zstd, 99 AES: unknown
)
def test_any_bundle_gets_a_verdict_naming_what_is_wrong(manifest, message, method):
    """A hostile bundle (Infinity as a size or an id, year 1 in an event, a member zipfile
    cannot decompress) once stopped `messagerie verify` with a traceback."""
    members = {MANIFEST: json.dumps(manifest).encode(), MESSAGE_JSON: json.dumps(message).encode()}
    check = verified(members, method)
    assert check.problems  # never signed: at least that is said
    assert all(problem.startswith(("« ", "Authenticité")) for problem in check.problems)


@pytest.mark.parametrize(
    "manifest",
    [b"[" * 100_000 + b"]" * 100_000, b'{"files": [{"path": "a", "size": 1e999, "sha256": "x"}]}'],
    ids=["nested too deep for Python", "a size of Infinity"],
)
def test_a_manifest_that_json_or_int_cannot_take_is_said_unreadable(manifest):
    check = verified({MANIFEST: manifest, "a": b"x"})
    assert any(p.startswith(f"« {MANIFEST} » : illisible") for p in check.problems)


def test_an_ar_too_large_to_read_is_named_not_read():
    """A zip bomb's AR (64 MiB of zeros, 64 kB compressed) is named, never read whole."""
    ar = "messages/1/ar/AR-7.pdf"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lot.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(ar, bytes(MEMBER_LIMIT + 1))
            size = archive.getinfo(ar).file_size
            listed = {"path": ar, "size": size, "sha256": "0" * 64}
            archive.writestr(MANIFEST, json.dumps({"files": [listed]}))
        check = verify_bundle(path, None)
    assert f"« {ar} » : AR du destinataire n° 7 illisible (altéré, ou de plus de 64 Mio)." in (
        check.problems
    )


def test_a_manifest_too_large_to_read_is_said_so_never_read_whole():
    """A zip bomb's manifest (64 MiB of spaces) is refused by its size, for the file list and
    for the signature check alike."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lot.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, b" " * (MEMBER_LIMIT + 1))
            archive.writestr(f"{MANIFEST}.p7s", b"")
        check = verify_bundle(path, None)
    assert check.problems == (f"« {MANIFEST} » : illisible (altéré), le lot ne peut être vérifié.",)
