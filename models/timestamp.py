"""An RFC 3161 timestamp as the verifications report it (letters/pdf/sign.py reads it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Stamp:
    """An intact RFC 3161 token over a signature: the time it attests, and whose it is."""

    at: datetime
    authority: str  # its signer's subject, "CN=…,O=…"
    trusted: bool | None  # chains to an authority given; None: none was given to judge it
