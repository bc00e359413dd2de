"""The random values of one recipient's copy of a message: one secret per purpose.

- ``token`` opens the personal page (``/m/TOKEN``): it travels only in the body of an "avec
  AR" e-mail, never in a header;
- ``reply_token`` names the reply address (``reply+…@``, the Reply-To);
- ``bounce_token`` names the bounce address (``bounce+…@``, the envelope sender);
- ``message_id_header`` is the e-mail's Message-ID (its random part is also the ENVID).

Each is drawn on its own, none is derived from another: seeing the headers or the relay's
logs gives the address tokens, never the page. Rows written before migration 0005 have no
address tokens: their addresses carry ``token`` and keep resolving (models/messages/inbound.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

TOKEN_BYTES = 24  # 192 random bits for each secret
MESSAGE_ID_BYTES = 18  # 144 random bits: the Message-ID must be unique, and is the ENVID too
ENVID_MAX = 100  # RFC 3461: an ENVID has at most 100 characters

Draw = Callable[[int], str]  # n bytes of randomness → URL-safe text, as secrets.token_urlsafe


def new_address_tokens(draw: Draw = secrets.token_urlsafe) -> dict[str, str]:
    """The reply and bounce addresses' tokens, as recipient columns."""
    return {"reply_token": draw(TOKEN_BYTES), "bounce_token": draw(TOKEN_BYTES)}


def new_secrets(domain: str, draw: Draw = secrets.token_urlsafe) -> dict[str, str]:
    """Every random value of a new recipient row, as its columns: the page token, the two
    address tokens and the Message-ID (on the sender's `domain`). `draw` is the demo's
    seeded generator; everything else uses the default."""
    return {
        "token": draw(TOKEN_BYTES),
        **new_address_tokens(draw),
        "message_id_header": f"<{draw(MESSAGE_ID_BYTES)}@{domain}>",
    }


def envelope_id(message_id_header: str) -> str:
    """The ENVID (RFC 3461) the outbox sends with a recipient's e-mail: the random part of its
    Message-ID, in xtext. A delivery report that names neither it nor the Message-ID is not
    about that e-mail."""
    local = message_id_header.strip().strip("<>").partition("@")[0]
    encoded = "".join(
        chr(b) if 33 <= b <= 126 and b not in b"+=" else f"+{b:02X}" for b in local.encode()
    )
    return encoded[:ENVID_MAX]
