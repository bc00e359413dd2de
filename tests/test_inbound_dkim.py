"""An e-mailed reply's DKIM signature, checked when it comes to the real inbound listener
(aiosmtpd on 127.0.0.1), the company's key published by a real DNS server on 127.0.0.1
(tests/helpers/dns.py): its From can be written by anyone, a valid signature says which
domain sent it. Kept with the reply, said in its R (in the chained history, so in the AR),
on its screen and in the proof bundle. On both stores."""

from __future__ import annotations

import base64
import ipaddress
import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP

import dkim
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messagerie.letters.mail.dkim import DkimProblem, check_dkim, dns_server, txt_lookup
from messagerie.models.clock import utc_now
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.inbound import DkimCheck
from messagerie.models.store.chain import REPLY_CHANGED, verify_store
from messagerie.models.store.enums import DkimResult, EventKind, MessageType
from messagerie.models.store.tables import Event, Reply, table_of
from tests.helpers.antivirus import intake
from tests.helpers.dns import local_dns, silent_dns
from tests.helpers.messages import consultation_with_deposit, queue_preset
from tests.helpers.reports import reply_to
from tests.helpers.smtp import inbound_listener, send_mail, send_out

pytestmark = pytest.mark.services  # aiosmtpd relay and listener, a DNS server, clamd

DOMAIN, SELECTOR = "entreprise.example", "courriel"
A, B = f"a@{DOMAIN}", f"b@{DOMAIN}"  # two colleagues, one company's mail server
KEY_NAME = f"{SELECTOR}._domainkey.{DOMAIN}"
reply, event = table_of(Reply), table_of(Event)


def make_key(exponent: int = 65537) -> tuple[bytes, bytes]:
    """A mail server's key: the private PEM it signs with, and the TXT record its DNS
    publishes (an RSA key of `exponent`: OpenSSL makes only small ones, the others are
    built from its primes)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if exponent != 65537:
        primes = key.private_numbers()
        p, q = primes.p, primes.q
        d = pow(exponent, -1, (p - 1) * (q - 1))
        public = rsa.RSAPublicNumbers(exponent, p * q)
        key = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                    rsa.rsa_crt_iqmp(p, q), public).private_key()  # fmt: skip
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture(scope="module")
def company_key() -> tuple[bytes, bytes]:
    return make_key()


def signed_reply(
    sender: str, to: str, private: bytes | None, body: str = "Voici l'attestation demandée."
) -> bytes:
    """A reply as the company's server sends it: CRLF lines, signed for its domain with
    `private` (None: not signed)."""
    mail = EmailMessage()
    mail["From"] = f"Entreprise A <{sender}>"
    mail["To"] = to
    mail["Subject"] = "Re: Demande de complément"
    mail["Date"] = "Sun, 06 Dec 2026 09:00:00 +0100"
    mail.set_content(body)
    raw = mail.as_bytes(policy=SMTP)
    if private is None:
        return raw
    headers = [b"from", b"to", b"subject", b"date"]
    return (
        dkim.sign(raw, SELECTOR.encode(), DOMAIN.encode(), private, include_headers=headers) + raw
    )


async def reply_addresses(store) -> dict[str, tuple[int, str]]:  # type: ignore[no-untyped-def]
    """A complement request sent to A and B (replies allowed until tomorrow): each one's
    recipient id and reply address."""
    sent = queue_preset(
        store,
        consultation_with_deposit(store, "2026DKIM", "Signatures"),
        MessageType.COMPLEMENT_REQUEST,
        body="Bonjour,\n\nMerci de nous adresser votre attestation.",
        recipients=(DraftRecipient(A), DraftRecipient(B)),
        reply_deadline=(datetime.now(UTC) + timedelta(days=1)).strftime("%d/%m/%Y %H:%M"),
    )
    rows = await send_out(store, sent)
    return {email: (row.id, reply_to(row)) for email, row in rows.items()}


def kept(store, recipient_id: int) -> tuple[str | None, str | None, str]:  # type: ignore[no-untyped-def]
    """What the store holds of the reply's signature, and its R's detail."""
    with store.engine.connect() as connection:
        found = connection.execute(
            sa.select(reply.c.dkim, reply.c.dkim_domain).where(reply.c.recipient_id == recipient_id)
        ).one()
        detail = connection.execute(
            sa.select(event.c.detail).where(
                event.c.recipient_id == recipient_id, event.c.kind == EventKind.REPLIED
            )
        ).scalar_one()
    return found.dkim, found.dkim_domain, detail


async def a_signed_b_changed(store, company_key) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A's reply signed by the company's server, B's signed too and then changed on the way
    (both kept all the same): their recipients' ids."""
    private, record = company_key
    addresses = await reply_addresses(store)
    (a, to_a), (b, to_b) = addresses[A], addresses[B]
    changed = signed_reply(B, to_b, private).replace(b"l'attestation", b"l'offre retiree")
    with (
        local_dns({KEY_NAME: record}) as server,
        inbound_listener(store, intake(), dns=txt_lookup(server)) as port,
    ):
        assert send_mail(port, to_a, signed_reply(A, to_a, private))[0] == 250
        assert send_mail(port, to_b, changed, sender=B)[0] == 250
    return a, b


async def test_a_signed_reply_names_its_domain_and_one_changed_on_the_way_is_said_invalid(
    store, company_key
):
    a, b = await a_signed_b_changed(store, company_key)
    result, domain, detail = kept(store, a)
    assert (result, domain) == (DkimResult.PASS, DOMAIN)
    assert detail.startswith(f"Courrier électronique, signature DKIM valide du domaine {DOMAIN} — ")
    result, domain, detail = kept(store, b)
    assert (result, domain) == (DkimResult.FAIL, DOMAIN)
    assert detail.startswith(f"Courrier électronique, signature DKIM invalide ({DOMAIN}) — ")
    # An administrator who turns the verdict into « valide »: the reply's seal names it.
    with store.engine.begin() as connection:
        connection.execute(sa.update(reply).where(reply.c.recipient_id == b).values(dkim="pass"))
        number = connection.execute(sa.select(reply.c.id).where(reply.c.recipient_id == b))
        changed = REPLY_CHANGED.format(number=number.scalar_one())
    assert [(one.recipient_id, one.reason) for one in verify_store(store, utc_now())[1]] == [
        (b, changed)
    ]


async def test_an_unsigned_reply_claims_nothing_and_one_signed_with_another_key_is_invalid(
    store, company_key
):
    """No signature: nothing is claimed, and the R reads as it did. A signature for the
    company's domain, by a key its DNS does not publish: invalid."""
    private, _ = company_key
    _, published = make_key()  # the company's DNS publishes a key that did not sign
    addresses = await reply_addresses(store)
    (a, to_a), (b, to_b) = addresses[A], addresses[B]
    with (
        local_dns({KEY_NAME: published}) as server,
        inbound_listener(store, intake(), dns=txt_lookup(server)) as port,
    ):
        assert send_mail(port, to_a, signed_reply(A, to_a, None))[0] == 250
        assert send_mail(port, to_b, signed_reply(B, to_b, private), sender=B)[0] == 250
    result, domain, detail = kept(store, a)
    assert (result, domain) == (DkimResult.NONE, None)
    assert detail.startswith("Courrier électronique — empreinte de la réponse")
    assert kept(store, b)[:2] == (DkimResult.FAIL, DOMAIN)


async def test_a_reply_whose_domain_s_dns_is_silent_is_unverifiable_and_kept(store, company_key):
    private, _ = company_key
    addresses = await reply_addresses(store)
    a, to_a = addresses[A]
    with (
        silent_dns() as server,
        inbound_listener(store, intake(), dns=txt_lookup(server, seconds=0.5)) as port,
    ):
        assert send_mail(port, to_a, signed_reply(A, to_a, private))[0] == 250
    result, domain, detail = kept(store, a)
    assert (result, domain) == (DkimResult.TEMPERROR, DOMAIN)
    assert detail.startswith(
        f"Courrier électronique, signature DKIM invérifiable ({DOMAIN} : DNS sans réponse) — "
    )


async def test_the_reply_screen_and_the_bundle_say_which_domain_vouches_for_it(
    store, company_key, tmp_path
):
    """The buyer reads, with the reply, whether its domain's signature held; an invalid one
    is a warning. The proof bundle carries it with the sender."""
    from messagerie.letters.pdf.bundle import export_bundle
    from messagerie.letters.pdf.certificate import CertificateSource
    from messagerie.letters.pdf.sign import platform_signer
    from messagerie.tui.app import MessagerieApp
    from tests.helpers.pilot import settle, text_of
    from tests.helpers.proofs import members

    a, b = await a_signed_b_changed(store, company_key)
    with store.engine.connect() as connection:
        replies = dict(connection.execute(sa.select(reply.c.recipient_id, reply.c.id)).all())
    shown = []
    app = MessagerieApp(open_store=lambda: store, actor="marie.dupont")
    async with app.run_test(size=(80, 24)) as pilot:
        for recipient_id in (a, b):
            await settle(pilot)
            pilot.app.open_reply(replies[recipient_id], lambda _: None)
            await settle(pilot)
            shown.append(text_of(pilot, "#reply-text"))
            await pilot.press("escape")
    assert f"Signature DKIM valide du domaine {DOMAIN}.\n" in shown[0]
    assert f"Attention : signature DKIM invalide ({DOMAIN}).\n" in shown[1]

    signer = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"))
    bundle = export_bundle(store, "2026DKIM", tmp_path / "preuves.zip", signer=signer)
    (record_json,) = [data for name, data in members(bundle.path).items()
                      if name.endswith("/message.json")]  # fmt: skip
    kept_replies = {one["recipient_id"]: one for one in json.loads(record_json)["replies"]}
    assert {key: kept_replies[a][key] for key in ("sender", "dkim", "dkim_domain")} == {
        "sender": A,
        "dkim": "pass",
        "dkim_domain": DOMAIN,
    }
    assert kept_replies[b]["dkim"] == "fail"


@pytest.fixture(scope="module")
def no_key():
    """A DNS server that knows no key: every signature fails for want of one."""
    with local_dns({}) as server:
        yield txt_lookup(server, seconds=1)


HEALTH = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HEALTH
@given(st.binary(max_size=2000))
def test_any_bytes_get_a_verdict_and_never_an_exception(no_key, data):
    found = check_dkim(data, no_key)
    assert found.result in (DkimResult.NONE, DkimResult.FAIL)
    if b"dkim-signature" not in data.lower():
        assert found == DkimCheck(DkimResult.NONE, None)


@HEALTH
@given(st.text(st.characters(blacklist_characters="\r\n"), max_size=300))
def test_any_dkim_signature_is_invalid_without_its_key_and_its_domain_printable(no_key, value):
    mail = f"DKIM-Signature: {value}\r\nFrom: {A}\r\nSubject: Re\r\n\r\nTexte\r\n"
    found = check_dkim(mail.encode("utf-8", "surrogatepass"), no_key)
    assert found.result is DkimResult.FAIL
    assert found.domain is None or (found.domain.isprintable() and len(found.domain) <= 253)


@pytest.mark.parametrize(
    ("text", "server"),
    [("192.0.2.53", ("192.0.2.53", 53)), ("192.0.2.53:5353", ("192.0.2.53", 5353)),
     ("2001:db8::53", ("2001:db8::53", 53)), ("[2001:db8::53]:5353", ("2001:db8::53", 5353))],
)  # fmt: skip
def test_the_dns_server_setting_reads_an_address_and_a_port(text, server):
    assert dns_server(text) == server


@given(st.text(max_size=60))
def test_any_dns_server_setting_is_an_address_or_a_french_refusal(text):
    try:
        host, port = dns_server(text)
    except DkimProblem as problem:
        assert str(problem).startswith(f"MESSAGERIE_DNS_SERVER « {text} » : écrivez l'adresse IP")
        return
    assert ipaddress.ip_address(host) and 0 < port < 65536


def test_inbound_refuses_a_dns_server_setting_that_is_not_an_address(tmp_path):
    from tests.helpers.cli import messagerie

    done = messagerie("--data-dir", str(tmp_path), "inbound", "--port", "2599",
                      env={"MESSAGERIE_DNS_SERVER": "dns.entreprise.example"})  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == (
        "messagerie : MESSAGERIE_DNS_SERVER « dns.entreprise.example » : écrivez l'adresse IP "
        "d'un serveur DNS, suivie au besoin de « :port » (192.0.2.53:5353, [2001:db8::53]:53).\n"
    )


def signed(raw: bytes, private: bytes, domain: str = DOMAIN, **options: object) -> bytes:
    return dkim.sign(raw, SELECTOR.encode(), domain.encode(), private, **options) + raw  # type: ignore[arg-type]


def plain(sender: str = A, body: str = "Voici l'attestation.") -> bytes:
    return f"From: {sender}\r\nTo: x@alsace.example\r\nSubject: Re\r\n\r\n{body}\r\n".encode()


def test_a_signature_is_valid_only_over_the_whole_e_mail_and_of_its_sender_s_domain(company_key):
    """What a forger gets past dkimpy alone: text added after a body length (l=), a header
    line split by a bare CR (Python's parser shows another From than dkimpy checked), a
    valid signature of another domain than the From's (valid, but a warning), a d= that is
    not a domain name."""
    private, record = company_key
    other, other_record = make_key()
    records = {KEY_NAME: record, f"{SELECTOR}._domainkey.autre.example": other_record,
               f"{SELECTOR}._domainkey.entreprise.example conforme": other_record}  # fmt: skip
    with local_dns(records) as server:
        lookup = txt_lookup(server)
        assert check_dkim(signed(plain(), private), lookup) == DkimCheck(DkimResult.PASS, DOMAIN)
        # A body length (l=): whole when nothing follows it; text added after it is no one's,
        # and said so, apart from « invalide » (a genuine signature is not).
        assert check_dkim(signed(plain(), private, length=True), lookup, A) == DkimCheck(
            DkimResult.PASS, DOMAIN
        )
        lengthened = signed(plain(), private, length=True) + b"PS : notre RIB change.\r\n"
        partial = check_dkim(lengthened, lookup, A)
        assert partial == DkimCheck(DkimResult.PARTIAL, DOMAIN) and not partial.vouches_for(A)
        assert partial.said(A) == (
            f"signature DKIM du domaine {DOMAIN}, qui ne couvre que le début du texte (l=) : "
            "la suite a pu être ajoutée en chemin"
        )
        split = b"X-Note: x\rFrom: a@entreprise.example\r\n" + signed(
            plain(), other, "autre.example"
        )
        assert check_dkim(split, lookup).result is DkimResult.FAIL
        elsewhere = check_dkim(signed(plain(), other, "autre.example"), lookup)
        assert elsewhere == DkimCheck(DkimResult.PASS, "autre.example")
        assert not elsewhere.vouches_for(A)
        assert elsewhere.said(A) == (
            "signature DKIM valide du domaine autre.example, qui n'est pas celui de l'expéditeur"
        )
        spaced = signed(plain(), other, "entreprise.example conforme")
        assert check_dkim(spaced, lookup) == DkimCheck(DkimResult.FAIL, None)
        # An e-mail service's signature on top of the company's own: the sender's domain first.
        both = signed(signed(plain(), private), other, "autre.example")
        assert check_dkim(both, lookup, A) == DkimCheck(DkimResult.PASS, DOMAIN)
        assert check_dkim(both, lookup, None) == DkimCheck(DkimResult.PASS, "autre.example")
        names = [f"x-absent-{number}".encode() for number in range(150)]
        listed = signed(plain(), private, include_headers=[b"from", *names])
        assert check_dkim(listed, lookup) == DkimCheck(DkimResult.FAIL, DOMAIN)  # h= too long


def test_a_key_costly_to_check_is_not_used_and_a_failure_outweighs_a_silent_domain(company_key):
    """An exponent over 2**32 (dkimpy's pure-Python pow() held the listener: the helper froze
    it for seconds with a 100,000-bit one) counts as no key. A signature that fails on its
    content is said « invalide » even when another, on top, names a domain that does not
    answer (which made the e-mail « invérifiable »)."""
    costly, costly_record = make_key(2**32 + 15)
    with local_dns({KEY_NAME: costly_record}) as server:
        assert check_dkim(signed(plain(), costly), txt_lookup(server)) == DkimCheck(
            DkimResult.FAIL, DOMAIN
        )
    private, record = company_key
    changed = signed(plain(), private).replace(b"l'attestation", b"l'offre")
    silent = f"{SELECTOR}._domainkey.lent.example"
    masked = signed(changed, private, "lent.example")
    with local_dns({KEY_NAME: record}, silent=frozenset({silent})) as server:
        # The silent domain's lookup uses up the e-mail's 5 s: the changed body is found
        # without the DNS.
        assert check_dkim(masked, txt_lookup(server)) == DkimCheck(DkimResult.FAIL, DOMAIN)


@pytest.mark.parametrize(
    ("domain", "sender", "vouches"),
    [
        (DOMAIN, A, True),
        (DOMAIN, f"a@mail.{DOMAIN}", True),  # the company's domain signs for a sub-domain
        (f"mail.{DOMAIN}", A, True),  # its mail server's sub-domain signs for the company
        ("autre.example", A, False),
        ("example", A, False),  # a public suffix is no one's organisation
        ("gouv.fr", "acheteur@mairie.gouv.fr", False),  # nor is gouv.fr
        ("ville.gouv.fr", "acheteur@mairie.gouv.fr", False),  # two sites under it
        ("mairie.gouv.fr", "acheteur@marches.mairie.gouv.fr", True),
        ("xn--bcher-kva.example", "verkauf@bücher.example", True),  # the From in Unicode
        ("bücher.example", "x@" + "a" * 64 + ".example", False),  # no IDNA form: no one's
    ],
)
def test_a_valid_signature_vouches_for_its_sender_s_organisation_only(domain, sender, vouches):
    """DMARC's relaxed alignment with the Public Suffix List: the From's organisation, not
    any parent domain (« fr ») and not only the From's exact domain."""
    check = DkimCheck(DkimResult.PASS, domain)
    assert check.vouches_for(sender) is vouches
    assert check.said(sender).endswith("qui n'est pas celui de l'expéditeur") is not vouches
    assert not DkimCheck(DkimResult.FAIL, domain).vouches_for(sender)


def test_an_ed25519_signature_is_checked_as_an_rsa_one():
    """RFC 8463's keys, which mail servers publish beside RSA ones: a genuine signature is
    valid, and the same signature over a changed body is not."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    private = base64.b64encode(
        key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    )  # fmt: skip
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    record = b"v=DKIM1; k=ed25519; p=" + base64.b64encode(key.public_key().public_bytes(*raw))
    mail = signed(plain(), private, signature_algorithm=b"ed25519-sha256")
    with local_dns({KEY_NAME: record}) as server:
        lookup = txt_lookup(server)
        assert check_dkim(mail, lookup, A) == DkimCheck(DkimResult.PASS, DOMAIN)
        changed = mail.replace(b"l'attestation", b"l'offre")
        assert check_dkim(changed, lookup, A) == DkimCheck(DkimResult.FAIL, DOMAIN)
