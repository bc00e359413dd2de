"""The clamd client against a real clamd (scripts/test starts one, sets MESSAGERIE_TEST_CLAMD)."""

from __future__ import annotations

import os

import pytest

from letters.antivirus import (
    AntivirusRefusal,
    ClamdAddress,
    check_attachment,
    parse_clamd_address,
    scan,
)
from models.enums import AntivirusVerdict
from models.errors import Refusal

CLAMD_VARIABLE = "MESSAGERIE_TEST_CLAMD"

# The standard EICAR test string, in two halves so that this file is not flagged itself.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
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
