"""The acknowledgement of receipt (AR) of one recipient, as a PDF/A-3b document.

It names the message, the recipient, each event with its time in Europe/Paris and in UTC,
the evidence of the opening, and the SHA-256 of the content and of each attachment. The data
comes from `models.ar.ar_data`, which refuses when there is nothing to prove yet. Every AR that
leaves the application is `signed_ar`: the drawn document, signed by the platform (PAdES).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from messagerie.letters.pdf.render import html_to_pdf, render_html
from messagerie.letters.pdf.sign import PlatformSigner, sign_pdf
from messagerie.models.formatting import as_utc, in_paris, paris_time, size_text
from messagerie.models.messages.ar import ArData
from messagerie.models.rules.siret import format_siret
from messagerie.models.store.enums import EventKind

TEMPLATE = "ar.html"

# The one-letter marks of the tracking table, spelled out for a reader of the document.
MEANINGS = {
    EventKind.SENT: "envoyé",
    EventKind.DELIVERED: "délivré",
    EventKind.READ: "lu",
    EventKind.REPLIED: "répondu",
}


def stamps(moment: datetime) -> tuple[str, str]:
    """The same second twice, so that nobody has to convert: ("10/02/2026 16:41:11 (Paris)",
    "10/02/2026 15:41:11 UTC"); in the hour Paris lives twice, "(Paris, heure d'hiver)" too:
    the anchor's line prints the first alone."""
    return (
        in_paris(paris_time(moment, "dd/MM/yyyy HH:mm:ss"), moment, zone="Paris"),
        as_utc(moment).strftime("%d/%m/%Y %H:%M:%S") + " UTC",
    )


def ar_context(data: ArData) -> dict[str, Any]:
    """What `ar.html` reads."""
    siret = data.recipient.siret
    return {
        "ar": data,
        # base.html's letterhead
        "organisation": data.sender.organisation,
        "entity": data.sender.entity,
        "siret": format_siret(siret) if siret else None,
        "sent": stamps(data.message.sent_at),
        "anchored": stamps(anchored.at) if (anchored := data.recipient.anchored) else None,
        "read": stamps(data.recipient.read_at),
        "events": [
            {
                "label": event.kind.label,
                "meaning": MEANINGS.get(event.kind),
                "stamps": stamps(event.at),
                "detail": event.detail,
                "client_address": event.client_address,
                "user_agent": event.user_agent,
            }
            for event in data.events
        ],
        "files": [
            {
                "filename": file.filename,
                "size": size_text(file.size),
                "antivirus": file.antivirus.label,
                "personal": file.personal,
                "sha256": file.sha256,
            }
            for file in data.files
        ],
        "created_w3c": as_utc(data.issued_at).replace(microsecond=0).isoformat(),
    }


def render_ar(data: ArData) -> bytes:
    """The PDF of the AR as drawn, unsigned, as PDF/A-3b: a proof is archived for years, so
    fonts are embedded and colours and metadata are self-described (same cost as a plain
    PDF). What leaves the application is `signed_ar`."""
    return html_to_pdf(render_html(TEMPLATE, ar_context(data)), pdf_variant="pdf/a-3b")


def signed_ar(data: ArData, signer: PlatformSigner) -> bytes:
    """The AR, signed by the platform's certificate (PAdES B-B, B-T with a timestamping
    authority) by incremental update: it stays the PDF/A-3b document drawn."""
    return sign_pdf(render_ar(data), signer, now=data.issued_at)


_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")


def ar_filename(data: ArData) -> str:
    """A safe ASCII file name: "AR-2026WEB-12.pdf"."""
    reference = data.consultation.reference.replace("°", "o")
    ascii_reference = unicodedata.normalize("NFKD", reference).encode("ascii", "ignore").decode()
    safe = _UNSAFE.sub("-", ascii_reference)[:60].strip(".-_") or "consultation"
    return f"AR-{safe}-{data.recipient.id}.pdf"
