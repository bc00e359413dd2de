"""What the settings make of the letters' services, built in one place for the CLI, the TUI
and the embedded demo: the attachments' checks, the relay, one pass of the outbox, the page,
the platform's signer (ARs, bundles) and the DKIM key (e-mails).

Imports are lazy: the TUI's first frame must not wait for aiosmtplib or Starlette."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from asn1crypto import x509
    from starlette.applications import Starlette

    from messagerie.letters.intake.files import IntakeOptions
    from messagerie.letters.mail.dkim import DkimKey, TxtLookup
    from messagerie.letters.mail.outbox import Report
    from messagerie.letters.mail.transport import Relay
    from messagerie.letters.pdf.anchor import AnchorWritten
    from messagerie.letters.pdf.certificate import CertificateSource
    from messagerie.letters.pdf.sign import PlatformSigner
    from messagerie.models.store.anchor import Anchor
    from messagerie.models.store.database import Store
    from messagerie.tui.settings import Settings


def intake_options(settings: Settings) -> IntakeOptions:
    """The antivirus and the size limit every incoming file goes through."""
    from messagerie.letters.intake.files import IntakeOptions

    return IntakeOptions.from_settings(settings.clamd, settings.attachment_max_mb)


def relay(settings: Settings) -> Relay:
    """The SMTP relay of MESSAGERIE_SMTP_URL; a Refusal names what is wrong with it."""
    from messagerie.letters.mail.transport import parse_smtp_url

    return parse_smtp_url(settings.smtp_url)


def outbox_pass(
    store: Store,
    settings: Settings,
    through: Relay | None = None,
    stop: threading.Event | None = None,
) -> Report:
    """Send what is due once, through `through` (default: the settings' relay); `stop` set
    from another thread ends it early (asyncio.CancelledError), its claims given back. A
    database that does not answer is a StoreUnavailable, a relay that does not a
    RelayProblem: both Refusals, which the next pass may not meet."""
    from messagerie.letters.mail.outbox import run_once_blocking
    from messagerie.models.store.engine import answered_or_refused

    with answered_or_refused():
        return run_once_blocking(
            store,
            through or relay(settings),
            public_url=settings.link_base,
            lease=timedelta(seconds=settings.outbox_lease),
            dkim=dkim_key(settings),
            stop=stop,
        )


def portal(store: Store, settings: Settings) -> Starlette:
    """The recipients' web page on `store`."""
    from messagerie.letters.portal.app import create_portal

    return create_portal(store, intake_options(settings))


def anchor_when_due(
    store: Store, settings: Settings, actor: str
) -> tuple[AnchorWritten | None, datetime | None]:
    """An anchor of every history, written when MESSAGERIE_ANCHOR_EVERY_HOURS have passed
    since the last one the audit log noted (or there is none), and when the next is due
    (None: the setting is unset). A Refusal (the authority silent) or an OSError (the
    folder) says why none could be written."""
    from messagerie.letters.pdf.anchor import write_anchor
    from messagerie.models.clock import utc_now
    from messagerie.models.store.anchor import last_anchored

    if settings.anchor_every_hours is None:
        return None, None
    every = timedelta(hours=settings.anchor_every_hours)
    now = utc_now()
    with store.engine.connect() as connection:
        last = last_anchored(connection)
    if last is not None and last <= now and now - last < every:  # one dated ahead: due now
        return None, last + every
    signer = platform_signer(settings)
    written = write_anchor(store, settings.anchors_folder, signer, actor=actor, now=now)
    return written, now + every


# --- Signatures ----------------------------------------------------------------------------------

_signers: dict[tuple[CertificateSource, str | None, Path | None], PlatformSigner] = {}
_signers_lock = threading.Lock()


def certificate_source(settings: Settings) -> CertificateSource:
    """The MESSAGERIE_SIGNING_* settings; with none, the demonstration certificate's folder."""
    from messagerie.letters.pdf.certificate import CertificateSource

    password = settings.signing_p12_password
    return CertificateSource(
        key=settings.signing_key,
        cert=settings.signing_cert,
        p12=settings.signing_p12,
        p12_password=password.get_secret_value() if password else None,
        demo_dir=settings.signing_dir,
    )


def platform_signer(settings: Settings) -> PlatformSigner:
    """The platform's signer, built once per process (the demonstration certificate is made
    the first time, in the data folder); a Refusal names what is wrong with the settings."""
    from messagerie.letters.pdf.sign import platform_signer as build

    key = (certificate_source(settings), settings.tsa_url, settings.tsa_cert)
    with _signers_lock:
        if key not in _signers:
            _signers[key] = build(key[0], settings.tsa_url, tsa_authorities(settings))
        return _signers[key]


def tsa_authorities(settings: Settings) -> list[x509.Certificate]:
    """The timestamping authorities of MESSAGERIE_TSA_CERT (none when unset): only their
    tokens are asked for and counted."""
    from messagerie.letters.pdf.certificate import read_certificates

    return read_certificates(settings.tsa_cert) if settings.tsa_cert else []


def reference_certificate(settings: Settings) -> x509.Certificate | None:
    """The platform's own certificate, to recognise its bundles; never made here."""
    from messagerie.letters.pdf.certificate import reference_certificate as read

    return read(certificate_source(settings))


def last_anchor(store: Store, settings: Settings) -> Anchor | None:
    """The platform's newest anchor (MESSAGERIE_ANCHOR_DIR) when it holds, for the ARs to
    say that their history is the one anchored; None without one (or one that proves
    nothing: verify-store says why)."""
    from messagerie.letters.pdf.anchor import last_anchor as newest
    from messagerie.models.errors import Refusal
    from messagerie.models.store.database import store_identity

    try:
        platform = reference_certificate(settings)
        authorities = tsa_authorities(settings)
    except Refusal:  # a certificate that cannot be read: the AR's signing says so
        return None
    if platform is None:
        return None
    return newest(settings.anchors_folder, [platform], store_identity(store), authorities)


def dns_lookup(settings: Settings) -> TxtLookup:
    """How `inbound` looks a reply's DKIM key up: MESSAGERIE_DNS_SERVER, else the system's
    resolvers; a DkimProblem when the setting is not an address."""
    from messagerie.letters.mail.dkim import txt_lookup

    return txt_lookup(settings.dns_server)


def dkim_key(settings: Settings) -> DkimKey | None:
    """The DKIM key of MESSAGERIE_DKIM_KEY and MESSAGERIE_DKIM_SELECTOR, None when unset."""
    from messagerie.letters.mail.dkim import load_dkim_key

    return load_dkim_key(settings.dkim_key, settings.dkim_selector)
