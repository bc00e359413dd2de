"""The JSON import format: {"consultations": [ … ]}, read into checked groups."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeGuard

from messagerie.models.importing.reading import (
    CONSULTATION_FIELDS,
    ENTRY_FIELDS,
    Group,
    Reading,
    register_kind,
)
from messagerie.models.store.enums import RegisterKind
from messagerie.models.text import lf_lines

_JSON_REASONS = {
    "Expecting value": "valeur attendue",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Expecting property name enclosed in double quotes": "nom de champ entre guillemets attendu",
    "Unterminated string starting at": "texte sans guillemet fermant",
    "Invalid control character at": "caractère de contrôle dans un texte",
    "Invalid \\escape": "séquence d'échappement invalide",
    "Extra data": "contenu après la fin du document",
}


MAX_DIGITS = 18  # a JSON number longer than this is refused, not handed to int()


class _Unreadable(ValueError):
    """A document JSON allows but the import refuses: its French reason."""


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key written twice is refused (json.loads would keep the last)."""
    counts = Counter(key for key, _ in pairs)
    repeated = [key for key, count in counts.items() if count > 1]
    if repeated:
        raise _Unreadable(f"le champ « {repeated[0][:60]} » est écrit deux fois dans un même objet")
    return dict(pairs)


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Unreadable(f"le nombre {text[:20]}… a plus de {MAX_DIGITS} chiffres")
    return int(text)


def _no_constant(name: str) -> Any:
    raise _Unreadable(f"« {name} » n'est pas une valeur JSON permise")


def _load(text: str, reading: Reading) -> Any:
    """The JSON document, or None with the reason reported (nothing beyond plain JSON)."""
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_without_repeats,
            parse_int=_integer,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as error:
        reason = _JSON_REASONS.get(error.msg, "syntaxe invalide")
        where = f"ligne {error.lineno}, colonne {error.colno}"
        reading.add(where, None, f"JSON mal formé ({reason}).")
    except _Unreadable as error:
        reading.add("document", None, f"JSON refusé : {error}.")
    except RecursionError:
        reading.add("document", None, "JSON refusé : des objets ou listes imbriqués trop profond.")
    return None


def read_json(text: str, reading: Reading) -> list[Group]:
    document = _load(text, reading)
    if len(reading):
        return []
    if not isinstance(document, dict) or not isinstance(document.get("consultations"), list):
        reading.add(
            "document", None, 'le fichier JSON doit contenir un objet {"consultations": [ … ]}.'
        )
        return []
    _unknown_keys(document, ("consultations",), "document", reading)
    groups: dict[str, Group] = {}
    for index, record in enumerate(document["consultations"], start=1):
        group = _json_consultation(record, f"consultation n°{index}", reading)
        if group is None or group.fields is None:
            continue
        reference = group.fields.identity.reference
        if reference in groups:
            reading.add(
                group.where,
                "reference",
                f"« {reference} » est déjà décrite par {groups[reference].where}.",
            )
        else:
            groups[reference] = group
    return list(groups.values())


def _json_consultation(record: Any, where: str, reading: Reading) -> Group | None:
    if not isinstance(record, dict):
        reading.add(where, None, "un objet { … } est attendu.")
        return None
    if isinstance(record.get("reference"), str) and record["reference"].strip():
        where += f" (« {record['reference'].strip()} »)"
    _unknown_keys(record, (*CONSULTATION_FIELDS, "lots", "registers"), where, reading)
    values = _json_texts(record, CONSULTATION_FIELDS, where, reading)
    group = reading.group(values, where, lambda group: _json_lots(group, record, where, reading))
    registers = record.get("registers", {})
    if not isinstance(registers, dict):
        reading.add(where, "registers", 'un objet {"retraits": [ … ], …} est attendu.')
        return group
    for name in registers:
        kind = register_kind(name)
        if kind is None:
            reading.add(
                where, "registers", f"registre inconnu « {name} » (retraits, questions, depots)."
            )
            continue
        for item_where, item in _json_list(registers, name, where, reading):
            _json_entry(group, kind, item, item_where, reading)
    return group


def _json_list(record: dict, name: str, where: str, reading: Reading) -> Iterator[tuple[str, dict]]:
    """The objects of the list `record[name]` (absent: none), each with its place."""
    items = record.get(name, [])
    if not isinstance(items, list):
        reading.add(where, name, "une liste [ … ] est attendue.")
        return
    for index, item in enumerate(items, start=1):
        item_where = f"{where}, {name}, élément n°{index}"
        if isinstance(item, dict):
            yield item_where, item
        else:
            reading.add(item_where, None, "un objet { … } est attendu.")


def _is_integer(value: Any) -> TypeGuard[int]:
    """A JSON integer (JSON's true and false are Python ints too)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _json_lots(group: Group, record: dict, where: str, reading: Reading) -> None:
    for item_where, item in _json_list(record, "lots", where, reading):
        _json_lot(group, item, item_where, reading)


def _json_lot(group: Group, item: dict, where: str, reading: Reading) -> None:
    _unknown_keys(item, ("number", "title"), where, reading)
    number = item.get("number")
    title = _json_texts(item, ("title",), where, reading)["title"]
    if _is_integer(number):
        reading.add_lot(group, number, title, where)
    else:
        reading.add(where, "number", "un numéro entier est attendu, par exemple 1.")


def _json_entry(group: Group, kind: RegisterKind, item: dict, where: str, reading: Reading) -> None:
    _unknown_keys(item, (*ENTRY_FIELDS, "lots"), where, reading)
    numbers = item.get("lots") or []
    if not isinstance(numbers, list) or not all(_is_integer(n) for n in numbers):
        reading.add(where, "lots", "une liste de numéros de lots est attendue, par exemple [1, 2].")
        numbers = []
    values = _json_texts(item, ENTRY_FIELDS, where, reading)
    lots = ", ".join(map(str, numbers))
    reading.add_entry(group, kind, values, where, lots=lots, lots_name="lots")


def _json_texts(record: dict, names: Iterable[str], where: str, reading: Reading) -> dict[str, str]:
    """The text fields of a JSON object, trimmed; absent or null ones are empty."""
    texts = {}
    for name in names:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            reading.add(
                where, name, f"un texte entre guillemets est attendu, pas {json.dumps(value)}."
            )
        texts[name] = "" if value is None else lf_lines(str(value).strip())
    return texts


def _unknown_keys(record: dict, known: Sequence[str], where: str, reading: Reading) -> None:
    for key in record:
        if key not in known:
            reading.add(
                where, None, f"champ inconnu « {key} » (champs permis : {', '.join(known)})."
            )
