"""The clamd client against a real clamd (scripts/test starts one, sets MESSAGERIE_TEST_CLAMD)."""

from __future__ import annotations

import os

import pytest

from messagerie.letters.intake.antivirus import (
    AntivirusRefusal,
    AntivirusState,
    AntivirusUnavailable,
    ClamdAddress,
    antivirus_status,
    check_attachment,
    parse_clamd_address,
    read_version,
    scan,
)
from messagerie.models.errors import Refusal
from messagerie.models.store.enums import AntivirusVerdict
from tests.helpers.antivirus import EICAR

pytestmark = pytest.mark.services  # the real clamd

CLAMD_VARIABLE = "MESSAGERIE_TEST_CLAMD"

CLEAN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def clamd() -> ClamdAddress:
    text = os.environ.get(CLAMD_VARIABLE)
    if not text:
        pytest.fail(
            f"{CLAMD_VARIABLE} is not set: run the tests with scripts/test, which starts clamd."
        )
    address = parse_clamd_address(text)
    assert address is not None
    return address


def test_eicar_is_infected(clamd):
    assert len(EICAR) == 68
    result = scan(EICAR, "eicar.com", clamd)
    assert result.verdict is AntivirusVerdict.INFECTED
    assert result.signature is not None and "Eicar-Test-Signature" in result.signature


def test_an_infected_file_is_refused_and_named(clamd):
    with pytest.raises(AntivirusRefusal) as caught:
        check_attachment(EICAR, "offre technique.pdf", clamd)
    message = str(caught.value)
    assert message.startswith(
        "Le fichier « offre technique.pdf » est infecté (Eicar-Test-Signature"
    )
    assert message.endswith(") : il est refusé.")
    assert isinstance(caught.value, Refusal)


def test_a_clean_file_is_clean(clamd):
    assert scan(CLEAN_PDF, "mémoire.pdf", clamd).verdict is AntivirusVerdict.CLEAN
    assert check_attachment(CLEAN_PDF, "mémoire.pdf", clamd) is AntivirusVerdict.CLEAN


def test_a_file_of_several_chunks_is_scanned_whole(clamd):
    # The EICAR string straddles the first 64 KiB chunk boundary: clamd must see it whole.
    padding = b"%PDF-1.4\n" + b"A" * (64 * 1024 - 9 - 30)
    clean = padding + b"B" * 200_000
    assert scan(clean, "grand.pdf", clamd).verdict is AntivirusVerdict.CLEAN
    infected = padding + EICAR + b"B" * 200_000
    assert scan(infected, "grand.pdf", clamd).verdict is AntivirusVerdict.INFECTED


def test_an_empty_file_is_clean(clamd):
    assert scan(b"", "vide.txt", clamd).verdict is AntivirusVerdict.CLEAN


def test_off_means_not_scanned():
    assert parse_clamd_address("off") is None
    assert scan(EICAR, "eicar.com", None).verdict is AntivirusVerdict.NOT_SCANNED
    assert check_attachment(EICAR, "eicar.com", None) is AntivirusVerdict.NOT_SCANNED


def test_an_unreachable_antivirus_refuses_attachments(tmp_path):
    address = parse_clamd_address(str(tmp_path / "absent.sock"))
    with pytest.raises(AntivirusRefusal) as caught:
        check_attachment(CLEAN_PDF, "mémoire.pdf", address)
    message = str(caught.value)
    assert message.startswith("L'antivirus est injoignable (")
    assert str(tmp_path / "absent.sock") in message
    assert message.endswith(
        ": les pièces jointes sont refusées. "
        "Vérifiez MESSAGERIE_CLAMD, ou choisissez « off » délibérément."
    )


def test_an_unreachable_tcp_antivirus_refuses_attachments():
    address = parse_clamd_address("tcp://127.0.0.1:1")
    with pytest.raises(AntivirusRefusal, match="injoignable"):
        check_attachment(CLEAN_PDF, "mémoire.pdf", address, timeout=2)


def test_a_file_over_the_stream_limit_is_refused(clamd):
    # scripts/lib.sh starts clamd with StreamMaxLength 25M.
    big = b"%PDF-1.4\n" + b"\0" * (26 * 1024 * 1024)
    with pytest.raises(AntivirusRefusal) as caught:
        check_attachment(big, "plans.pdf", clamd, timeout=30)
    message = str(caught.value)
    assert message.startswith("Le fichier « plans.pdf » dépasse la taille")
    assert "injoignable" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("unix:///run/clamav/clamd.ctl", ClamdAddress(path="/run/clamav/clamd.ctl")),
        ("/var/run/clamd.sock", ClamdAddress(path="/var/run/clamd.sock")),
        ("  /var/run/clamd.sock\n", ClamdAddress(path="/var/run/clamd.sock")),
        ("tcp://127.0.0.1:3310", ClamdAddress(host="127.0.0.1", port=3310)),
        ("tcp://clamav.local:3310/", ClamdAddress(host="clamav.local", port=3310)),
        ("tcp://[::1]:3310", ClamdAddress(host="::1", port=3310)),
        ("off", None),
        ("OFF", None),
    ],
)
def test_addresses(text, expected):
    assert parse_clamd_address(text) == expected


@pytest.mark.parametrize(
    "text", ["", "clamd.ctl", "unix://", "tcp://127.0.0.1", "tcp://host:port", "tcp://h:99999"]
)
def test_unreadable_addresses_are_refused(text):
    with pytest.raises(AntivirusRefusal, match="illisible"):
        parse_clamd_address(text)


def test_addresses_print_back():
    assert str(parse_clamd_address("/run/clamd.ctl")) == "unix:///run/clamd.ctl"
    assert str(parse_clamd_address("tcp://127.0.0.1:3310")) == "tcp://127.0.0.1:3310"


# --- Which antivirus is in force (the line the buyer reads, and `messagerie status`) ----------


def test_the_status_of_a_running_clamd_names_it(clamd):
    status = antivirus_status(str(clamd))
    assert status.state is AntivirusState.ON and status.usable and status.problem is None
    assert status.engine is not None and status.engine.startswith("ClamAV ")
    # The EICAR-only clamd of scripts/test loads no official base: VERSION says only
    # "ClamAV x.y.z", and the line says it is a test antivirus.
    assert status.database is None
    assert status.line == f"Antivirus : {status.engine}, sans base officielle (antivirus de test)"


def test_the_status_of_off_and_of_an_absent_clamd(tmp_path):
    off = antivirus_status("off")
    assert (off.state, off.usable, off.line) == (
        AntivirusState.OFF,
        True,
        "Antivirus désactivé — fichiers non analysés",
    )
    absent = antivirus_status(f"unix://{tmp_path}/absent.sock")
    assert (absent.state, absent.usable) == (AntivirusState.UNREACHABLE, False)
    assert absent.line == "Antivirus injoignable — les pièces jointes seront refusées"
    assert absent.problem == f"unix://{tmp_path}/absent.sock : fichier introuvable"
    refused = antivirus_status("tcp://127.0.0.1:1", timeout=2)
    assert refused.state is AntivirusState.UNREACHABLE and "tcp://127.0.0.1:1" in refused.problem
    unreadable = antivirus_status("clamd.ctl")
    assert unreadable.state is AntivirusState.UNREACHABLE and "illisible" in unreadable.problem


@pytest.mark.parametrize(
    ("reply", "line"),
    [
        (
            "ClamAV 1.4.6/27500/Mon Dec  1 08:30:00 2026",
            "Antivirus : ClamAV 1.4.6, base de signatures n° 27500 du 01/12/2026",
        ),
        ("ClamAV 1.4.6", "Antivirus : ClamAV 1.4.6, sans base officielle (antivirus de test)"),
        (
            "ClamAV 1.0.7/1/Thu Jan  1 00:00:00 1970",
            "Antivirus : ClamAV 1.0.7, base de signatures n° 1 (non datée)",
        ),
        ("UNKNOWN COMMAND", "Antivirus injoignable — les pièces jointes seront refusées"),
    ],
)
def test_what_clamds_version_answer_tells(reply, line):
    """clamd's VERSION answers as clamd writes them (no count of signatures in any)."""
    assert read_version(reply).line == line


def test_an_unreachable_antivirus_names_its_address_and_error_apart(tmp_path):
    address = parse_clamd_address(f"unix://{tmp_path}/absent.sock")
    with pytest.raises(AntivirusUnavailable) as caught:
        check_attachment(CLEAN_PDF, "mémoire.pdf", address)
    assert caught.value.address == f"unix://{tmp_path}/absent.sock"
    assert caught.value.error == "fichier introuvable"
