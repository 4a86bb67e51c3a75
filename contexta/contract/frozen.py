"""Read-only containers used by the contract models.

Mappings stored on a model (``tags``, ``packages``, ``attributes``, extension ``fields``) are
:class:`FrozenMap` instances: a ``dict`` subclass whose mutating methods raise ``TypeError``.
Being a real ``dict`` keeps them cheap to build, compare and hash, and lets msgspec encode them
natively (a ``types.MappingProxyType`` would cost an ``enc_hook`` call, about a microsecond, per
mapping). Nested JSON lists are stored as tuples; :func:`thaw` turns both back into plain
``dict``/``list`` values for ``to_dict()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

__all__ = ["EMPTY_MAP", "FrozenMap", "thaw"]


class FrozenMap(dict[str, Any]):
    """An immutable, hashable ``dict`` (keys kept in the order given, the models sort them)."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("This mapping is read-only; build a new model with the changed values.")

    __setitem__ = _read_only
    __delitem__ = _read_only
    __ior__ = _read_only
    clear = _read_only
    pop = _read_only
    popitem = _read_only
    setdefault = _read_only
    update = _read_only

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({dict.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __copy__(self) -> FrozenMap:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenMap:
        return self

    @classmethod
    def fromkeys(cls, iterable: Iterable[Any], value: Any = None) -> FrozenMap:  # type: ignore[override]
        return cls(dict.fromkeys(iterable, value))


EMPTY_MAP = FrozenMap()


def thaw(value: Any) -> Any:
    """Return a plain JSON-shaped copy of a frozen value (FrozenMap -> dict, tuple -> list)."""
    if isinstance(value, dict):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [thaw(item) for item in value]
    return value
