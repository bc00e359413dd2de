"""DKIM: every outgoing e-mail signed (dkimpy, relaxed/relaxed, From, To, Subject, Date and
Message-ID, and the body's hash) with MESSAGERIE_DKIM_KEY, for the domain of its sender, under
MESSAGERIE_DKIM_SELECTOR; and the DNS record that publishes the public key
(`messagerie dkim-record`).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path

import dkim
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from messagerie.models.errors import Refusal, os_problem
from messagerie.models.rules.validation import address_domain
from messagerie.models.store.database import Store
from messagerie.models.store.tables import purchasing_entity

SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id")
CANONICALIZATION = (b"relaxed", b"relaxed")
MIN_BITS = 1024  # what receivers (and dkimpy) accept at least
TXT_CHUNK = 255  # longest character-string of a TXT record
_SELECTOR = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*")


class DkimProblem(Refusal):
    """The DKIM settings cannot be used; str() says which and why, in French."""


@dataclass(frozen=True)
class DkimKey:
    selector: str
    private_pem: bytes = field(repr=False)
    public_der: bytes  # SubjectPublicKeyInfo, as the DNS record publishes it

    def sign(self, mail: bytes, domain: str) -> bytes:
        """`mail` with its DKIM-Signature header first, for `domain` (the sender's)."""
        try:
            header = dkim.sign(
                mail,
                self.selector.encode("ascii"),
                domain.encode("idna"),
                self.private_pem,
                canonicalize=CANONICALIZATION,
                include_headers=list(SIGNED_HEADERS),
            )
        except (dkim.DKIMException, UnicodeError) as error:
            raise DkimProblem(f"Signature DKIM impossible pour « {domain} » : {error}") from error
        return header + mail

    def record(self, domain: str) -> str:
        """The TXT record to publish: `sel._domainkey.domain IN TXT "v=DKIM1; k=rsa; p=…"`,
        its text cut in strings of 255 characters at most, as DNS requires (a resolver joins
        them back)."""
        text = "v=DKIM1; k=rsa; p=" + base64.b64encode(self.public_der).decode("ascii")
        strings = " ".join(
            f'"{text[start : start + TXT_CHUNK]}"' for start in range(0, len(text), TXT_CHUNK)
        )
        return f"{self.selector}._domainkey.{domain} IN TXT {strings}"


def load_dkim_key(path: Path | None, selector: str | None) -> DkimKey | None:
    """The key of MESSAGERIE_DKIM_KEY (a PEM RSA private key) under MESSAGERIE_DKIM_SELECTOR;
    None when neither is set, a DkimProblem when only one is or the key cannot be used."""
    if path is None and not selector:
        return None
    if path is None or not selector:
        missing = "MESSAGERIE_DKIM_KEY" if path is None else "MESSAGERIE_DKIM_SELECTOR"
        raise DkimProblem(f"{missing} manque : la clé DKIM et son sélecteur vont ensemble.")
    if not _SELECTOR.fullmatch(selector):
        raise DkimProblem(
            f"Sélecteur DKIM invalide : « {selector} » (lettres, chiffres, tirets et points)."
        )
    try:
        pem = path.read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
    except OSError as error:
        raise DkimProblem(f"Clé DKIM « {path} » illisible : {os_problem(error)}.") from None
    except (ValueError, TypeError):
        raise DkimProblem(
            f"« {path} » n'est pas une clé privée PEM lisible (sans mot de passe)."
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_BITS:
        raise DkimProblem(f"La clé DKIM « {path} » doit être une clé RSA d'au moins 1024 bits.")
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    canonical = key.private_bytes(  # PKCS#1 with LF line ends, the form dkimpy parses
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return DkimKey(selector, canonical, public)


def sender_domains(store: Store) -> list[str]:
    """The domains the purchasing entities send from, each once: those DKIM signs for."""
    entity = purchasing_entity
    with store.engine.connect() as connection:
        addresses = connection.execute(sa.select(entity.c.sender_email).distinct()).scalars()
        return sorted({address_domain(address) for address in addresses if "@" in address})
