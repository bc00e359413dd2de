"""DKIM: every outgoing e-mail signed (dkimpy, relaxed/relaxed, From, To, Subject, Date and
Message-ID, and the body's hash) with MESSAGERIE_DKIM_KEY, for the domain of its sender, under
MESSAGERIE_DKIM_SELECTOR; the DNS record that publishes the public key (`messagerie
dkim-record`); and every e-mailed reply's signature checked at its arrival (`check_dkim`),
its domain's key looked up in the DNS (MESSAGERIE_DNS_SERVER, else the system's).
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dkim
import dns.exception
import dns.rdatatype
import dns.resolver
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dkim.crypto import parse_public_key
from dkim.util import parse_tag_value

from messagerie.models.errors import Refusal, os_problem
from messagerie.models.messages.inbound import DkimCheck, same_organisation
from messagerie.models.rules.validation import address_domain
from messagerie.models.store.database import Store
from messagerie.models.store.enums import DkimResult
from messagerie.models.store.tables import purchasing_entity

SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id")
CANONICALIZATION = (b"relaxed", b"relaxed")
MIN_BITS = 1024  # what receivers (and dkimpy) accept at least
TXT_CHUNK = 255  # longest character-string of a TXT record
SIGNATURES_TRIED = 5  # a hostile e-mail's hundred signatures must not mean a hundred lookups
DNS_SECONDS = 5.0  # one e-mail's lookups in all: the reply waits for them in a worker
DOMAIN_MAX = 253
DOMAIN_NAME = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)
HEAD_MAX = 64 << 10  # an e-mail's headers: a few kB, tens with a long relay trail
HEADERS_MAX = 500  # header fields: a long relay trail has some fifty
SIGNED_HEADERS_MAX = 100  # names in a signature's h=: providers sign about twenty
KEY_RECORD_MAX = 2048  # a 4096-bit RSA key's record is some 750 bytes
BARE_CR = re.compile(rb"\r(?!\n)")
# dkimpy logs every signature it cannot verify: what matters is kept with the reply.
_QUIET = logging.getLogger("messagerie.dkim")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False
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


# --- Replies: their signature checked at arrival ------------------------------------------------

TxtLookup = Callable[..., bytes | None]  # dkimpy's dnsfunc: (name, timeout) → the TXT text
UNANSWERED = (
    dns.exception.Timeout,
    dns.resolver.NoNameservers,
    dns.resolver.NoResolverConfiguration,
)


def txt_lookup(server: str | None = None, seconds: float = DNS_SECONDS) -> TxtLookup:
    """The TXT lookup dkimpy asks for a domain's key: from `server` (`dns_server`'s "IP" or
    "IP:port"), else from the system's resolvers, `seconds` at most. No answer (or no
    resolver at all) raises dkimpy's DnsTimeoutError: « invérifiable », not « invalide »."""
    address = dns_server(server) if server is not None else None

    @functools.cache  # built on first use: reading resolv.conf may fail, and says so
    def resolver() -> dns.resolver.Resolver:
        made = dns.resolver.Resolver(configure=address is None)
        if address is not None:
            made.nameservers, made.port = [address[0]], address[1]
        made.lifetime = seconds
        return made

    def lookup(name: bytes, timeout: float = seconds) -> bytes | None:  # dkimpy names `timeout`
        try:
            answer = resolver().resolve(name.decode("ascii"), "TXT", raise_on_no_answer=False)
        except UNANSWERED as error:
            raise dkim.DnsTimeoutError(str(error)) from None
        except (UnicodeError, dns.exception.DNSException):
            return None  # no such name, or not a name at all: no key
        for rrset in answer.response.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b"".join(next(iter(rrset)).strings)
        return None

    return lookup


def dns_server(text: str) -> tuple[str, int]:
    """MESSAGERIE_DNS_SERVER's address and port: "192.0.2.53", "192.0.2.53:5353",
    "2001:db8::53", "[2001:db8::53]:5353"; a DkimProblem saying what to write otherwise."""
    host, port = text.strip(), "53"
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":") if rest else port
    elif host.count(":") == 1:
        host, _, port = host.partition(":")
    try:
        address, number = ipaddress.ip_address(host), int(port)
        if not 0 < number < 65536:
            raise ValueError(port)
    except ValueError:
        raise DkimProblem(
            f"MESSAGERIE_DNS_SERVER « {text} » : écrivez l'adresse IP d'un serveur DNS, suivie "
            "au besoin de « :port » (192.0.2.53:5353, [2001:db8::53]:53)."
        ) from None
    return str(address), number


def check_dkim(data: bytes, lookup: TxtLookup, sender: str | None = None) -> DkimCheck:
    """What the DKIM signatures of the raw e-mail `data` say: one that verifies with its
    domain's key and covers the whole e-mail and its From (PASS; the `sender`'s domain's
    first, an e-mail service's otherwise), else FAIL (naming the domain of one that failed),
    else TEMPERROR when keys could not be looked up, or NONE without a signature. Never
    raises, and is bounded in time: a hostile e-mail's reply is still recorded, and the
    listener's other clients do not wait for it."""
    head = data.partition(b"\r\n\r\n")[0].partition(b"\n\n")[0]
    if b"dkim-signature:" not in head.lower():
        return DkimCheck(DkimResult.NONE, None)
    if len(head) > HEAD_MAX or BARE_CR.search(head):
        # dkimpy reads folded headers in quadratic time; and a bare CR splits a line for
        # Python's mail parser (which shows the From) and not for dkimpy (which checked it).
        return DkimCheck(DkimResult.FAIL, None)
    try:
        signed = dkim.DKIM(data, logger=_QUIET)
        count = sum(1 for name, _ in signed.headers if name.lower() == b"dkim-signature")
    except Exception:  # dkimpy on an e-mail it cannot split into headers and body
        return DkimCheck(DkimResult.FAIL, None)
    if len(signed.headers) > HEADERS_MAX:  # dkimpy picks the signed ones in quadratic time
        return DkimCheck(DkimResult.FAIL, None)
    failed: list[str | None] = []
    intact: dict[int, bool] = {}  # index → it signed the whole body
    for index in range(min(count, SIGNATURES_TRIED)):
        # Checked without the DNS first: a signature on top whose domain never answers must
        # not use up the time a changed body's own signature needs to be found invalid.
        fields, whole = _body_check(signed, index)
        if fields is None:
            intact[index] = whole
        else:
            failed.append(_domain(fields.get(b"d")))
    passed, unanswered, refused = _verified(signed, intact, lookup)
    for result in (DkimResult.PASS, DkimResult.PARTIAL):
        if found := [domain for domain, whole in passed if whole is (result is DkimResult.PASS)]:
            aligned = [one for one in found if same_organisation(one, sender)]
            return DkimCheck(result, (aligned or found)[0])
    failed += refused  # one that fails on its content outweighs one left unanswered
    if failed or not unanswered:
        return DkimCheck(DkimResult.FAIL, next((one for one in failed if one), None))
    return DkimCheck(DkimResult.TEMPERROR, next((one for one in unanswered if one), None))


def _body_check(signed: dkim.DKIM, index: int) -> tuple[dict[bytes, bytes] | None, bool]:
    """The fields of signature `index` when they are unusable, or its body hash (bh=) is not
    the body's (it fails whatever its key), else None; and whether it signed the whole body
    (a body length, l=, leaves what follows it unsigned)."""
    try:
        signed.verify_headerprep(index)
        fields = signed.signature_fields
        if len(signed.include_headers) > SIGNED_HEADERS_MAX:
            return fields, False  # a long h=: quadratic in dkimpy
        policy = dkim.CanonicalizationPolicy.from_c_value(fields.get(b"c", b"simple/simple"))
        body = policy.canonicalize_body(signed.body)
        length = int(fields[b"l"]) if b"l" in fields else len(body)
        digest = dkim.HASH_ALGORITHMS[fields[b"a"]](body[:length]).digest()
        expected = base64.b64decode(re.sub(rb"\s+", b"", fields[b"bh"]))
    except Exception:  # fields dkimpy cannot read: the signature fails
        return {}, False
    whole = length == len(body)
    return (None, whole) if digest == expected and length <= len(body) else (fields, False)


def _verified(
    signed: dkim.DKIM, intact: dict[int, bool], lookup: TxtLookup
) -> tuple[list[tuple[str, bool]], list[str | None], list[str | None]]:
    """The domains of the `intact` signatures (index → whole body) that verify and cover the
    From (with whether they signed the whole body), of those whose key lookup timed out, and
    of those that failed."""
    lookups = _BoundedLookups(lookup)
    passed: list[tuple[str, bool]] = []
    unanswered: list[str | None] = []
    refused: list[str | None] = []
    for index, whole in intact.items():
        signed.domain, lookups.timed_out = None, False
        try:
            verified = signed.verify(idx=index, dnsfunc=lookups)
        except Exception:  # a signature or key badly formed (DKIMException, and worse)
            verified = False
        domain = _domain(signed.domain)
        if verified and b"from" in (signed.include_headers or ()) and domain is not None:
            passed.append((domain, whole))
        else:
            (unanswered if lookups.timed_out else refused).append(domain)
    return passed, unanswered, refused


class _BoundedLookups:
    """dkimpy's dnsfunc for one e-mail: every lookup within DNS_SECONDS in all (five silent
    domains must not hold a worker five times over), and no key an attacker made costly."""

    def __init__(self, lookup: TxtLookup) -> None:
        self.lookup, self.timed_out = lookup, False
        self.deadline = time.monotonic() + DNS_SECONDS

    def __call__(self, name: bytes, timeout: float = DNS_SECONDS) -> bytes | None:
        try:
            if time.monotonic() >= self.deadline:
                raise dkim.DnsTimeoutError("no time left for this e-mail's lookups")
            record = self.lookup(name, timeout=timeout)
        except dkim.DnsTimeoutError:
            self.timed_out = True  # dkimpy takes it for a key not found: said apart here
            raise
        return record if record is None or _cheap_key(record) else None


def _cheap_key(record: bytes) -> bool:
    """A key record dkimpy can check quickly, read as dkimpy reads it: short, and an RSA key
    of at most 8192 bits with an exponent under 2**32 (dkimpy's pure-Python pow() holds the
    GIL: a 100,000-bit exponent froze the listener for seconds), or an Ed25519 one."""
    if len(record) > KEY_RECORD_MAX:
        return False
    try:
        tags = parse_tag_value(record)
        if tags.get(b"k", b"rsa") == b"ed25519":
            return True  # fixed-size
        key = parse_public_key(base64.b64decode(b"".join(tags[b"p"].split())))
    except Exception:  # what dkimpy's reader refuses, or reads otherwise than ours
        return False
    return bool(key["publicExponent"] < 2**32 and key["modulus"].bit_length() <= 8192)


def _domain(value: object) -> str | None:
    """The d= tag when it is a domain name (letters, digits, hyphens and dots), lower case;
    None otherwise: such a signature is not taken as anyone's."""
    if not isinstance(value, bytes):
        return None
    text = value.decode("ascii", "replace").strip().rstrip(".").lower()
    return text if len(text) <= DOMAIN_MAX and DOMAIN_NAME.fullmatch(text) else None
