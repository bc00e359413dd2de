"""What the settings make of the letters' services, built in one place for the CLI, the TUI
and the embedded demo: the attachments' checks, the relay, one pass of the outbox, the page.

Imports are lazy: the TUI's first frame must not wait for aiosmtplib or Starlette."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from messagerie.letters.intake.files import IntakeOptions
    from messagerie.letters.mail.outbox import Report
    from messagerie.letters.mail.transport import Relay
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


def outbox_pass(store: Store, settings: Settings, through: Relay | None = None) -> Report:
    """Send what is due once, through `through` (default: the settings' relay)."""
    from messagerie.letters.mail.outbox import run_once_blocking

    return run_once_blocking(
        store,
        through or relay(settings),
        public_url=settings.link_base,
        lease=timedelta(seconds=settings.outbox_lease),
    )


def portal(store: Store, settings: Settings) -> Starlette:
    """The recipients' web page on `store`."""
    from messagerie.letters.portal.app import create_portal

    return create_portal(store, intake_options(settings))
