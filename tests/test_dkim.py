"""DKIM: with MESSAGERIE_DKIM_KEY and MESSAGERIE_DKIM_SELECTOR, `messagerie outbox --once`
hands a real aiosmtpd relay e-mails that dkimpy verifies against exactly the record
`messagerie dkim-record` prints (and not once the body or the subject is changed); wrong
settings are refused in French before anything is sent."""

from __future__ import annotations

import re
import subprocess
from email import message_from_bytes
from email.policy import SMTP

import dkim
import pytest
from aiosmtpd.controller import Controller

from messagerie.models.store.database import open_store
from messagerie.models.store.enums import SendMode
from messagerie.tui.embedded import free_port
from tests.helpers.cli import messagerie
from tests.helpers.messages import A, B, queued_message
from tests.helpers.signing import openssl
from tests.helpers.smtp import Relay

pytestmark = pytest.mark.services  # aiosmtpd, clamd, the `messagerie` command

SELECTOR = "messagerie2026"
DOMAIN = "alsace.example"  # the sending address of tests/helpers/factories.py
RECORD = re.compile(r'(\S+) IN TXT ((?:"[^"]*" ?)+)')


def outbox_once(env: dict[str, str]) -> tuple[subprocess.CompletedProcess, list[bytes]]:
    """`messagerie outbox --once` through a real aiosmtpd relay: its answer, and the e-mails
    the relay received."""
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        url = f"smtp://127.0.0.1:{controller.port}"
        done = messagerie("outbox", "--once", env=env | {"MESSAGERIE_SMTP_URL": url})
    finally:
        controller.stop()
    return done, [data for _, _, data in handler.received]


@pytest.fixture
def setup(tmp_path) -> dict[str, str]:
    """A store with a message queued to A and B (simple mode: the content and the attachment
    are in the e-mail), an RSA key made by openssl, and the settings naming them."""
    url = f"sqlite:///{tmp_path / 'dkim.sqlite3'}"
    store = open_store(url, upgrade=True, documents_dir=tmp_path / "documents")
    queued_message(store, mode=SendMode.SIMPLE)
    store.close()
    openssl("genrsa", "-out", str(tmp_path / "dkim.pem"), "2048")
    return {
        "MESSAGERIE_DB": url,
        "MESSAGERIE_DATA_DIR": str(tmp_path),
        "MESSAGERIE_CLAMD": "off",
        "MESSAGERIE_DKIM_KEY": str(tmp_path / "dkim.pem"),
        "MESSAGERIE_DKIM_SELECTOR": SELECTOR,
    }


def published(line: str) -> tuple[str, bytes]:
    """The owner name and the text of a printed record, as a resolver hands it (the quoted
    strings joined)."""
    match = RECORD.fullmatch(line)
    assert match, line
    return match[1], "".join(re.findall(r'"([^"]*)"', match[2])).encode("ascii")


def test_every_email_is_signed_and_verifies_with_the_printed_record(setup):
    printed = messagerie("dkim-record", env=setup)
    assert printed.returncode == 0, printed.stderr
    (line,) = printed.stdout.splitlines()
    name, text = published(line)
    assert name == f"{SELECTOR}._domainkey.{DOMAIN}"
    assert text.startswith(b"v=DKIM1; k=rsa; p=")

    def dns(query: bytes, timeout: int = 5) -> bytes | None:
        return text if query == f"{name}.".encode() else None

    sent, mails = outbox_once(setup)
    assert sent.returncode == 0, sent.stderr
    assert sorted(message_from_bytes(mail, policy=SMTP)["To"] for mail in mails) == [A, B]
    for mail in mails:
        header = message_from_bytes(mail, policy=SMTP)["DKIM-Signature"]
        tags = dict(tag.strip().split("=", 1) for tag in re.sub(r"\s+", "", header).split(";"))
        assert (tags["d"], tags["s"], tags["c"]) == (DOMAIN, SELECTOR, "relaxed/relaxed")
        assert tags["h"].lower().split(":") == ["from", "to", "subject", "date", "message-id"]
        assert dkim.verify(mail, dnsfunc=dns)

        head, _, body = mail.partition(b"\r\n\r\n")
        assert b"attestation" in body
        changed = body.replace(b"attestation", b"attestatiom", 1)
        assert not dkim.verify(head + b"\r\n\r\n" + changed, dnsfunc=dns)
        renamed = head.replace(b"Subject: ", b"Subject: Re: ", 1) + b"\r\n\r\n" + body
        assert not dkim.verify(renamed, dnsfunc=dns)


def test_dkim_record_for_a_domain_and_settings_refused(setup, tmp_path):
    printed = messagerie("dkim-record", "--domain", "Ville.Example", env=setup)
    assert printed.returncode == 0
    assert printed.stdout.startswith(f'{SELECTOR}._domainkey.ville.example IN TXT "v=DKIM1; ')
    for name in ("exa$(id)mple.fr", "ex ample.fr", "localhost", "ville-.fr"):  # printed once
        wrong = messagerie("dkim-record", "--domain", name, env=setup)
        assert (wrong.returncode, wrong.stdout) == (2, "")
        assert f"--domain : « {name} » n'est pas un nom de domaine (exemple : ville.fr)" in (
            wrong.stderr
        )

    lone = {**setup, "MESSAGERIE_DKIM_KEY": ""}
    refused = messagerie("dkim-record", env=lone)
    assert refused.returncode == 1
    assert refused.stderr == (
        "messagerie : MESSAGERIE_DKIM_KEY manque : la clé DKIM et son sélecteur vont ensemble.\n"
    )
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout",
            "-out", str(tmp_path / "ec.pem"))  # fmt: skip
    elliptic = {**setup, "MESSAGERIE_DKIM_KEY": str(tmp_path / "ec.pem")}
    assert "doit être une clé RSA" in messagerie("dkim-record", env=elliptic).stderr

    stopped, mails = outbox_once(elliptic)
    assert stopped.returncode == 1 and "Traceback" not in stopped.stderr
    assert "doit être une clé RSA d'au moins 1024 bits" in stopped.stderr
    assert mails == []  # nothing leaves unsigned

    unset = {**setup, "MESSAGERIE_DKIM_KEY": "", "MESSAGERIE_DKIM_SELECTOR": ""}
    none = messagerie("dkim-record", env=unset)
    assert none.returncode == 1 and "aucune clé DKIM" in none.stderr
