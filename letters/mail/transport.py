"""Handing e-mails to the SMTP relay with aiosmtplib: one connection reused for a batch.

MESSAGERIE_SMTP_URL names the relay: ``smtp://host:25`` (plain), ``smtp+starttls://host:587``
(STARTTLS), ``smtps://host:465`` (TLS from the start), with ``user:password@`` when the relay
asks for a login, and ``?final=1`` when the relay is the recipients' final mailbox (then
acceptance is also delivery: D at once).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from messagerie.models.errors import Refusal
from messagerie.models.text import without_password

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class RelayProblem(Refusal):
    """The relay cannot be used (address, connection, TLS, login); str() says what to fix."""


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: str | None = None
    final_mailbox: bool = False
    timeout: float = 30.0  # connecting, greeting, logging in
    # A message handed over: the relay may scan it before it answers the final « . », and
    # RFC 5321 (4.5.3.2.6) gives it 10 minutes. Cut short, a copy it kept was sent again.
    reply_timeout: float = 600.0

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_smtp_url(text: str | None) -> Relay:
    if not text:
        raise RelayProblem(
            "Aucun relais SMTP n'est configuré : définissez MESSAGERIE_SMTP_URL "
            "(par exemple smtp://relais.ville.fr:25). Sans relais, l'application (messagerie) "
            "garde les courriels dans sa boîte locale de démonstration."
        )
    unreadable = RelayProblem(
        f"Adresse du relais SMTP illisible : « {without_password(text)} ». Écrivez smtp://hôte:25, "
        "smtp+starttls://utilisateur:mot-de-passe@hôte:587 ou smtps://hôte:465."
    )
    try:
        parts = urlsplit(text.strip())
        hostname = parts.hostname
    except ValueError as error:  # "smtp://[::1" (an IPv6 address not closed)
        raise unreadable from error
    if parts.scheme not in DEFAULT_PORTS or not hostname:
        raise unreadable
    try:
        port = DEFAULT_PORTS[parts.scheme] if parts.port is None else parts.port
    except ValueError:
        port = 0
    if not 0 < port < 65536:  # urlsplit reads "h:0" as port 0, which no relay listens on
        raise RelayProblem(
            f"Port du relais SMTP invalide dans « {without_password(text)} » : indiquez un nombre "
            "de 1 à 65535."
        )
    query = parse_qs(parts.query)
    return Relay(
        host=hostname,
        port=port,
        security={"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}[parts.scheme],  # type: ignore[arg-type]
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        final_mailbox=query.get("final", ["0"])[0] in {"1", "true", "oui"},
    )


@dataclass(frozen=True)
class Envelope:
    key: int  # the recipient's id, to match the outcome
    sender: str  # envelope sender (bounces come back to it)
    recipient: str
    data: bytes
    envelope_id: str  # ENVID (xtext): a delivery report names it, or the Message-ID
    smtputf8: bool = False  # an address whose local part is not ASCII (« élodie@… »)


@dataclass(frozen=True)
class Outcome:
    key: int
    accepted: bool
    permanent: bool  # a 5xx: do not retry
    answer: str  # the relay's words, kept on the event


def _answer(code: int, message: str) -> str:
    return f"{code} {message}".strip()


async def connect(relay: Relay) -> aiosmtplib.SMTP:
    """An open, logged-in connection; RelayProblem (French) when that is not possible."""
    client = aiosmtplib.SMTP(
        hostname=relay.host,
        port=relay.port,
        use_tls=relay.security == "tls",
        start_tls=relay.security == "starttls",
        timeout=relay.timeout,
    )
    try:
        await client.connect()
        if client.is_ehlo_or_helo_needed:  # now, so that its extensions (DSN) are known
            await client.ehlo()
        if relay.username:
            await client.login(relay.username, relay.password or "")
    except aiosmtplib.SMTPAuthenticationError as error:
        raise RelayProblem(
            f"Le relais SMTP {relay} refuse l'identifiant ou le mot de passe ({error.code}) : "
            "vérifiez MESSAGERIE_SMTP_URL. Les messages restent en file d'attente."
        ) from error
    except (aiosmtplib.SMTPException, OSError) as error:
        # aiosmtplib wraps a failed handshake, and says "STARTTLS … not supported" in words.
        starttls_refused = relay.security == "starttls" and "STARTTLS" in str(error)
        if not (starttls_refused or _tls_failure(error)):
            raise RelayProblem(
                f"Le relais SMTP {relay} est injoignable ({error}) : les messages restent en "
                "file d'attente et partiront quand il répondra."
            ) from error
        raise RelayProblem(
            f"La connexion chiffrée (TLS) avec le relais SMTP {relay} a échoué ({error}) : "
            "vérifiez le port et le mode dans MESSAGERIE_SMTP_URL (smtps:// pour le port 465, "
            "smtp+starttls:// pour le port 587). Les messages restent en file d'attente."
        ) from error
    return client


def _tls_failure(error: BaseException) -> bool:
    """A TLS handshake that failed, somewhere in the exception's causes."""
    while error is not None:
        if isinstance(error, ssl.SSLError):
            return True
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return False


CONNECTIONS = 4  # concurrent connections to the relay, each reused for its share


async def send_batch(
    relay: Relay,
    envelopes: Iterable[Envelope],
    record: Callable[[Outcome], object],
    *,
    connections: int = CONNECTIONS,
) -> None:
    """Send the envelopes over at most `connections` concurrent connections, each reused
    (and reopened when it drops), and `record` each outcome as soon as the relay has
    answered: a crash then leaves only the envelopes in flight unrecorded. Every envelope
    gets an outcome."""
    queue = iter(envelopes)  # shared: each connection takes the next envelope when free

    async def one_connection() -> None:
        client: aiosmtplib.SMTP | None = None
        this_task = asyncio.current_task()
        try:
            for envelope in queue:
                # Python 3.11's asyncio.wait_for (under aiosmtplib) returns the answer rather
                # than raise when a cancel lands as the answer arrives: the stop is then only
                # counted on the task, and the loop went on sending to the end of the queue.
                if this_task is not None and this_task.cancelling():
                    raise asyncio.CancelledError
                if client is None or not client.is_connected:
                    try:
                        client = await connect(relay)
                    except RelayProblem as problem:
                        record(Outcome(envelope.key, False, False, str(problem)))
                        continue
                record(await _send_one(client, envelope, relay.reply_timeout))
        except asyncio.CancelledError:
            if client is not None:  # stopped mid-exchange: a QUIT would wait for its timeout
                client.close()
            raise
        finally:
            if client is not None and client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()

    await asyncio.gather(*(one_connection() for _ in range(max(1, connections))))


# Only a relay offering SMTPUTF8 (RFC 6531) carries an address written with an accent before
# its « @ »: sent to another, it would be refused, or its accents lost.
SMTPUTF8_MISSING = (
    "adresse accentuée avant l'@ : le relais SMTP n'accepte pas ces adresses (extension "
    "SMTPUTF8) ; demandez à l'entreprise une autre adresse, ou un relais qui les accepte."
)


def _dsn_options(client: aiosmtplib.SMTP, envelope: Envelope) -> dict[str, list[str]]:
    """Ask for delivery reports (to the bounce address) only from a relay that offers DSN:
    others refuse the parameters."""
    if not client.supports_extension("dsn"):
        return {}
    return {
        "mail_options": ["RET=HDRS", f"ENVID={envelope.envelope_id}"],
        "rcpt_options": ["NOTIFY=SUCCESS,FAILURE,DELAY"],
    }


async def _send_one(client: aiosmtplib.SMTP, envelope: Envelope, timeout: float) -> Outcome:
    options = _dsn_options(client, envelope)
    if envelope.smtputf8:
        if not client.supports_extension("smtputf8"):
            return Outcome(envelope.key, False, True, SMTPUTF8_MISSING)
        options["mail_options"] = [*options.get("mail_options", []), "SMTPUTF8"]
    try:
        errors, response = await client.sendmail(
            envelope.sender,
            [envelope.recipient],
            envelope.data,
            timeout=timeout,
            **options,  # type: ignore[arg-type]
        )
    except aiosmtplib.SMTPRecipientsRefused as refused:
        first = refused.recipients[0] if refused.recipients else None
        code = first.code if first else 550
        answer = _answer(code, first.message if first else "destinataire refusé")
        return Outcome(envelope.key, False, code >= 500, answer)
    except aiosmtplib.SMTPResponseException as error:
        return Outcome(envelope.key, False, error.code >= 500, _answer(error.code, error.message))
    except (aiosmtplib.SMTPException, OSError) as error:
        client.close()
        return Outcome(envelope.key, False, False, f"connexion interrompue : {error}")
    except ValueError as error:  # aiosmtplib: an address it cannot write in the command
        return Outcome(envelope.key, False, True, f"adresse impossible à transmettre : {error}")
    if errors:  # the single recipient was refused while the transaction went on
        (problem,) = errors.values()
        return Outcome(
            envelope.key, False, problem.code >= 500, _answer(problem.code, problem.message)
        )
    return Outcome(envelope.key, True, False, response)
