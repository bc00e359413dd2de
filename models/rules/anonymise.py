"""LEGAL.md rule 4: a Q/A document sent to every candidate must not reveal who asked.

`identity_leaks` lists, in French, what still identifies the asking company in a text, so
that the Q/A editor can warn before the document is broadcast. The document broadcasts the
answer as well as the question: both are checked, each warning naming its field. It is a
warning, not a proof of anonymity: it looks for what the platform knows about the asker
(company name, SIRET, SIREN, e-mail address and its domain, contact name).
"""

from __future__ import annotations

import re
import unicodedata

from messagerie.models.rules.siret import format_siret, normalise_siret
from messagerie.models.text import ascii_digits

# Legal forms dropped from either end of a company name ("Dupont Chocolats SAS").
LEGAL_FORMS = frozenset(
    {
        "sa", "sas", "sasu", "sarl", "eurl", "ei", "eirl", "snc", "scs", "sca", "sci", "scop",
        "scic", "selarl", "selas", "selafa", "sem", "spl", "gie", "gip", "sc", "scp", "earl",
        "gaec", "ets", "etablissements", "societe", "ste", "cie", "compagnie", "et", "groupe",
    }
)  # fmt: skip
# Webmail domains say nothing about who asked.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "hotmail.com", "hotmail.fr", "outlook.com", "outlook.fr",
        "live.com", "live.fr", "msn.com", "yahoo.com", "yahoo.fr", "icloud.com", "me.com",
        "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net", "bbox.fr",
        "numericable.fr", "aol.com", "aol.fr", "gmx.fr", "gmx.com", "proton.me",
        "protonmail.com",
    }
)  # fmt: skip
CIVILITIES = ("m", "mr", "monsieur", "mme", "madame", "mlle", "mademoiselle", "me", "maitre")
# Separators people type inside a SIRET: spaces (also non-breaking), dots, dashes.
_DIGIT_GAP = r"[\s.\u00a0\u202f-]*"
# Soft hyphen, zero-width space and joiners: nothing on the page, a cut in a word here.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
# The texts of the Q/A document, as a warning names them: "question" or "answer".
QA_FIELD_NAMES = {"question": "la question", "answer": "la réponse"}


def identity_leaks(
    text: str, *, company_name: str, siret: str, email: str, contact_name: str = ""
) -> tuple[str, ...]:
    """French descriptions of what still identifies the asker in `text` (empty if none)."""
    words = _words(text)
    leaks = []
    name = _company_leak(words, company_name)
    if name:
        leaks.append(f"le nom de l'entreprise « {name} »")
    leaks.extend(_number_leaks(text, siret))
    leaks.extend(_email_leaks(text, email))
    if contact_name.strip() and _contact_found(words, contact_name):
        leaks.append(f"le nom de la personne qui a posé la question « {contact_name.strip()} »")
    return tuple(leaks)


def anonymise_advice(field: str, leaks: tuple[str, ...]) -> str:
    """The live warning under one field of the Q/A document ("" when nothing leaks)."""
    if not leaks:
        return ""
    return f"Anonymisez {QA_FIELD_NAMES[field]} avant diffusion : " + " ; ".join(leaks) + "."


def leaks_summary(field: str, leaks: tuple[str, ...]) -> str:
    """What the confirmation before broadcasting lists for one field ("" when nothing leaks)."""
    if not leaks:
        return ""
    subject = QA_FIELD_NAMES[field].capitalize()
    return f"{subject} semble encore identifier le candidat :\n• " + "\n• ".join(leaks)


def _words(text: str) -> str:
    """Lower case, no accents, no dots ("N.B.C." = "NBC"), "&" = "et", one space between words."""
    visible = text.translate(_INVISIBLE)  # « Du\u00adpont » is Dupont on the page
    decomposed = unicodedata.normalize("NFKD", visible.casefold().replace("&", " et "))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = plain.replace(".", "")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def _contains(words: str, phrase: str) -> bool:
    return bool(phrase) and f" {phrase} " in f" {words} "


def _company_leak(words: str, company_name: str) -> str:
    full = _words(company_name)
    tokens = full.split()
    while tokens and tokens[0] in LEGAL_FORMS:
        tokens.pop(0)
    while tokens and tokens[-1] in LEGAL_FORMS:
        tokens.pop()
    core = " ".join(tokens)
    if _contains(words, full) or (len(core) >= 3 and _contains(words, core)):
        return company_name.strip()
    return ""


def _digits_pattern(digits: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\d)" + _DIGIT_GAP.join(digits) + r"(?!\d)")


def _vat_pattern(siren: str) -> re.Pattern[str]:
    """The intra-EU VAT number: "FR", a two-character key, the SIREN ("FR 12 476460118")."""
    key = r"fr" + _DIGIT_GAP + r"[0-9a-z]{2}" + _DIGIT_GAP
    return re.compile(r"(?<![0-9a-z])" + key + _DIGIT_GAP.join(siren) + r"(?!\d)", re.IGNORECASE)


def _number_leaks(text: str, siret: str) -> list[str]:
    digits = normalise_siret(siret).replace("-", "")
    if not ascii_digits(digits) or len(digits) not in (9, 14):
        return []
    leaks = []
    siret_spans = []
    if len(digits) == 14:
        siret_spans = [match.span() for match in _digits_pattern(digits).finditer(text)]
        if siret_spans:
            leaks.append(f"le numéro SIRET {format_siret(digits)}")
    siren = digits[:9]
    # The SIREN counts apart from the SIRETs it starts (e.g. in an intra-EU VAT number).
    if any(
        not any(start <= match.start() < end for start, end in siret_spans)
        for match in _digits_pattern(siren).finditer(text)
    ):
        leaks.append(f"le numéro SIREN {siren}")
    elif _vat_pattern(siren).search(text):
        leaks.append(f"le numéro de TVA intracommunautaire (SIREN {siren})")
    return leaks


def _email_leaks(text: str, email: str) -> list[str]:
    address = email.strip().casefold()
    if "@" not in address:
        return []
    folded = text.casefold()
    if address in folded:
        return [f"l'adresse e-mail {email.strip()}"]
    domain = address.rpartition("@")[2]
    if domain in PUBLIC_MAIL_DOMAINS:
        return []
    if re.search(r"(?<![\w-])" + re.escape(domain) + r"(?![\w-])", folded):
        return [f"le nom de domaine {domain} (celui de l'adresse e-mail de l'entreprise)"]
    return []


def _contact_found(words: str, contact_name: str) -> bool:
    tokens = _words(contact_name).split()
    if not tokens:
        return False
    # "Jean-Pierre Dupont", "Dupont Jean-Pierre"
    orders = (tokens, [tokens[-1], *tokens[:-1]], tokens[::-1])
    if any(_contains(words, " ".join(order)) for order in orders):
        return True
    surname = tokens[-1]
    return len(surname) >= 2 and any(
        _contains(words, f"{civility} {surname}") for civility in CIVILITIES
    )
