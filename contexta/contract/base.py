"""The common base of the contract models."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from .frozen import thaw
from .refs import StableRef

__all__ = ["ContractModel", "plain"]


_ATOMS = frozenset((str, int, float, bool, type(None)))


def plain(value: Any) -> Any:
    """The 1.0 ``to_dict()`` shape of a field value: refs as text, containers as dict/list."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is StableRef:
        return f"{value.kind}:{value.value}"
    if isinstance(value, ContractModel):
        return value.to_dict()
    if isinstance(value, dict):
        return thaw(value)
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    return value


class ContractModel(msgspec.Struct, frozen=True):
    """Frozen msgspec Struct with validation in ``__post_init__`` and a 1.0-shaped ``to_dict()``.

    Subclasses normalise their fields in ``__post_init__`` with ``msgspec.structs.force_setattr``;
    the same hook runs when msgspec decodes an instance, so decoded objects are re-validated.
    """

    #: Short stable name used in messages and serialization helpers.
    model_name: ClassVar[str] = "ContractModel"

    def to_dict(self) -> dict[str, Any]:
        """Fields in declaration order; refs as text, mappings as dicts, tuples as lists."""
        return {name: plain(getattr(self, name)) for name in self.__struct_fields__}
