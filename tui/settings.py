"""Settings, from flags or MESSAGERIE_* environment variables (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PositiveFloat,
    SecretStr,
    ValidationError,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from messagerie.tui.actor import default_actor
from messagerie.tui.location import database_url, default_data_dir, documents_dir

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails  # a TypedDict: nothing to import when running

T = TypeVar("T")


def _empty_is_unset(value: object) -> object:
    """`MESSAGERIE_DKIM_KEY=` (an environment file's empty line) means unset, not "."."""
    return None if isinstance(value, str) and not value.strip() else value


# A setting that may stay unset, as it does when given empty.
Unset = Annotated[T | None, BeforeValidator(_empty_is_unset)]


def _web_address(value: str | None) -> str | None:
    """MESSAGERIE_PUBLIC_URL starts a link in every e-mail « avec AR »: an http(s) address
    of a host, without query, fragment, space or control character (« javascript:… » was
    taken as it was). Without its last « / », which doubled the one of « /m/… »."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # « http://[::1 »
        raise PydanticCustomError("web_address", "not a web page address") from None
    if (
        parts.scheme not in ("http", "https")
        or not host
        or parts.query
        or parts.fragment
        or any(char.isspace() or not char.isprintable() for char in value)
    ):
        raise PydanticCustomError("web_address", "not a web page address")
    return value.rstrip("/")


WebAddress = Annotated[str | None, AfterValidator(_web_address)]


def unset(description: str) -> Any:
    """The default of an `Unset` setting: None."""
    return Field(default=None, description=description)


class Settings(BaseSettings):
    """What the application reads at start; every field is a MESSAGERIE_<NAME> variable."""

    model_config = SettingsConfigDict(env_prefix="MESSAGERIE_", extra="ignore")

    db: str | None = Field(
        default=None,
        description="Database URL: sqlite:///FILE or postgresql+psycopg://user:pass@host/db. "
        "Default: a SQLite file in the data folder.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder for the default SQLite file and stored documents.",
    )
    clamd: str = Field(
        default="unix:///run/clamav/clamd.ctl",
        description="The clamd antivirus: unix:///path/clamd.ctl, tcp://host:3310, or 'off' "
        "(files are then marked « non analysé »).",
    )
    attachment_max_mb: PositiveFloat = Field(
        default=20,
        allow_inf_nan=False,
        le=2048,
        description="Largest attachment accepted by the message form and the reply form of "
        "the page, in Mo of 1,048,576 bytes: 20 is shown « 20 Mo » everywhere.",
    )
    unmatched_retention_days: int = Field(
        default=90,
        ge=1,
        le=36_500,  # a hundred years; more overflows a date
        description="Days an e-mail the listener could not match to a message is kept in the "
        "data folder's unmatched/ for the operator; `messagerie inbound` then deletes it.",
    )
    dns_server: Unset[str] = unset(
        "The DNS server (IP[:port]) `inbound` looks the replies' DKIM keys up with "
        "(default: the system's resolvers)."
    )
    smtp_url: str | None = Field(
        default=None,
        description="The SMTP relay: smtp://host:25, smtp+starttls://user:password@host:587 or "
        "smtps://host:465; add ?final=1 when the relay is the recipients' final mailbox. "
        "Unset: the TUI keeps every e-mail in its own local mailbox (data folder) and serves "
        "the recipients' page itself, for a demo on one machine.",
    )
    outbox_lease: PositiveFloat = Field(
        default=300,
        allow_inf_nan=False,
        le=86_400,
        description="Seconds a claimed recipient stays reserved to one outbox worker; after a "
        "crash, the recipients it held are sent again once their lease has run out.",
    )
    outbox_in_tui: bool = Field(
        default=False,
        description="Run the outbox inside the TUI too (a background thread sending what is "
        "due every MESSAGERIE_OUTBOX_EVERY seconds); otherwise `messagerie outbox` does it.",
    )
    outbox_every: PositiveFloat = Field(
        default=30,
        allow_inf_nan=False,
        le=86_400,
        description="Seconds between two passes of the outbox.",
    )
    anchor_every_hours: PositiveFloat | None = Field(
        default=None,
        allow_inf_nan=False,
        le=24 * 366,
        description="Hours between two anchors the `messagerie outbox` service writes itself "
        "(as `messagerie anchor` would: MESSAGERIE_ANCHOR_DIR, MESSAGERIE_TSA_URL). Unset: "
        "only `messagerie anchor` (cron) writes them.",
    )
    public_url: WebAddress = Field(
        default=None,
        description="Base of the recipients' personal links (the recipients' web page), e.g. "
        "https://messagerie.ville.fr behind a reverse proxy. Unset: the page's own address.",
    )
    templates_dir: Path | None = Field(
        default=None,
        description="A folder of the organisation's own letter templates: a file named like a "
        "built-in one (rejet.html, courrier.html, base.html…) replaces it.",
    )
    portal_host: str = Field(
        default="127.0.0.1",
        description="Address the recipients' web page listens on (`messagerie portal`); "
        "behind a reverse proxy, keep 127.0.0.1 and set MESSAGERIE_PUBLIC_URL to the proxy's.",
    )
    portal_port: int = Field(
        default=8080, ge=1, le=65535, description="Port of the recipients' web page."
    )
    user: str = Field(
        default_factory=default_actor,
        description="Name recorded as the author in the audit log (default: the login name), "
        "in a single-user store only: once the store has accounts, the author is always the "
        "system login of the account (messagerie comptes), whatever this says.",
    )
    signing_key: Unset[Path] = unset(
        "The platform's private key (PEM), with MESSAGERIE_SIGNING_CERT: it signs every AR "
        "(PAdES) and every proof bundle's manifest. Unset (and no PKCS#12): a self-signed "
        "« Plateforme de démonstration » certificate made once in the data folder."
    )
    signing_cert: Unset[Path] = unset("The certificate (PEM) of MESSAGERIE_SIGNING_KEY.")
    signing_p12: Unset[Path] = unset(
        "The platform's key and certificate as one PKCS#12 file (.p12, .pfx), "
        "instead of MESSAGERIE_SIGNING_KEY and MESSAGERIE_SIGNING_CERT."
    )
    signing_p12_password: Unset[SecretStr] = unset("Password of MESSAGERIE_SIGNING_P12.")
    tsa_url: Unset[str] = unset(
        "An RFC 3161 timestamping authority (http://…): every signature then "
        "carries its timestamp (PAdES B-T)."
    )
    tsa_cert: Unset[Path] = unset(
        "The certificate of MESSAGERIE_TSA_URL's authority, or of its root (PEM, several "
        "allowed): a timestamp signed by anyone else is refused when signing and not counted "
        "by `verify-store`. Unset, whose timestamp it is is not checked."
    )
    anchor_dir: Unset[Path] = unset(
        "Where `messagerie anchor` writes the histories' anchors and `verify-store` reads "
        "them (default: ancrages/ in the data folder). Best a disk of another machine: "
        "whoever can rewrite the store must not be able to rewrite them."
    )
    dkim_key: Unset[Path] = unset(
        "A private RSA key (PEM) that DKIM-signs every outgoing e-mail, with "
        "MESSAGERIE_DKIM_SELECTOR, for the domain of its sender (`messagerie dkim-record`)."
    )
    dkim_selector: Unset[str] = unset("The DKIM selector of MESSAGERIE_DKIM_KEY (e.g. messagerie).")

    @property
    def documents_dir(self) -> Path:
        return documents_dir(self.data_dir)

    @property
    def link_base(self) -> str:
        """Where the personal links point: MESSAGERIE_PUBLIC_URL, else the page itself."""
        return self.public_url or f"http://{self.portal_host}:{self.portal_port}"

    @property
    def mailbox_dir(self) -> Path:
        """The embedded local mailbox (a Maildir), used when no relay is configured."""
        return self.data_dir / "boite-locale"

    @property
    def anchors_folder(self) -> Path:
        return self.anchor_dir or self.data_dir / "ancrages"

    @property
    def signing_dir(self) -> Path:
        """Where the demonstration certificate is made, once, when no certificate is set."""
        return self.data_dir / "signature"

    @property
    def database_url(self) -> str:
        return database_url(self.db, self.data_dir)


# pydantic's faults, as the buyer reads them (its own words are English).
FAULTS = {
    "int_parsing": "n'est pas un nombre entier",
    "float_parsing": "n'est pas un nombre",
    "bool_parsing": "n'est ni oui (true, 1) ni non (false, 0)",
    "url_parsing": "n'est pas une adresse valide",
    "web_address": "n'est pas l'adresse d'une page web (http:// ou https://, sans ? ni #)",
    "greater_than": "est trop petit (il faut plus de {gt:g})",
    "greater_than_equal": "est trop petit ({ge:g} au moins)",
    "less_than_equal": "est trop grand ({le:g} au plus)",
    "finite_number": "n'est pas un nombre fini",
}


def invalid_settings(error: ValidationError) -> str:
    """A wrong MESSAGERIE_* value, in one French line naming each variable and its fault."""
    fields = ", ".join(
        f"MESSAGERIE_{'_'.join(map(str, item['loc'])).upper()} : « {item.get('input', '')} » "
        + _fault(item)
        for item in error.errors()
    )
    return f"réglage invalide : {fields}"


def _fault(item: ErrorDetails) -> str:
    """What is wrong with one value, with the bound it broke (« 86400 au plus »)."""
    if item["type"] in FAULTS:
        return FAULTS[item["type"]].format(**item.get("ctx", {}))
    return f"refusé ({item['msg']})"
