"""Plain data from a row: the dataclass a query's row becomes, field by field."""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


def from_row(cls: type[T], row: Any, **values: Any) -> T:
    """The dataclass `cls` whose fields are the `row`'s columns of the same names (or, for
    another object than a query's row, its attributes), but for `values`: the fields the row
    holds under another name or form, or not at all. A field found in neither fails."""
    columns = getattr(row, "_mapping", None)  # a query's row (sqlalchemy.Row)
    get = functools.partial(getattr, row) if columns is None else columns.__getitem__
    names = [field.name for field in dataclasses.fields(cls)]
    return cls(**{name: get(name) for name in names if name not in values}, **values)
