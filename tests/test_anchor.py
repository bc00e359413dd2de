"""Anchors (models/store/anchor.py, letters/pdf/anchor.py): every history's head, written to
a signed file off the store, shows a history that an administrator who knows how the chain
is computed rewrote and chained again, or cut back to an earlier head. Without an anchor,
`verify-store` finds such a history whole: these tests show that first. On a message really
sent, through the real `messagerie` command, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps import DummyTimeStamper

from messagerie.letters.pdf.anchor import UNSTAMPED_SINCE, last_anchor, read_anchors, write_anchor
from messagerie.letters.pdf.certificate import (
    CertificateSource,
    read_certificate,
    self_signed_pair,
)
from messagerie.letters.pdf.sign import PlatformSigner, platform_signer, sign_detached
from messagerie.models.clock import utc_now
from messagerie.models.errors import Refusal
from messagerie.models.formatting import paris_seconds
from messagerie.models.messages.ar import ar_data
from messagerie.models.messages.portal import record_visit
from messagerie.models.store import audit
from messagerie.models.store.anchor import (
    AUDIT_ACTION,
    Anchor,
    AnchorUnreadable,
    anchor_bytes,
    anchors_written,
    file_name,
    read_anchor,
    take_anchor,
    time_of,
)
from messagerie.models.store.chain import (
    ANCHOR_PREDATED,
    GENESIS,
    append_events,
    event_hash,
    verify_store,
)
from messagerie.models.store.database import STORE_KEY, Store, store_identity
from messagerie.models.store.enums import EventKind
from messagerie.models.store.tables import company, event, recipient, store_meta
from messagerie.tui.embedded import free_port
from tests.helpers.audit import audit_rows
from tests.helpers.cli import messagerie
from tests.helpers.messages import A, B, row_of
from tests.helpers.pdfs import pdf_text
from tests.helpers.proofs import opened_by_a
from tests.helpers.signing import openssl
from tests.helpers.tsa import TSA_NAME, local_tsa

pytestmark = [pytest.mark.services]  # a send through aiosmtpd, the `messagerie` command, openssl

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
TIME = r"\d\d/\d\d/\d{4} - \d\d:\d\d:\d\d"  # Paris time, to the second
REWRITTEN = re.compile(
    r"Destinataire n°(\d+) : son historique ancré le \d\d/\d\d/\d{4} - \d\d:\d\d:\d\d n'est "
    r"plus dans sa chaîne : il a été réécrit ou coupé depuis\."
)


def events_of(store: Store, recipient_id: int) -> list[dict]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(event).where(event.c.recipient_id == recipient_id).order_by(event.c.id)
        )
        return [dict(row._mapping) for row in rows]


def rechain(store: Store, recipient_id: int, events: list[dict]) -> None:
    """What the administrator does who knows `event_hash`: `events` (some changed, some left
    out) written back as the recipient's whole history, chained again, its head moved."""
    previous = GENESIS
    with store.engine.begin() as connection:
        connection.execute(sa.delete(event).where(event.c.recipient_id == recipient_id))
        for row in events:
            row = {**row, "previous_hash": previous, "hash": event_hash(previous, row)}
            connection.execute(sa.insert(event).values(row))
            previous = row["hash"]
        connection.execute(
            sa.update(recipient).where(recipient.c.id == recipient_id).values(chain_head=previous)
        )


def read_later(events: list[dict]) -> list[dict]:
    """The opening moved twenty days on (a rejection « read » after the appeal's deadline)."""
    return [*events[:-1], {**events[-1], "at": events[-1]["at"] + timedelta(days=20)}]


def never_read(events: list[dict]) -> list[dict]:
    """The history cut back to before the opening: no L, no AR."""
    return events[:-1]


def cli(store_url: str, data_dir: Path, *arguments: str, **env: str):  # type: ignore[no-untyped-def]
    return messagerie("--db", store_url, "--data-dir", str(data_dir), *arguments, env=env)


@pytest.mark.parametrize("change", [read_later, never_read])
async def test_a_history_rewritten_and_chained_again_is_named_by_its_anchor(
    store, store_url, tmp_path, change
):
    a = await opened_by_a(store)
    anchored = cli(store_url, tmp_path, "anchor")
    assert anchored.returncode == 0, anchored.stderr
    assert "Ancrage de 2 historique(s) écrit dans " in anchored.stdout
    assert "Non horodaté : sans MESSAGERIE_TSA_URL" in anchored.stdout
    rechain(store, a, change(events_of(store, a)))
    assert verify_store(store, NOW) == (2, [])  # the chain alone finds it whole

    found = cli(store_url, tmp_path, "verify-store")
    assert found.returncode == 1, found.stdout + found.stderr
    (named,) = REWRITTEN.findall(found.stdout)
    assert int(named) == a
    assert "Ancrages comparés : 1, du " in found.stdout
    assert "Historique altéré pour 1 destinataire(s) sur 2." in found.stdout


async def test_an_ar_shows_the_anchored_history_and_not_once_it_is_rewritten(
    store, store_url, tmp_path
):
    """A third party reads on the AR that its history is the one the platform's last anchor
    froze, with the head the anchor file lists (kept off the server, it can be compared).
    Rewritten and chained again since, the history is no longer whole for the AR either."""
    a = await opened_by_a(store)
    anchored = cli(store_url, tmp_path, "anchor")
    assert anchored.returncode == 0, anchored.stderr
    (path,) = (tmp_path / "ancrages").glob("*.json")
    head, at = json.loads(path.read_text())["heads"][str(a)], time_of(path.name)
    drawn = cli(store_url, tmp_path, "ar", str(a), "--out", str(tmp_path / "ar.pdf"))
    assert drawn.returncode == 0, drawn.stderr
    text = pdf_text((tmp_path / "ar.pdf").read_bytes())
    assert (
        f"Historique au {paris_seconds(at).replace(' - ', ' ')} (Paris), tel que l'a figé "
        "l'ancrage signé de la plateforme, gardé hors de son serveur"
    ) in text and head in text

    rechain(store, a, read_later(events_of(store, a)))
    signer = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"))
    anchor = last_anchor(tmp_path / "ancrages", [signer.certificate], store_identity(store))
    rewritten = ar_data(store, a, anchor=anchor).recipient
    assert rewritten.anchored is None
    assert rewritten.chain_problem and rewritten.chain_problem.startswith(
        "son historique ancré le "
    )


async def test_an_untouched_store_verifies_against_its_anchors_and_each_anchor_is_audited(
    store, store_url, tmp_path
):
    a = await opened_by_a(store)
    assert cli(store_url, tmp_path, "anchor").returncode == 0
    # The history goes on after the anchor (a later visit): its anchored head stays in it.
    record_visit(store, a, EventKind.OPENED_AGAIN, "Nouvelle consultation",
                 client_address="203.0.113.7", user_agent="Firefox")  # fmt: skip
    clean = cli(store_url, tmp_path, "verify-store")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    compared, verdict = clean.stdout.splitlines()
    assert compared.startswith("Ancrages comparés : 1, du ") and compared.endswith("horodatés.")
    assert verdict == "Historiques intacts : 2 destinataire(s) vérifiés."
    status = cli(store_url, tmp_path, "status", MESSAGERIE_CLAMD="off")
    assert f"Ancrages des historiques : 1 dans « {tmp_path / 'ancrages'} », le dernier du " in (
        status.stdout
    )
    ((actor, action, detail),) = audit_rows(store, "chains.")
    assert action == "chains.anchor" and actor
    assert re.fullmatch(r"2 historique\(s\), ancrage-\d{8}T\d{6}Z\.json, SHA-256 [0-9a-f]{64}",
                        detail)  # fmt: skip


async def anchored_after_a_opened(store: Store, tmp_path: Path) -> datetime:
    """tests/helpers/proofs' message sent to A and B and opened by A, then anchored (with
    the demonstration certificate made in tmp_path): the anchor's time."""
    await opened_by_a(store)
    signer = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"))
    now = utc_now()
    write_anchor(store, tmp_path / "ancrages", signer, actor="exploitant", now=now)
    return now


def against_anchors(store: Store, tmp_path: Path, now: datetime) -> list[tuple[int, str]]:
    """What verify_store finds against the anchors of anchored_after_a_opened, which must
    all count."""
    signer = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"))
    read = read_anchors(tmp_path / "ancrages", [signer.certificate], store_identity(store))
    assert read.problems == []
    return [(one.recipient_id, one.reason) for one in verify_store(store, now, read.anchors)[1]]


async def test_a_recipient_deleted_since_its_anchor_is_named(store, tmp_path):
    now = await anchored_after_a_opened(store, tmp_path)
    b = row_of(store, B).id
    with store.engine.begin() as connection:
        connection.execute(sa.delete(event).where(event.c.recipient_id == b))
        connection.execute(sa.delete(recipient).where(recipient.c.id == b))
    assert against_anchors(store, tmp_path, now) == [
        (b, f"ce destinataire, ancré le {paris_seconds(now)}, a été supprimé de la base")
    ]


async def test_an_anchor_that_proves_nothing_is_named_and_fails_the_check(store, tmp_path):
    """Altered, unsigned, signed by another key, or of another store: each such file is named
    and the check fails (exit 1), whatever the histories say."""
    await opened_by_a(store)
    folder = tmp_path / "ancrages"
    signer = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"))
    now = utc_now()
    files = [
        write_anchor(store, folder, signer, actor="exploitant", now=now + timedelta(hours=hour))
        for hour in range(4)
    ]
    altered, unsigned, foreign, kept = (written.path for written in files)
    altered.write_bytes(altered.read_bytes().replace(b'"recipients": 2', b'"recipients": 2 '))
    Path(f"{unsigned}.p7s").unlink()
    other = platform_signer(CertificateSource(demo_dir=tmp_path / "pirate"))
    Path(f"{foreign}.p7s").write_bytes(sign_detached(foreign.read_bytes(), other))
    read = read_anchors(folder, [signer.certificate], store_identity(store))
    assert [anchor.at for anchor in read.anchors] == [now + timedelta(hours=3)]
    assert read.problems == [
        f"Ancrage « {altered.name} » : il ne correspond plus à sa signature (modifié après son "
        "écriture).",
        f"Ancrage « {unsigned.name} » : « {unsigned.name}.p7s » manque : il ne prouve rien.",
        f"Ancrage « {foreign.name} » : signé par une autre clé que celle de la plateforme "
        f"(certificat {other.info.fingerprint} ; si c'est un certificat qu'elle avait avant, "
        "donnez-le avec --cert FICHIER).",
    ]
    with store.engine.begin() as connection:  # the store's identity changed by hand
        connection.execute(sa.update(store_meta).where(store_meta.c.key == STORE_KEY)
                           .values(value="autre"))  # fmt: skip
    moved = read_anchors(folder, [signer.certificate], "autre")
    assert moved.anchors == [] and moved.problems[-1].startswith(
        f"Ancrage « {kept.name} » : il a été pris sur la base « "
    )


def renewed(certificate: Path, folder: Path, *, same_key: bool) -> tuple[Path, Path]:
    """The platform's next certificate, on its key or on a new one (PEM files)."""
    key_path = certificate.with_name("plateforme-demonstration.key.pem")
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    if not same_key:
        key = ec.generate_private_key(ec.SECP256R1())
    name = x509.load_pem_x509_certificate(certificate.read_bytes()).subject
    start = utc_now() - timedelta(days=1)
    key_pem, cert_pem = self_signed_pair(key, name, start, start + timedelta(days=400))  # type: ignore[arg-type]
    folder.mkdir()
    (folder / "cle.pem").write_bytes(key_pem)
    (folder / "certificat.pem").write_bytes(cert_pem)
    return folder / "cle.pem", folder / "certificat.pem"


@pytest.mark.parametrize("same_key", [True, False], ids=["same-key", "new-key"])
def test_anchors_signed_before_a_renewal_still_count(store, store_url, tmp_path, same_key):
    """A certificate renewed on the same key still recognises its anchors; renewed with a
    new key, the previous certificate is given with --cert (until then the check fails)."""
    assert cli(store_url, tmp_path, "anchor").returncode == 0
    previous = tmp_path / "signature" / "plateforme-demonstration.crt.pem"
    key, certificate = renewed(previous, tmp_path / "nouveau", same_key=same_key)
    settings = {"MESSAGERIE_SIGNING_KEY": str(key), "MESSAGERIE_SIGNING_CERT": str(certificate)}
    after = cli(store_url, tmp_path, "verify-store", **settings)
    assert after.returncode == (0 if same_key else 1), after.stdout
    if not same_key:
        assert "signé par une autre clé que celle de la plateforme" in after.stdout
        given = cli(store_url, tmp_path, "verify-store", "--cert", str(previous), **settings)
        assert given.returncode == 0, given.stdout
        assert given.stdout.startswith("Ancrages comparés : 1, du ")
    unreadable = cli(store_url, tmp_path, "verify-store", "--cert", str(tmp_path / "non.pem"))
    assert unreadable.returncode == 2 and "Traceback" not in unreadable.stderr


def test_verify_store_fails_on_an_anchor_that_proves_nothing(store, store_url, tmp_path):
    assert cli(store_url, tmp_path, "anchor").returncode == 0
    (written,) = (tmp_path / "ancrages").glob("*.json")
    written.write_bytes(written.read_bytes() + b" ")
    done = cli(store_url, tmp_path, "verify-store")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"Ancrage « {written.name} » : il ne correspond plus à sa signature (modifié après son "
        "écriture).",
        "Ancrages : aucun n'a pu être comparé.",
        "Historiques NON vérifiés contre les ancrages (1 problème(s) ci-dessus) : 0 "
        "destinataire(s) vérifiés par leur seule chaîne.",
    ]
    missing = cli(store_url, tmp_path, "verify-store", "--ancrages", str(tmp_path / "ailleurs"))
    assert missing.returncode == 2
    assert f"le dossier des ancrages « {tmp_path / 'ailleurs'} » n'existe pas" in missing.stderr


async def test_openssl_verifies_the_anchor_and_its_timestamp(store, store_url, tmp_path):
    """The anchor's signature by openssl alone, and its RFC 3161 token by `openssl ts`
    against the authority's certificate: an auditor needs nothing of ours."""
    await opened_by_a(store)
    with local_tsa(tmp_path) as (url, stamped):
        done = cli(store_url, tmp_path, "anchor", MESSAGERIE_TSA_URL=url)
        assert done.returncode == 0, done.stderr
        assert stamped, "the timestamping authority was never asked"
        verified = cli(store_url, tmp_path, "verify-store")
    unjudged = "(autorité non vérifiée : MESSAGERIE_TSA_CERT n'est pas donné)."
    assert re.search(
        rf"Horodaté le {TIME} par « CN={TSA_NAME} » {re.escape(unjudged)}\n", done.stdout
    )
    assert verified.returncode == 0 and f"dont 1 horodaté(s) {unjudged}" in verified.stdout
    (anchor,) = (tmp_path / "ancrages").glob("*.json")
    signature = Path(f"{anchor}.p7s")
    openssl("cms", "-verify", "-binary", "-inform", "DER", "-noverify", "-in", str(signature),
            "-content", str(anchor))  # fmt: skip
    (signer_info,) = cms.ContentInfo.load(signature.read_bytes())["content"]["signer_infos"]
    (token,) = signer_info["unsigned_attrs"][0]["values"]
    (tmp_path / "jeton.der").write_bytes(token.dump())
    imprint = hashlib.sha256(signer_info["signature"].native).hexdigest()
    said = openssl("ts", "-verify", "-token_in", "-in", str(tmp_path / "jeton.der"), "-digest",
                   imprint, "-CAfile", str(tmp_path / "tsa-certificat.pem"))  # fmt: skip
    assert "Verification: OK" in said


async def test_with_its_authority_s_certificate_only_its_timestamps_count(
    store, store_url, tmp_path
):
    """MESSAGERIE_TSA_CERT names the authority. An anchor it stamped counts; one stamped by
    an authority of the key holder's own making (to date it as they please) proves nothing;
    and `anchor` refuses a token of another authority: over HTTP, anyone in between can
    answer with a time of their own."""
    await opened_by_a(store)
    trusted = {"MESSAGERIE_TSA_CERT": str(tmp_path / "tsa" / "tsa-certificat.pem")}
    assert cli(store_url, tmp_path, "anchor").returncode == 0  # before the authority
    time.sleep(1.01 - time.time() % 1)  # anchors are named by the second
    with local_tsa(tmp_path / "tsa") as (url, _):
        done = cli(store_url, tmp_path, "anchor", MESSAGERIE_TSA_URL=url, **trusted)
    assert done.returncode == 0, done.stderr
    assert re.search(rf"Horodaté le {TIME} par « CN={TSA_NAME} »\.\n", done.stdout)
    judged = cli(store_url, tmp_path, "verify-store", **trusted)
    assert judged.returncode == 0, judged.stdout
    assert judged.stdout.splitlines()[0].endswith(
        ", dont 1 horodaté(s) ; 1 sans horodatage, datés par la seule plateforme."
    )

    with local_tsa(tmp_path / "maison", "Horodatage maison") as (own, _):
        refused = cli(store_url, tmp_path, "anchor", MESSAGERIE_TSA_URL=own, **trusted)
        forged = cli(store_url, tmp_path, "anchor", MESSAGERIE_TSA_URL=own)
    assert refused.returncode == 1, refused.stdout
    assert refused.stderr == (
        f"messagerie : L'autorité d'horodatage {own} a répondu par un jeton signé par "
        "« CN=Horodatage maison », qui n'est pas une autorité de MESSAGERIE_TSA_CERT : rien "
        "n'a été signé.\n"
    )
    assert forged.returncode == 0, forged.stderr
    assert len(audit_rows(store, "chains.anchor")) == 3  # the refused one wrote nothing
    assert len(list((tmp_path / "ancrages").iterdir())) == 6  # three anchors, three signatures
    found = cli(store_url, tmp_path, "verify-store", **trusted)
    assert found.returncode == 1, found.stdout
    (own_name,) = re.findall(r"« \S*/(ancrage-\S+\.json) »", forged.stdout)
    assert (
        f"Ancrage « {own_name} » : horodaté par « CN=Horodatage maison », qui n'est pas une "
        "autorité de MESSAGERIE_TSA_CERT : sa date n'est pas attestée."
    ) in found.stdout.splitlines()


async def test_an_authority_whose_clock_is_far_from_this_server_s_signs_nothing(
    store, store_url, tmp_path
):
    """Its token would be refused by every later `verify-store`: said now, nothing written."""
    await opened_by_a(store)
    ahead = utc_now() + timedelta(minutes=30)
    with local_tsa(tmp_path / "tsa", at=ahead) as (url, _):
        refused = cli(store_url, tmp_path, "anchor", MESSAGERIE_TSA_URL=url)
    assert refused.returncode == 1, refused.stdout
    assert refused.stderr.startswith(
        f"messagerie : L'autorité d'horodatage {url} date son jeton du {paris_seconds(ahead)}, "
        "trop loin de l'heure de ce serveur ("
    )
    assert refused.stderr.endswith(
        ") : son horloge est-elle à l'heure (NTP) ? Rien n'a été signé.\n"
    )
    assert not (tmp_path / "ancrages").exists() or not any((tmp_path / "ancrages").iterdir())


async def dated_by_hand(store: Store, folder: Path, signer: PlatformSigner, at: datetime) -> Path:
    """An anchor the key holder signs with tools of their own, claiming `at`, with the
    authority's token of now (our `anchor` refuses to sign so far from its clock)."""
    anchor = take_anchor_now(store, at)
    data = anchor_bytes(anchor)
    signature = await signer.signer.async_sign_general_data(
        data,
        "sha256",
        detached=True,
        timestamper=signer.timestamper,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=at),
    )
    path = folder / file_name(at)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    Path(f"{path}.p7s").write_bytes(signature.dump())
    return path


def signed_by_hand(store: Store, folder: Path, signer: PlatformSigner, at: datetime) -> Path:
    """An anchor of `at` the key holder signs without a timestamp, with tools of their own."""
    data = anchor_bytes(take_anchor_now(store, at))
    path = folder / file_name(at)
    path.write_bytes(data)
    Path(f"{path}.p7s").write_bytes(sign_detached(data, signer, now=at))
    return path


def take_anchor_now(store: Store, at: datetime) -> Anchor:
    with store.engine.connect() as connection:
        return take_anchor(connection, store_identity(store, create=True), at)


async def test_a_timestamp_far_from_the_anchor_s_signed_time_does_not_date_it(store, tmp_path):
    """The key holder signs an anchor dated an hour back, or ten minutes ahead; the
    authority stamps it now: the stamp does not attest the date the anchor claims. Ten
    minutes after it (a long signing) pass."""
    await opened_by_a(store)
    folder = tmp_path / "ancrages"
    now = utc_now()
    with local_tsa(tmp_path / "tsa") as (url, stamped):
        signer = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"), url)
        backdated, _, ahead = [
            await dated_by_hand(store, folder, signer, now + delay)
            for delay in (timedelta(hours=-1), timedelta(minutes=-10), timedelta(minutes=10))
        ]
    read = read_anchors(folder, [signer.certificate], store_identity(store))
    assert [anchor.at for anchor in read.anchors] == [now - timedelta(minutes=10)]
    assert read.problems == [
        f"Ancrage « {path.name} » : horodaté le {paris_seconds(at)}, trop loin de sa date "
        "signée (de 2 minutes avant à 15 minutes après) : sa date n'est pas attestée."
        for path, at in ((backdated, stamped[0]), (ahead, stamped[2]))
    ]


async def test_an_authority_whose_certificate_has_expired_dates_nothing_any_more(store, tmp_path):
    """pyHanko does not date a trust anchor: the authority's own certificate, expired in
    2021, given as MESSAGERIE_TSA_CERT, went on dating today's tokens."""
    await opened_by_a(store)
    folder = tmp_path / "ancrages"
    with local_tsa(tmp_path / "tsa", "Horodatage expiré", expired=True) as (url, _):
        signer = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"), url)
        written = write_anchor(store, folder, signer, actor="exploitant", now=utc_now())
    authority = read_certificate(tmp_path / "tsa" / "tsa-certificat.pem")
    read = read_anchors(folder, [signer.certificate], store_identity(store), {}, [authority])
    assert read.anchors == []
    assert read.problems == [
        f"Ancrage « {written.path.name} » : horodaté par « CN=Horodatage expiré », qui n'est "
        "pas une autorité de MESSAGERIE_TSA_CERT : sa date n'est pas attestée."
    ]


async def test_after_a_stamped_anchor_one_without_a_timestamp_proves_nothing(store, tmp_path):
    """The key holder leaves the authority out, to date an anchor as they please (`anchor`
    refuses to: they sign it by hand). Once the anchors are stamped, one without a token
    since proves nothing; one dated back before the stamped one holds events dated after
    itself, and each such history is named."""
    await opened_by_a(store)
    folder, now = tmp_path / "ancrages", utc_now()
    plain = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"))
    with local_tsa(tmp_path / "tsa") as (url, _):
        stamping = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"), url)
        stamped = write_anchor(store, folder, stamping, actor="exploitant", now=now)
    with pytest.raises(Refusal) as refused:
        write_anchor(store, folder, plain, actor="exploitant", now=now + timedelta(hours=1))
    assert str(refused.value) == (
        f"Le dernier ancrage de « {folder} », « {stamped.path.name} », est horodaté : sans "
        "MESSAGERIE_TSA_URL, celui-ci ne prouverait rien (verify-store le refuserait). Rien "
        "n'a été écrit."
    )
    later = signed_by_hand(store, folder, plain, now + timedelta(hours=1))
    back = now - timedelta(hours=1)
    signed_by_hand(store, folder, plain, back)
    authority = read_certificate(tmp_path / "tsa" / "tsa-certificat.pem")
    read = read_anchors(folder, [plain.certificate], store_identity(store), {}, [authority])
    assert read.problems == [UNSTAMPED_SINCE.format(name=later.name, at=paris_seconds(now))]
    assert [anchor.at for anchor in read.anchors] == [back, now]
    found = {one.recipient_id: one.reason for one in verify_store(store, now, read.anchors)[1]}
    assert found == {
        rid: ANCHOR_PREDATED.format(number=events_of(store, rid)[-1]["id"], at=paris_seconds(back))
        for rid in (row_of(store, A).id, row_of(store, B).id)
    }


async def test_a_token_the_authority_gave_later_does_not_hide_the_first(store, tmp_path):
    """Anyone can have a public authority stamp an anchor's signature again, and put that
    token first: the earliest of the authority's tokens dates the anchor, as before."""
    await opened_by_a(store)
    folder = tmp_path / "ancrages"
    with local_tsa(tmp_path / "tsa") as (url, stamped):
        signer = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"), url)
        written = write_anchor(store, folder, signer, actor="exploitant", now=utc_now())
    certificate, key = (
        str(tmp_path / "tsa" / name) for name in ("tsa-certificat.pem", "tsa-cle.pem")
    )
    again = DummyTimeStamper(load_cert_from_pemder(certificate),
                             load_private_key_from_pemder(key, None),
                             fixed_dt=stamped[0] + timedelta(days=30))  # fmt: skip
    path = Path(f"{written.path}.p7s")
    content = cms.ContentInfo.load(path.read_bytes())
    (signer_info,) = content["content"]["signer_infos"]
    digest = hashlib.sha256(signer_info["signature"].native).digest()
    token = await again.async_timestamp(digest, "sha256")
    attributes = signer_info["unsigned_attrs"]
    later = cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]})
    signer_info["unsigned_attrs"] = cms.CMSAttributes([later, *attributes])
    path.write_bytes(content.dump(force=True))
    authority = read_certificate(tmp_path / "tsa" / "tsa-certificat.pem")
    read = read_anchors(folder, [signer.certificate], store_identity(store), {}, [authority])
    assert (read.problems, read.stamped) == ([], stamped)


DIGESTS = st.text("0123456789abcdef", min_size=64, max_size=64)


@st.composite
def anchors(draw: st.DrawFn) -> Anchor:
    heads = draw(st.dictionaries(st.integers(1, 2**62), DIGESTS, max_size=20))
    return Anchor(
        at=draw(st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1),
                             max_value=datetime(9000, 12, 31))),
        store=draw(st.none() | st.text(max_size=40)),
        heads=heads,
        identities={rid: draw(DIGESTS) for rid in heads},
    )  # fmt: skip


ANCHORS = anchors()


@given(ANCHORS)
def test_an_anchor_reads_back_as_it_was_written(anchor):
    assert read_anchor(anchor_bytes(anchor)) == anchor


def containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    containers,
    max_leaves=20,
)


@given(st.binary(max_size=300) | JSON.map(lambda value: json.dumps(value).encode()))
def test_any_other_file_is_refused_in_french(data):
    try:
        read_anchor(data)
    except AnchorUnreadable as refusal:
        assert str(refusal)[0].islower() and "Error" not in str(refusal).split("(")[0]


@given(
    ANCHORS, st.sampled_from(["format", "store", "at", "recipients", "heads", "identities"]), JSON
)
def test_an_anchor_with_one_field_changed_is_read_or_refused_in_french(anchor, name, value):
    document = json.loads(anchor_bytes(anchor))
    document[name] = value
    try:
        read = read_anchor(json.dumps(document).encode())
    except AnchorUnreadable:
        return
    assert read.heads == {int(rid): head for rid, head in document["heads"].items()}


def test_an_anchor_that_cannot_be_written_is_said_and_leaves_nothing(store, store_url, tmp_path):
    silent = f"http://127.0.0.1:{free_port()}/"
    refused = cli(store_url, tmp_path, "anchor", MESSAGERIE_TSA_URL=silent)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"L'autorité d'horodatage {silent} (MESSAGERIE_TSA_URL) n'a pas répondu" in (
        refused.stderr
    )
    assert not (tmp_path / "ancrages").exists() or not any((tmp_path / "ancrages").iterdir())
    (tmp_path / "fichier").write_text("pas un dossier")
    blocked = cli(store_url, tmp_path, "anchor", "--dossier", str(tmp_path / "fichier"))
    assert blocked.returncode == 1 and "Traceback" not in blocked.stderr
    assert blocked.stderr.startswith(f"messagerie : Impossible d'écrire « {tmp_path / 'fichier'} »")


def without_foreign_keys(store: Store, statements: list[sa.Executable]) -> None:
    """What an administrator does to remove a row its events still name: SQLite's checks off
    (the sqlite3 shell's default); on PostgreSQL, as the tables' owner, the constraints that
    name recipients dropped."""
    with store.engine.connect() as connection:
        if store.engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # outside any transaction
        else:
            inspector = sa.inspect(connection)
            for table in inspector.get_table_names():
                for key in inspector.get_foreign_keys(table):
                    if key["referred_table"] == "recipient":
                        dropped = f'ALTER TABLE "{table}" DROP CONSTRAINT "{key["name"]}"'
                        connection.exec_driver_sql(dropped)
        for statement in statements:
            connection.execute(statement)
        connection.commit()


async def test_a_recipient_row_removed_with_its_events_left_is_named(store, tmp_path):
    """Anchored, it is « supprimé » (its events no longer empty the anchor's list); not
    anchored, its events are named as left without their recipient."""
    now = await anchored_after_a_opened(store, tmp_path)
    a, b = row_of(store, A).id, row_of(store, B).id
    without_foreign_keys(store, [sa.delete(recipient).where(recipient.c.id.in_([a, b]))])
    assert against_anchors(store, tmp_path, now) == [
        (a, f"ce destinataire, ancré le {paris_seconds(now)}, a été supprimé de la base"),
        (b, f"ce destinataire, ancré le {paris_seconds(now)}, a été supprimé de la base"),
    ]
    orphaned = "ce destinataire a été supprimé de la base, ses événements y sont restés"
    assert [one.reason for one in verify_store(store, now)[1]] == [orphaned, orphaned]


def moved_onto_another_company(connection: sa.Connection, b: int, anchored: datetime) -> str:
    """B's copy given a company after the anchor: its AR would name that company as the
    recipient, and its chain, whole, says nothing of who the recipient is."""
    other = connection.execute(sa.select(company.c.id).limit(1)).scalar_one()
    connection.execute(sa.update(recipient).where(recipient.c.id == b).values(company_id=other))
    return (
        f"ce n'est plus le destinataire ancré le {paris_seconds(anchored)} : son message, son "
        "adresse, son entreprise ou son contact ont été changés"
    )


def read_two_years_back(connection: sa.Connection, b: int, anchored: datetime) -> str:
    """A « Lu » two years back, well chained after the anchored head: an AR of a reading
    that never happened."""
    forged = {"recipient_id": b, "kind": EventKind.READ, "at": anchored - timedelta(days=730),
              "detail": "Ouverture", "client_address": "192.0.2.10"}  # fmt: skip
    append_events(connection, [forged])
    added = connection.execute(sa.select(sa.func.max(event.c.id))).scalar_one()
    return (
        f"l'événement n°{added}, ajouté après l'ancrage du {paris_seconds(anchored)}, est daté "
        "d'avant lui"
    )


@pytest.mark.parametrize("change", [moved_onto_another_company, read_two_years_back])
async def test_what_the_chain_alone_finds_whole_is_named_against_the_anchor(
    store, tmp_path, change
):
    now = await anchored_after_a_opened(store, tmp_path)
    b = row_of(store, B).id
    with store.engine.begin() as connection:
        named = change(connection, b, now)
    assert verify_store(store, now)[1] == []
    assert against_anchors(store, tmp_path, now) == [(b, named)]


async def test_anchor_files_deleted_renamed_or_replaced_by_a_device_are_named(store, tmp_path):
    """The audit log lists each anchor written: one deleted from the folder is missed. A
    renamed one, or a link to /dev/zero or a pipe in place of a file, proves nothing (and
    neither fills the memory nor waits for ever)."""
    await opened_by_a(store)
    folder = tmp_path / "ancrages"
    signer = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"))
    now = utc_now()
    deleted, renamed, linked, piped = (
        write_anchor(store, folder, signer, actor="exploitant", now=now + timedelta(hours=hour))
        for hour in range(4)
    )
    deleted.path.unlink()
    renamed.path.rename(folder / "ancrage-20991231T235959Z.json")
    Path(f"{renamed.path}.p7s").rename(folder / "ancrage-20991231T235959Z.json.p7s")
    Path(f"{linked.path}.p7s").unlink()
    Path(f"{linked.path}.p7s").symlink_to("/dev/zero")
    piped.path.unlink()
    os.mkfifo(piped.path)
    with store.engine.connect() as connection:
        written = anchors_written(connection)
    read = read_anchors(folder, [signer.certificate], store_identity(store), written)
    assert read.anchors == []
    assert read.problems == [
        f"Ancrage « {linked.path.name} » : illisible : c'est un lien symbolique, ou une boucle "
        "de liens.",
        f"Ancrage « {piped.path.name} » : illisible : ce n'est pas un fichier ordinaire "
        "(périphérique, tube, socket ou lien).",
        "Ancrage « ancrage-20991231T235959Z.json » : son nom ne correspond pas à sa date signée "
        f"({renamed.path.name}).",
        f"Ancrage « {deleted.path.name} » : écrit d'après le journal d'audit, il manque dans ce "
        "dossier.",
        f"Ancrage « {renamed.path.name} » : écrit d'après le journal d'audit, il manque dans ce "
        "dossier.",
    ]
    assert time_of("ancrage-99991231T235959Z.json") is None  # Paris time would overflow


def test_status_names_a_verification_that_anchors_could_not_back(store, store_url, tmp_path):
    assert cli(store_url, tmp_path, "anchor").returncode == 0
    for written in (tmp_path / "ancrages").iterdir():
        written.unlink()
    assert cli(store_url, tmp_path, "verify-store").returncode == 1
    status = cli(store_url, tmp_path, "status", MESSAGERIE_CLAMD="off")
    assert status.returncode == 1
    assert "Historiques chaînés : NON vérifiés contre les ancrages le " in status.stdout
    assert "ANCRAGES DOUTEUX — 1" in status.stdout.splitlines()[-1]


def outbox_service(store_url: str, data_dir: Path, **env: str) -> subprocess.Popen:
    """`messagerie outbox --every 0.2` with `env`; no relay listens: every pass fails, and
    the anchoring does not wait for it."""
    return subprocess.Popen(
        [sys.executable, "-m", "messagerie.tui.cli", "--db", store_url, "--data-dir",
         str(data_dir), "outbox", "--every", "0.2"],
        env={**os.environ, "MESSAGERIE_SMTP_URL": f"smtp://127.0.0.1:{free_port()}",
             "MESSAGERIE_ANCHOR_EVERY_HOURS": "24", **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def stopped(service: subprocess.Popen, until: Callable[[], bool]) -> tuple[str, str]:
    """`service` once `until()` holds and a few passes more, stopped as systemd does: what
    it said on its output and on its errors."""
    try:
        deadline = time.monotonic() + 60
        while not until():
            assert service.poll() is None, "the outbox service stopped"
            assert time.monotonic() < deadline, "what was awaited never came"
            time.sleep(0.1)
        time.sleep(1.5)  # several passes more
    finally:
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 0
    return service.communicate()


async def test_the_outbox_service_anchors_by_itself_when_it_is_due(store, store_url, tmp_path):
    """With MESSAGERIE_ANCHOR_EVERY_HOURS the histories are anchored without a cron, relay
    down or not: the service's first pass writes one (there was none), the passes after it
    none (not due)."""
    await opened_by_a(store)
    folder = tmp_path / "ancrages"
    said, _ = stopped(outbox_service(store_url, tmp_path), lambda: any(folder.glob("*.json")))
    (anchor,) = folder.glob("*.json")
    assert f"Ancrage de 2 historique(s) écrit dans « {anchor} »." in said.splitlines()
    assert len(audit_rows(store, "chains.anchor")) == 1
    assert cli(store_url, tmp_path, "verify-store").returncode == 0


async def test_an_anchor_noted_ahead_of_time_does_not_stop_the_service_s_own(
    store, store_url, tmp_path
):
    """The audit log names an anchor dated a year ahead (an edit by hand): the service took
    the next one as due a year later, and wrote none, without a word."""
    await opened_by_a(store)
    ahead = file_name(utc_now() + timedelta(days=365))
    with store.engine.begin() as connection:
        audit.append(connection, action=AUDIT_ACTION, actor="exploitant", at=utc_now(),
                     detail=f"2 historique(s), {ahead}, SHA-256 {'0' * 64}")  # fmt: skip
    folder = tmp_path / "ancrages"
    stopped(outbox_service(store_url, tmp_path), lambda: any(folder.glob("*.json")))
    assert len(list(folder.glob("*.json"))) == 1


async def test_an_anchor_the_outbox_cannot_write_is_said_once_and_the_service_goes_on(
    store, store_url, tmp_path
):
    await opened_by_a(store)
    blocked = tmp_path / "fichier"
    blocked.write_text("pas un dossier")
    service = outbox_service(store_url, tmp_path, MESSAGERIE_ANCHOR_DIR=str(blocked))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(service.stderr or ()), daemon=True)
    reader.start()
    stopped(service, lambda: any("ancrage non écrit" in line for line in lines))
    reader.join(timeout=30)
    told = [line for line in lines if "ancrage non écrit" in line]
    assert len(told) == 1, lines  # once, not at every pass
    assert told[0].startswith(f"messagerie : ancrage non écrit : Impossible d'écrire « {blocked} »")
    assert audit_rows(store, "chains.anchor") == []
