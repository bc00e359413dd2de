"""SIRET numbers: 14 digits (SIREN 9 + NIC 5) whose Luhn checksum is valid."""

import re

from messagerie.models.text import ascii_digits

_NON_DIGITS = re.compile(r"[\s.]")


def normalise_siret(text: str) -> str:
    """The digits of a SIRET as typed with spaces or dots ("476 460 118 00047")."""
    return _NON_DIGITS.sub("", text)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def siret_is_valid(text: str) -> bool:
    digits = normalise_siret(text)
    return len(digits) == 14 and ascii_digits(digits) and luhn_valid(digits)


def format_siret(digits: str) -> str:
    """As the platform shows it: SIREN, a space, NIC ("476460118 00047")."""
    return f"{digits[:9]} {digits[9:]}" if len(digits) == 14 else digits
