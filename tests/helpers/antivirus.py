"""The tests' clamd (scripts/test starts it, sets MESSAGERIE_TEST_CLAMD) and the file it flags."""

from __future__ import annotations

import os

import pytest

from messagerie.letters.intake.antivirus import parse_clamd_address
from messagerie.letters.intake.files import IntakeOptions

# The standard EICAR test string, in two halves so that this file is not flagged itself.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def intake(max_bytes: int = 2_000_000) -> IntakeOptions:
    clamd = os.environ.get("MESSAGERIE_TEST_CLAMD")
    if not clamd:
        pytest.fail("MESSAGERIE_TEST_CLAMD is not set: run the tests with scripts/test.")
    return IntakeOptions(parse_clamd_address(clamd), max_bytes)
