"""Text a company or an import wrote stays data where it lands: one line in an e-mail header,
a plain cell in a spreadsheet (ARCHITECTURE.md, "Text and files from outside")."""

from __future__ import annotations

import email
import email.policy
import json
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messagerie.letters.mail.mime import ContextBlock, MailContent, MailRecipient, render_bytes
from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.importing.registers import ImportRefused, read_file
from messagerie.models.rules.validation import ValidationFailed, check_email, relay_address
from messagerie.models.store.enums import SendMode
from messagerie.models.text import control_character, one_line, spreadsheet_cell

CONTENT = MailContent(
    subject="Courrier libre",
    body="Bonjour,\n\nLe contenu.",
    type_label="Courrier libre",
    send_mode=SendMode.SIMPLE,
    reply_allowed=False,
    reply_deadline=None,
    context=ContextBlock(
        ConsultationIdentity("2026-01", "Titre", "Objet", "Ville", "Achats"),
        datetime(2027, 1, 4, 11, tzinfo=UTC),
    ),
    sender_name="Entité d'achat",
    sender_email="achats@ville.example",
)
INJECTION = "Jean\r\nBcc: espion@attacker.example\r\nX-Injected: 1"


def headers_of(content: MailContent, name: str) -> email.message.Message:
    wire = render_bytes(content, MailRecipient("jean@entreprise.example", name))
    return email.message_from_bytes(wire, policy=email.policy.default)


def test_a_name_cannot_add_a_header_line():
    sent = headers_of(replace(CONTENT, sender_name="Entité\r\nBcc: entity@attacker.example"),
                      INJECTION)  # fmt: skip
    assert sent["Bcc"] is None and sent["X-Injected"] is None
    assert len(sent.get_all("To")) == 1 and len(sent.get_all("From")) == 1
    assert "espion@attacker.example" in str(sent["To"])  # kept, as part of the name only
    assert sent["To"].addresses[0].addr_spec == "jean@entreprise.example"
    assert sent["From"].addresses[0].addr_spec == "achats@ville.example"


@given(st.text())
def test_one_line_leaves_no_control_character(text):
    line = one_line(text)
    assert not any(unicodedata.category(c) == "Cc" for c in line)
    assert line == line.strip() and "  " not in line


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_any_name_gives_one_to_and_one_from(name):
    sent = headers_of(CONTENT, name)
    assert len(sent.get_all("To")) == 1 and len(sent.get_all("From")) == 1
    assert sent["To"].addresses[0].addr_spec == "jean@entreprise.example"


WORD = st.text(alphabet="abcdeéèàçßøöäü-0123456789", min_size=1, max_size=12)


@given(
    address=st.emails() | st.builds("{}@{}.{}".format, WORD, WORD, st.sampled_from(["fr", "de"])),
    name=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
)
def test_any_address_the_checks_accept_is_composed_as_a_relay_carries_it(address, name):
    """An accented address passed the checks, then stopped the outbox (UnicodeEncodeError)."""
    try:
        checked = check_email(address)
    except ValidationFailed:
        return
    relayed = relay_address(checked)  # None: only SMTPUTF8 carries it, as it is
    assert relayed is None or relayed.isascii()
    wire = render_bytes(CONTENT, MailRecipient(relayed or checked, name))
    assert wire.isascii() == (relayed is not None)  # UTF-8 headers only where SMTPUTF8 goes
    sent = email.message_from_string(wire.decode("utf-8"), policy=email.policy.SMTPUTF8)
    assert len(sent.get_all("To")) == 1
    assert sent["To"].addresses[0].addr_spec == (relayed or checked)


def test_a_formula_is_shown_as_text():
    assert spreadsheet_cell("=cmd|'/C calc'!A0") == "'=cmd|'/C calc'!A0"
    assert spreadsheet_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert spreadsheet_cell("BTP Rhin") == "BTP Rhin"


@given(st.text())
def test_no_cell_starts_a_formula(text):
    cell = spreadsheet_cell(text)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell.removeprefix("'") == text or cell == text


SAMPLE = Path(__file__).with_name("data") / "import-sample.json"


def import_refusal(tmp_path, where: str, text: str) -> str:
    """The refusal of the sample import with `text` put in `where`; it names the field."""
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    consultation = data["consultations"][0]
    if where == "title":
        consultation["title"] = text
    else:
        consultation["registers"]["retraits"][0][where] = text
    path = tmp_path / "registres.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        read_file(path, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert f"« {where} »" in str(refused.value)
    return str(refused.value)


@pytest.mark.parametrize(
    ("where", "text", "code"),
    [
        # CRLF is read as a line end (as Excel's and browsers' are): refused in a name still.
        ("company", "ACME\r\nBcc: x@attacker.example", "U+000A"),
        ("contact_name", "Jean\x1b[31m", "U+001B"),
        ("title", "Achat\x07", "U+0007"),
    ],
)
def test_the_import_refuses_control_characters_in_names(tmp_path, where, text, code):
    refusal = import_refusal(tmp_path, where, text)
    assert f"contient un caractère de contrôle ({code}) : retirez-le." in refusal


@pytest.mark.parametrize("where", ["company", "contact_name", "title"])
def test_the_import_refuses_bidi_overrides_in_names(tmp_path, where):
    """U+202E would show « Société ‮LIVE » backwards on every buyer's screen and letter."""
    refusal = import_refusal(tmp_path, where, "Société \u202eLIVE SAS")
    assert "contient un caractère qui inverse le sens du texte (U+202E) : retirez-le." in refusal


def test_every_bidi_control_is_named_and_ordinary_text_passes():
    for code in (0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069):
        assert control_character(f"Nom{chr(code)}", multiline=True) == f"U+{code:04X}"
    assert control_character("Œuvre d'été — 12 € « ok »\n\tsuite", multiline=True) is None


def test_a_question_keeps_its_lines_but_no_escape():
    assert control_character("Première ligne\nseconde\tligne", multiline=True) is None
    assert control_character("Première ligne\nseconde", multiline=False) == "U+000A"
    assert control_character("Question\x1b[2J", multiline=True) == "U+001B"
