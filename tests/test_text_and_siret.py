import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messagerie.models.formatting import count, lot_label, paris_minutes, paris_seconds
from messagerie.models.rules.siret import format_siret, normalise_siret, siret_is_valid
from messagerie.models.text import fold, search_words
from tests.helpers.factories import paris


def test_fold_removes_case_accents_and_ligatures():
    assert fold("Élaboration du Crémant") == "elaboration du cremant"
    assert fold("Œuvre d’art") == "oeuvre d'art"


@given(st.text())
def test_fold_is_its_definition_for_any_text(text):
    """The fast fold gives, for any text, what its definition gives: ligatures spelt out,
    decomposed, every combining mark dropped, case-folded."""
    ligatures = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'"})
    decomposed = unicodedata.normalize("NFKD", text.translate(ligatures))
    defined = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    assert fold(text) == defined


def test_search_words_drop_plural_and_feminine_endings_of_long_words():
    assert search_words("Crème chocolats") == ["crem", "chocolat"]
    assert search_words("les vins") == ["les", "vins"]


@pytest.mark.parametrize("siret", ["47646011800047", "476 460 118 00047", "732.829.320.00074"])
def test_valid_sirets(siret):
    assert siret_is_valid(siret)


@pytest.mark.parametrize(
    "siret", ["47646011000047", "4764601180004", "476460118000470", "4764601180004A", ""]
)
def test_invalid_sirets(siret):
    assert not siret_is_valid(siret)


def test_siret_display():
    assert format_siret(normalise_siret("476 460 118 00047")) == "476460118 00047"


def test_french_formats_in_paris_time():
    moment = paris(2026, 2, 10, 16, 41)
    assert paris_minutes(moment) == "10/02/2026 16:41"
    assert paris_seconds(moment.replace(second=11)) == "10/02/2026 - 16:41:11"
    assert count(1395) == "1\u202f395"
    assert lot_label(1, "Chocolat au lait") == "Lot n°1 - Chocolat au lait"
