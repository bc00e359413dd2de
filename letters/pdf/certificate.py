"""The platform's signing certificate: the configured one (PEM key and certificate, or one
PKCS#12 file), else a self-signed « Plateforme de démonstration » certificate made once in the
data folder (its key readable by its owner only) and reused from then on.

Certificates are handled as asn1crypto objects, the type pyHanko signs and verifies with; the
`cryptography` library reads, checks and makes them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from asn1crypto import keys, x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from messagerie.models.atomic_write import write_whole
from messagerie.models.clock import utc_now
from messagerie.models.errors import Refusal, os_problem
from messagerie.models.formatting import as_utc, paris_time
from messagerie.models.store.blobs import private_folder

DEMO_NAME = "Plateforme de démonstration"
DEMO_KEY, DEMO_CERT = "plateforme-demonstration.key.pem", "plateforme-demonstration.crt.pem"
DEMO_YEARS = 10
DAY = "dd/MM/yyyy"


class CertificateProblem(Refusal):
    """The configured certificate or key cannot be used; str() says which file and why."""


class CertificateOutOfDate(CertificateProblem):
    """The signing certificate is expired, or not valid yet: nothing is signed with it."""


RENEW_CONFIGURED = (
    "renouvelez-le auprès de votre autorité de certification, puis indiquez le nouveau "
    "certificat et sa clé dans MESSAGERIE_SIGNING_CERT et MESSAGERIE_SIGNING_KEY (ou "
    "MESSAGERIE_SIGNING_P12)"
)
RENEW_DEMO = (
    "relancez messagerie : le certificat de démonstration, expiré, est alors renouvelé "
    "automatiquement"
)


def ensure_valid(info: CertificateInfo, now: datetime, *, demo: bool) -> None:
    """`CertificateOutOfDate` unless the certificate is valid at `now`: its dates, and how to
    get a valid one, in French. A signature by an expired certificate proves nothing."""
    if info.valid_at(now):
        return
    start = paris_time(info.not_before, DAY) if info.not_before else "?"
    period = f"valable du {start} au {paris_time(info.not_after, DAY)}"
    if now >= info.not_after:
        state = f"a expiré le {paris_time(info.not_after, DAY)}"
        how = RENEW_DEMO if demo else RENEW_CONFIGURED
    else:
        state = "n'est pas encore valable"
        how = "vérifiez l'horloge de cette machine, ou indiquez un certificat déjà valable"
    raise CertificateOutOfDate(
        f"Le certificat de signature « {info.subject} » ({period}) {state} : rien n'a été "
        f"signé ; {how}."
    )


@dataclass(frozen=True)
class CertificateSource:
    """Where the platform's certificate comes from (the MESSAGERIE_SIGNING_* settings)."""

    key: Path | None = None
    cert: Path | None = None
    p12: Path | None = None
    p12_password: str | None = field(default=None, repr=False)
    demo_dir: Path | None = None  # where the demonstration certificate is made, once

    @property
    def configured(self) -> bool:
        return bool(self.key or self.cert or self.p12)


@dataclass(frozen=True)
class KeyPair:
    key: keys.PrivateKeyInfo
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()  # the issuers a PKCS#12 file carries
    demo: bool = False


@dataclass(frozen=True)
class CertificateInfo:
    """What a person compares: who, which certificate exactly, until when."""

    subject: str  # "CN=Plateforme de démonstration,O=messagerie (démonstration)"
    fingerprint: str  # SHA-256 of the certificate, "AB:CD:…" as `openssl x509 -fingerprint`
    not_after: datetime
    not_before: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return (self.not_before is None or self.not_before <= now) and now < self.not_after


def certificate_info(certificate: x509.Certificate) -> CertificateInfo:
    readable = pyca_x509.load_der_x509_certificate(certificate.dump())
    return CertificateInfo(
        subject=readable.subject.rfc4514_string(),  # "CN=…,O=…", as openssl shows it
        fingerprint=fingerprint(certificate),
        not_after=readable.not_valid_after_utc,
        not_before=readable.not_valid_before_utc,
    )


def fingerprint(certificate: x509.Certificate) -> str:
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(certificate.dump()).digest())


# --- Loading -----------------------------------------------------------------------------------


def load_key_pair(source: CertificateSource, *, now: datetime | None = None) -> KeyPair:
    """The configured key and certificate, or the demonstration pair (made on first use)."""
    if source.p12:
        if source.key or source.cert:
            raise CertificateProblem(
                "Choisissez MESSAGERIE_SIGNING_P12 ou MESSAGERIE_SIGNING_KEY et "
                "MESSAGERIE_SIGNING_CERT, pas les deux."
            )
        return _from_p12(source.p12, source.p12_password)
    if source.key or source.cert:
        if not (source.key and source.cert):
            missing = "MESSAGERIE_SIGNING_CERT" if source.key else "MESSAGERIE_SIGNING_KEY"
            raise CertificateProblem(
                f"{missing} manque : la clé et le certificat de signature vont ensemble."
            )
        return _from_pem(source.key, source.cert)
    if source.demo_dir is None:
        raise CertificateProblem("Aucun certificat de signature n'est configuré.")
    key_path, cert_path = ensure_demo_certificate(source.demo_dir, now=now)
    return replace(_from_pem(key_path, cert_path), demo=True)


def reference_certificate(source: CertificateSource) -> x509.Certificate | None:
    """The platform's own certificate, to recognise its signatures; the demonstration one only
    if it was made already (checking never makes one). None when there is none."""
    if source.p12:
        return _from_p12(source.p12, source.p12_password).certificate
    if source.cert:
        return read_certificate(source.cert)
    if source.demo_dir is not None and (source.demo_dir / DEMO_CERT).is_file():
        return read_certificate(source.demo_dir / DEMO_CERT)
    return None


def read_certificate(path: Path) -> x509.Certificate:
    """A certificate file, PEM or DER (of a PEM file holding several, the first)."""
    return read_certificates(path)[0]


def read_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate of a file: one DER, or one or more PEM (an authority and its root)."""
    data = _read(path, "certificat")
    try:
        if b"-----BEGIN" in data:
            loaded = pyca_x509.load_pem_x509_certificates(data)
        else:
            loaded = [pyca_x509.load_der_x509_certificate(data)]
    except ValueError:
        raise CertificateProblem(
            f"« {path} » n'est pas un certificat X.509 lisible (PEM ou DER)."
        ) from None
    der = serialization.Encoding.DER
    return [x509.Certificate.load(one.public_bytes(der)) for one in loaded]


def _from_pem(key_path: Path, cert_path: Path) -> KeyPair:
    data = _read(key_path, "clé privée")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise CertificateProblem(
            f"« {key_path} » n'est pas une clé privée PEM lisible (sans mot de passe)."
        ) from None
    certificate = read_certificate(cert_path)
    return KeyPair(_key_info(key, certificate, key_path), certificate)


def _from_p12(path: Path, password: str | None) -> KeyPair:
    data = _read(path, "PKCS#12")
    try:
        key, certificate, others = pkcs12.load_key_and_certificates(
            data, password.encode() if password else None
        )
    except ValueError:
        raise CertificateProblem(
            f"« {path} » ne s'ouvre pas : fichier PKCS#12 invalide ou mot de passe "
            "(MESSAGERIE_SIGNING_P12_PASSWORD) incorrect."
        ) from None
    if key is None or certificate is None:
        raise CertificateProblem(f"« {path} » ne contient pas de clé privée et son certificat.")
    leaf = x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    chain = tuple(
        x509.Certificate.load(other.public_bytes(serialization.Encoding.DER)) for other in others
    )
    return KeyPair(_key_info(key, leaf, path), leaf, chain)


def _key_info(key, certificate: x509.Certificate, where: Path) -> keys.PrivateKeyInfo:  # type: ignore[no-untyped-def]
    """The key as pyHanko takes it, once checked against the certificate."""
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if public != certificate.public_key.dump():
        raise CertificateProblem(
            f"La clé privée « {where} » ne correspond pas au certificat de signature."
        )
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return keys.PrivateKeyInfo.load(der)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CertificateProblem(
            f"Fichier {what} « {path} » illisible : {os_problem(error)}."
        ) from None


# --- The demonstration certificate -------------------------------------------------------------


def ensure_demo_certificate(folder: Path, *, now: datetime | None = None) -> tuple[Path, Path]:
    """The demonstration key and certificate in `folder`, made the first time, and made again
    when the one there is not valid at `now` (expired: the old pair is kept beside, renamed
    with its end date, so that what it signed can still be recognised). Under a lock: two
    processes starting together make one pair. The key is written 0600."""
    now = now or utc_now()
    key_path, cert_path = folder / DEMO_KEY, folder / DEMO_CERT
    if _usable_demo(key_path, cert_path, now):
        return key_path, cert_path
    try:
        private_folder(folder)
        with _locked(folder / ".verrou"):
            if not _usable_demo(key_path, cert_path, now):
                _set_aside(key_path, cert_path)
                key_pem, cert_pem = _demo_pair(now)
                write_whole(key_path, key_pem, mode=0o600)
                write_whole(cert_path, cert_pem, mode=0o644)
    except OSError as error:
        raise CertificateProblem(
            f"Impossible de créer le certificat de démonstration dans « {folder} » : "
            f"{os_problem(error)}."
        ) from None
    return key_path, cert_path


def _usable_demo(key_path: Path, cert_path: Path, now: datetime) -> bool:
    """Both files there, and the certificate valid at `now` (an unreadable one is reported
    when it is loaded, not replaced)."""
    if not (key_path.is_file() and cert_path.is_file()):
        return False
    try:
        return certificate_info(read_certificate(cert_path)).valid_at(now)
    except CertificateProblem:
        return True


def _set_aside(key_path: Path, cert_path: Path) -> None:
    """An out-of-date demonstration pair renamed "….expire-AAAAMMJJ.….pem", never deleted."""
    if not cert_path.is_file():
        return
    end = certificate_info(read_certificate(cert_path)).not_after.strftime("%Y%m%d")
    for path in (key_path, cert_path):
        if path.is_file():
            stem, _, suffix = path.name.partition(".")
            path.replace(path.with_name(f"{stem}.expire-{end}.{suffix}"))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _demo_pair(now: datetime) -> tuple[bytes, bytes]:
    """An EC P-256 key and its self-signed certificate, valid ten years from `now`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = pyca_x509.Name(
        [
            pyca_x509.NameAttribute(NameOID.ORGANIZATION_NAME, "messagerie (démonstration)"),
            pyca_x509.NameAttribute(NameOID.COMMON_NAME, DEMO_NAME),
        ]
    )
    start = as_utc(now) - timedelta(days=1)
    usage = pyca_x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    basic = pyca_x509.BasicConstraints(ca=False, path_length=None)
    return self_signed_pair(
        key, name, start, start + timedelta(days=365 * DEMO_YEARS), extensions=(basic, usage)
    )


def self_signed_pair(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    name: pyca_x509.Name,
    start: datetime,
    end: datetime,
    *,
    extensions: tuple[pyca_x509.ExtensionType, ...] = (),
) -> tuple[bytes, bytes]:
    """`key` (PEM, PKCS#8) and its certificate for `name`, self-signed, valid from `start` to
    `end`, with `extensions` (critical), as PEM."""
    builder = (
        pyca_x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(pyca_x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=True)
    certificate = builder.sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)
