"""``==``, ``hash`` and ``repr`` for frozen dataclasses, written once.

``@dataclass`` compiles these three methods for every class it makes, with ``exec``, when the
class is created: about 0.3 ms a class on Python 3.11, paid by every process that imports the
module. The result types and config classes (45 of them, imported by every first query and
every CLI command) inherit them from :class:`DataclassMethods` instead and pass ``eq=False,
repr=False`` to ``@dataclass``. The rules are the generated methods': equal only to an
instance of the very same class whose compared fields are equal, in order; the hash of the
hashed fields' tuple (a field's ``hash``, else its ``compare``); ``Name(field=value!r, ...)``
over the fields shown, ``...`` for a value that contains itself.
"""

from __future__ import annotations

import reprlib
from dataclasses import fields

__all__ = ["DataclassMethods"]

#: class -> (compared, hashed, shown) field names
_NAMES: dict[type, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {}


def _names(cls: type) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    found = _NAMES.get(cls)
    if found is None:
        every = fields(cls)  # type: ignore[arg-type]
        found = _NAMES[cls] = (
            tuple(f.name for f in every if f.compare),
            tuple(f.name for f in every if (f.compare if f.hash is None else f.hash)),
            tuple(f.name for f in every if f.repr),
        )
    return found


class DataclassMethods:
    """Mixin for a frozen dataclass made with ``eq=False, repr=False`` (see the module)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = _names(type(self))[0]
        return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in _names(type(self))[1]))

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in _names(type(self))[2])
        return f"{type(self).__qualname__}({shown})"
