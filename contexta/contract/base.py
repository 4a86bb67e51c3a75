"""The common base of the contract models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import msgspec
from msgspec import inspect as mi

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


def _members(info: Any) -> tuple[Any, ...]:
    return info.types if isinstance(info, mi.UnionType) else (info,)


def _expression(name: str, info: Any) -> str:
    """Python source converting ``self.<name>`` to its to_dict() form, chosen by field type."""
    members = _members(info)
    nullable = any(isinstance(m, mi.NoneType) for m in members)
    structs = [m.cls for m in members if isinstance(m, mi.StructType)]
    value = f"self.{name}"
    if StableRef in structs:  # ref fields always hold a StableRef (or None) once constructed
        text = f"{value}.kind + ':' + {value}.value"
        return f"({text} if {value} is not None else None)" if nullable else text
    if structs and not nullable:
        return f"{value}.to_dict()"
    if all(isinstance(m, (mi.StrType, mi.IntType, mi.FloatType, mi.NoneType)) for m in members):
        return value
    if isinstance(info, mi.VarTupleType) and isinstance(info.item_type, mi.StrType):
        return f"list({value})"
    if isinstance(info, mi.VarTupleType) and isinstance(info.item_type, mi.StructType):
        return f"[item.to_dict() for item in {value}]"
    dicts = [m for m in members if isinstance(m, mi.DictType)]
    if dicts and isinstance(dicts[0].value_type, mi.StrType):  # string maps: never None
        return f"dict({value})"
    if dicts:
        return f"thaw({value})"
    return f"plain({value})"


def _compile_to_dict(cls: type) -> Callable[[Any], dict[str, Any]]:
    """Generate a dict-literal ``to_dict`` for one model class (as fast as a handwritten one)."""
    fields = mi.type_info(cls).fields  # type: ignore[attr-defined]
    body = ", ".join(f"{f.name!r}: {_expression(f.name, f.type)}" for f in fields)
    source = f"def to_dict(self):\n    return {{{body}}}\n"
    namespace: dict[str, Any] = {"plain": plain, "thaw": thaw}
    exec(compile(source, f"<{cls.__name__}.to_dict>", "exec"), namespace)
    function: Callable[[Any], dict[str, Any]] = namespace["to_dict"]
    return function


_TO_DICT: dict[type, Callable[[Any], dict[str, Any]]] = {}


class ContractModel(msgspec.Struct, frozen=True, gc=False):
    """Frozen msgspec Struct with validation in ``__post_init__`` and a 1.0-shaped ``to_dict()``.

    Subclasses normalise their fields in ``__post_init__`` with ``msgspec.structs.force_setattr``;
    the same hook runs when msgspec decodes an instance, so decoded objects are re-validated.

    Instances are not tracked by the garbage collector (``gc=False``): they are frozen and hold
    text, numbers, refs, other models and frozen maps, so they cannot be part of a reference
    cycle, and a training loop making several per metric does not make collections more
    frequent.
    """

    #: Short stable name used in messages and serialization helpers.
    model_name: ClassVar[str] = "ContractModel"

    def to_dict(self) -> dict[str, Any]:
        """Fields in declaration order; refs as text, mappings as dicts, tuples as lists."""
        convert = _TO_DICT.get(type(self))
        if convert is None:
            convert = _TO_DICT[type(self)] = _compile_to_dict(type(self))
        return convert(self)
