"""The platform's signatures: every AR PDF is signed PAdES (baseline B-B, or B-T with the
RFC 3161 timestamp of MESSAGERIE_TSA_URL) by incremental update, so the document stays the
PDF/A-3b weasyprint drew; the proof bundle's manifest gets a detached CMS signature.

One `PlatformSigner` is built per process (tui/services.py) and handed to every AR.
pyHanko works with coroutines: each signature runs in its own event loop, in a helper thread
when the caller already runs one.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from asn1crypto import cms, x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from messagerie.letters.pdf.certificate import (
    CertificateInfo,
    CertificateSource,
    KeyPair,
    certificate_info,
    ensure_valid,
    load_key_pair,
)
from messagerie.models.clock import utc_now
from messagerie.models.errors import Refusal
from messagerie.models.formatting import paris_seconds
from messagerie.models.timestamp import Stamp

T = TypeVar("T")
# pyHanko logs what it could not validate (a timestamp's self-signed authority) with its
# traceback: without a handler of ours, Python printed it on the command line's stderr. What
# matters is said in French by the caller; a service that sets up logging still gets them.
for _library in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_library).addHandler(logging.NullHandler())
FIELD = "Signature-plateforme"
DIGEST = "sha256"
REASON = "Accusé de réception établi par la plateforme de messagerie sécurisée"
# Signing, then asking the authority, takes seconds even for millions of anchored heads: a
# timestamp further from the signed time than this does not attest it.
STAMP_GAP = timedelta(minutes=15)
# The stamp comes after the signing: before it by more than two clocks may differ, the
# signature claims a time later than the one it provably existed at.
CLOCK_SKEW = timedelta(minutes=2)


class SigningProblem(Refusal):
    """A signature could not be made (timestamping authority, damaged PDF); str() in French."""


@dataclass(frozen=True, eq=False)
class PlatformSigner:
    """The platform's key and certificate, ready to sign, and its timestamping authority."""

    signer: signers.SimpleSigner
    info: CertificateInfo
    demo: bool  # the self-signed demonstration certificate
    timestamper: TimeStamper | None = None
    tsa_url: str | None = None
    # MESSAGERIE_TSA_CERT: a token signed by anyone else is refused (HTTP can be intercepted)
    tsa_authorities: tuple[x509.Certificate, ...] = ()

    @property
    def certificate(self) -> x509.Certificate:
        certificate = self.signer.signing_cert
        assert certificate is not None
        return certificate

    def ensure_valid(self, now: datetime) -> None:
        """`CertificateOutOfDate`, in French, unless the certificate is valid at `now`."""
        ensure_valid(self.info, now, demo=self.demo)


def platform_signer(
    source: CertificateSource,
    tsa_url: str | None = None,
    tsa_authorities: Sequence[x509.Certificate] = (),
    *,
    now: datetime | None = None,
) -> PlatformSigner:
    """The signer of `source` (the demonstration certificate is made on first use)."""
    return signer_of(load_key_pair(source, now=now), tsa_url, tsa_authorities)


def signer_of(
    pair: KeyPair, tsa_url: str | None = None, tsa_authorities: Sequence[x509.Certificate] = ()
) -> PlatformSigner:
    """The signer of a key pair already loaded (an export's worker processes rebuild it)."""
    signer = signers.SimpleSigner(
        signing_cert=pair.certificate,
        signing_key=pair.key,
        cert_registry=SimpleCertificateStore.from_certs(pair.chain),
    )
    return PlatformSigner(
        signer=signer,
        info=certificate_info(pair.certificate),
        demo=pair.demo,
        timestamper=HTTPTimeStamper(tsa_url, timeout=10) if tsa_url else None,
        tsa_url=tsa_url,
        tsa_authorities=tuple(tsa_authorities),
    )


def sign_pdf(data: bytes, signer: PlatformSigner, *, now: datetime | None = None) -> bytes:
    """`data` (a PDF) signed PAdES by incremental update: every byte of `data` is kept, and
    the signature covers all of them. `CertificateOutOfDate` when the certificate is not
    valid at `now`."""
    signer.ensure_valid(now or utc_now())
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
    except (PdfError, ValueError) as error:
        raise SigningProblem(f"Le PDF à signer est illisible ({error}).") from error
    _same_producer(writer)
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(
            field_name=FIELD,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm=DIGEST,
            reason=REASON,
        ),
        signer.signer,
        timestamper=signer.timestamper,
    )
    output = _run(lambda: pdf_signer.async_sign_pdf(writer), signer)
    if signer.timestamper is not None:
        from pyhanko.pdf_utils.reader import PdfFileReader

        signed = PdfFileReader(output, strict=False).embedded_signatures[-1]
        _ensure_authority(signed.signer_info, signer, signed.self_reported_timestamp)
    return output.getvalue()


def _same_producer(writer: IncrementalPdfFileWriter) -> None:
    """pyHanko writes its name as pdf:Producer in the XMP and appends it to the Info
    dictionary's: PDF/A wants both to say the same, so the Info one says it alone."""
    try:
        info = writer.trailer["/Info"]
    except KeyError:
        return
    if isinstance(info, generic.DictionaryObject):
        info["/Producer"] = generic.TextStringObject(VENDOR)
        writer.update_container(info)


def sign_detached(data: bytes, signer: PlatformSigner, *, now: datetime | None = None) -> bytes:
    """A detached CMS signature (DER, as in a .p7s file) of `data`, dated `now`."""
    now = now or utc_now()
    signer.ensure_valid(now)
    attributes = PdfCMSSignedAttributes(signing_time=now)
    content = _run(
        lambda: signer.signer.async_sign_general_data(
            data,
            DIGEST,
            detached=True,
            timestamper=signer.timestamper,
            signed_attr_settings=attributes,
        ),
        signer,
    )
    (signer_info,) = content["content"]["signer_infos"]
    _ensure_authority(signer_info, signer, now)
    return content.dump()


def _ensure_authority(
    signer_info: cms.SignerInfo, signer: PlatformSigner, signed_at: datetime | None
) -> None:
    """A SigningProblem unless the token just received will count for `verify`: signed by
    MESSAGERIE_TSA_CERT's authority when it is set (over plain HTTP, anyone in between can
    answer with a time of their own), and close to the time the signature says."""
    if signer.timestamper is None:
        return
    stamp = stamp_of(signer_info, signer.tsa_authorities)
    if signer.tsa_authorities and (stamp is None or not stamp.trusted):
        who = f"signé par « {stamp.authority} »" if stamp else "illisible"
        raise SigningProblem(
            f"L'autorité d'horodatage {signer.tsa_url} a répondu par un jeton {who}, qui n'est "
            "pas une autorité de MESSAGERIE_TSA_CERT : rien n'a été signé."
        )
    if stamp is not None and stamp_problem(stamp, signed_at):
        here = paris_seconds(signed_at) if signed_at else "?"
        raise SigningProblem(
            f"L'autorité d'horodatage {signer.tsa_url} date son jeton du "
            f"{paris_seconds(stamp.at)}, trop loin de l'heure de ce serveur ({here}) : son "
            "horloge est-elle à l'heure (NTP) ? Rien n'a été signé."
        )


def _run(make: Callable[[], Coroutine[Any, Any, T]], signer: PlatformSigner) -> T:
    """Run pyHanko's signing coroutine to its end; the timestamping authority's failure said
    in French."""
    try:
        return _to_the_end(make)
    except TimestampRequestError as error:
        raise SigningProblem(
            f"L'autorité d'horodatage {signer.tsa_url} (MESSAGERIE_TSA_URL) n'a pas répondu "
            f"({error}) : rien n'a été signé."
        ) from error
    except SigningError as error:
        raise SigningProblem(f"La signature a échoué : {error}.") from error


def _to_the_end(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a pyHanko coroutine to its end, in a thread of its own when this one already runs
    an event loop (an async caller)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


# --- Reading a detached signature back ----------------------------------------------------------


@dataclass(frozen=True)
class DetachedSignature:
    """What a detached signature says of itself, once checked against the signed data."""

    intact: bool  # the data are those that were signed, and the signature is the key's
    certificate: x509.Certificate
    signed_at: datetime | None  # the signer's own clock (signingTime attribute)
    stamp: Stamp | None = None

    @property
    def info(self) -> CertificateInfo:
        return certificate_info(self.certificate)

    @property
    def fingerprint(self) -> str:
        return self.info.fingerprint


class UnreadableSignature(Refusal):
    """Not a CMS signature at all, or one without its signer's certificate."""


def read_detached(
    data: bytes, signature: bytes, authorities: Sequence[x509.Certificate] = ()
) -> DetachedSignature:
    """Check the detached CMS `signature` over `data`: integrity and the signer's key, not
    trust (whose certificate it is, the caller compares); and its timestamp's, judged against
    the timestamping `authorities` when there are some."""
    from pyhanko.sign.validation.generic_cms import (
        extract_certs_for_validation,
        extract_self_reported_ts,
        validate_sig_integrity,
    )

    try:
        content = cms.ContentInfo.load(signature)
        signed_data = content["content"]
        if content["content_type"].native != "signed_data":
            raise ValueError("not signed data")
        (signer_info,) = signed_data["signer_infos"]
        certificate = extract_certs_for_validation(signed_data).signer_cert
        algorithm = signer_info["digest_algorithm"]["algorithm"].native
        digest = hashlib.new(algorithm, data).digest()
        intact, valid = validate_sig_integrity(signer_info, certificate, "data", digest)
        signed_at = extract_self_reported_ts(signer_info)
        stamp = stamp_of(signer_info, authorities)
    except Exception as error:  # asn1crypto and pyHanko raise many kinds on garbage
        raise UnreadableSignature(f"signature illisible ({type(error).__name__})") from error
    return DetachedSignature(intact and valid, certificate, signed_at, stamp)


def stamp_of(signer_info: cms.SignerInfo, authorities: Sequence[x509.Certificate]) -> Stamp | None:
    """The RFC 3161 token over this very signature that is intact and, when `authorities`
    are given, chains to one of them (at the time it attests, its own certificate valid
    then, without fetching anything); else the first intact one, judged untrusted. A token
    anyone can add beside the authority's does not hide it, nor does one the authority gave
    later (anyone can have it stamp the signature again): of several, the earliest."""
    from pyhanko.sign.validation.generic_cms import (
        extract_tst_data_iter,
        message_imprint_checker,
        validate_tst_signed_data,
    )
    from pyhanko_certvalidator import ValidationContext

    found: list[Stamp] = []
    for token in extract_tst_data_iter(signer_info, signed=False):
        imprint = message_imprint_checker(signer_info)
        said = token["encap_content_info"]["content"].parsed["gen_time"].native
        # Never the system's trust list: without authorities, only integrity is judged.
        context = ValidationContext(
            trust_roots=list(authorities), allow_fetching=False, moment=said
        )
        status = _to_the_end(lambda: validate_tst_signed_data(token, context, imprint))  # noqa: B023
        if not (status.get("intact") and status.get("valid")):
            continue
        info = certificate_info(status["signing_cert"])
        # pyHanko does not date a trust anchor: an authority's own certificate, expired,
        # went on dating tokens.
        trusted = status["trust_problem_indic"] is None and info.valid_at(status["timestamp"])
        found.append(Stamp(status["timestamp"], info.subject, trusted if authorities else None))
    # The trusted first (None, unjudged, stands with them), then the earliest.
    return min(found, key=lambda stamp: (stamp.trusted is False, stamp.at), default=None)


def carries_timestamp(signature: bytes) -> bool:
    """The detached CMS `signature` carries an RFC 3161 token (whether it holds is not
    judged here); False for anything unreadable."""
    try:
        (signer_info,) = cms.ContentInfo.load(signature)["content"]["signer_infos"]
        attributes = signer_info["unsigned_attrs"].native or []
        return any(one["type"] == "signature_time_stamp_token" for one in attributes)
    except Exception:  # asn1crypto raises many kinds on garbage
        return False


def stamp_problem(stamp: Stamp | None, signed_at: datetime | None) -> str | None:
    """Why a signature's timestamp does not attest its date, in French; None when it does or
    there is none. Another authority's, or a time far from the signed one: a key holder
    could date it as they please."""
    if stamp is None:
        return None
    if stamp.trusted is False:
        return (
            f"horodaté par « {stamp.authority} », qui n'est pas une autorité de "
            "MESSAGERIE_TSA_CERT : sa date n'est pas attestée"
        )
    if signed_at is None or not -CLOCK_SKEW <= stamp.at - signed_at <= STAMP_GAP:
        return (
            f"horodaté le {paris_seconds(stamp.at)}, trop loin de sa date signée (de "
            f"{CLOCK_SKEW.seconds // 60} minutes avant à {STAMP_GAP.seconds // 60} minutes "
            "après) : sa date n'est pas attestée"
        )
    return None


# --- Checking a signed PDF ---------------------------------------------------------------------


def pdf_signature_problem(
    data: bytes, expected: x509.Certificate | None, authorities: Sequence[x509.Certificate] = ()
) -> str | None:
    """Why the PDF `data` is not signed by `expected` over all its bytes, or its timestamp
    does not date it (`stamp_problem`, against the timestamping `authorities`), in French to
    follow « AR du destinataire n° 12 »; None when it is: pyHanko's validation of its last
    signature, with that certificate as the only trust anchor. Without `expected`, only
    whether the signature is intact (its signer is then its own anchor)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        found = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception:  # pyHanko raises many kinds on a damaged file
        return "illisible, signature invérifiable"
    if not found:
        return "non signé"
    signature = found[-1]
    try:
        signer_cert = signature.signer_cert
        expected = expected or signer_cert
        if signer_cert.dump() != expected.dump():
            return "signé par un autre certificat que celui de la plateforme"
        context = ValidationContext(trust_roots=[expected], allow_fetching=False)
        status = _to_the_end(  # no diff analysis: only ENTIRE_FILE passes below
            lambda: async_validate_pdf_signature(signature, context, skip_diff=True)
        )
    except Exception as error:  # asn1crypto and pyHanko raise many kinds on garbage
        return f"à la signature illisible ({type(error).__name__})"
    if not (status.intact and status.valid):
        return "à la signature invalide (document modifié après sa signature)"
    if status.coverage is not SignatureCoverageLevel.ENTIRE_FILE:
        return "modifié après sa signature (ajout au fichier signé)"
    try:
        stamp = stamp_of(signature.signer_info, authorities)
    except Exception as error:  # a token pyHanko cannot read
        return f"à l'horodatage illisible ({type(error).__name__})"
    return stamp_problem(stamp, signature.self_reported_timestamp)
