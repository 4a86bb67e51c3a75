"""Field types of the config classes: what each field accepts and how values are coerced.

Types are read once from the dataclass annotations (``str``, ``int``, ``float``, ``bool``,
``Path``, ``Literal[...]``, ``tuple[str, ...]``, a nested config, each possibly ``| None``);
value rules beyond the type (``> 0``, non-blank...) are attached with :func:`checked`.
Every failure is a ``ConfigurationError`` with code ``invalid_config_value`` naming the field,
the value, what was expected and where the value came from.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

from ..common.dataclass_methods import DataclassMethods
from ..common.errors import ConfigurationError

__all__ = [
    "BOOL_FALSE",
    "BOOL_TRUE",
    "ConfigModel",
    "FieldType",
    "Rules",
    "checked",
    "coerce",
    "field_types",
    "invalid",
    "required_fields",
    "resolve_path",
]

BOOL_TRUE = frozenset({"true", "1", "yes", "on"})
BOOL_FALSE = frozenset({"false", "0", "no", "off"})

_T = TypeVar("_T")


class ConfigModel(DataclassMethods):
    """Base of every config class; holds the explicit / derived marks (see ``_schema``). Its
    ``==``, ``hash`` and ``repr`` are a frozen dataclass's, from
    :class:`~contexta.common.dataclass_methods.DataclassMethods` (the classes pass ``eq=False,
    repr=False``); the marks are not fields, so they are compared, hashed and shown by neither.
    """

    __slots__ = ("_derived", "_explicit")

    _explicit: frozenset[str]
    _derived: frozenset[str]


# ---------------------------------------------------------------------------------------------
# Field types


@dataclasses.dataclass(frozen=True, slots=True)
class Rules:
    """Value rules beyond the type, attached with :func:`checked` (None = no rule)."""

    gt: float | None = None
    ge: float | None = None
    le: float | None = None
    finite: bool = False
    nonblank: bool = False
    length: int | None = None

    def violation(self, value: Any) -> str | None:
        """What ``value`` should have been, or None when it obeys every rule."""

        if value is None:
            return None
        if self.gt is not None and not value > self.gt:
            return f"> {self.gt:g}"
        if self.ge is not None and not value >= self.ge:
            return f">= {self.ge:g}"
        if self.le is not None and not value <= self.le:
            return f"<= {self.le:g}"
        if self.finite and not math.isfinite(value):
            return "a finite number"
        if self.nonblank and not value.strip():
            return "a non-blank string"
        if self.length is not None and len(value) != self.length:
            return f"exactly {self.length} character(s) long"
        return None


def checked(default: _T, **rules: Any) -> _T:
    """A dataclass field with a default and value rules, e.g. ``checked(1024, gt=0)``."""

    return dataclasses.field(default=default, metadata={"contexta_rules": Rules(**rules)})


@dataclasses.dataclass(frozen=True, slots=True)
class FieldType:
    """What a field accepts, read once from its annotation."""

    kind: str  # "str" | "int" | "float" | "bool" | "path" | "literal" | "str_tuple" | "config"
    optional: bool = False
    choices: tuple[str, ...] = ()
    config_cls: type[Any] | None = None
    rules: Rules | None = None

    def describe(self) -> str:
        if self.kind == "literal":
            text = "one of " + ", ".join(repr(choice) for choice in self.choices)
        elif self.kind == "str_tuple":
            text = "a list of strings"
        elif self.kind == "config" and self.config_cls is not None:
            text = f"a {self.config_cls.__name__} or a mapping"
        else:
            text = {
                "str": "a string",
                "int": "an integer",
                "float": "a number",
                "bool": "a boolean",
                "path": "a path",
            }[self.kind]
        return text + (" or null" if self.optional else "")


def _field_type_of(annotation: Any) -> FieldType:
    optional = False
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        optional = len(args) != len(get_args(annotation))
        if len(args) != 1:
            raise TypeError(f"unsupported config annotation {annotation!r}")
        annotation = args[0]
    origin = get_origin(annotation)
    if origin is Literal:
        return FieldType("literal", optional, choices=tuple(get_args(annotation)))
    if origin is tuple:
        return FieldType("str_tuple", optional)
    if isinstance(annotation, type) and issubclass(annotation, ConfigModel):
        return FieldType("config", optional, config_cls=annotation)
    simple = {str: "str", int: "int", float: "float", bool: "bool", Path: "path"}
    if annotation in simple:
        return FieldType(simple[annotation], optional)
    raise TypeError(f"unsupported config annotation {annotation!r}")


_REQUIRED: dict[type[Any], frozenset[str]] = {}
_FIELD_TYPES: dict[type[Any], dict[str, FieldType]] = {}


def required_fields(cls: type[Any]) -> frozenset[str]:
    required = _REQUIRED.get(cls)
    if required is None:
        required = _REQUIRED[cls] = frozenset(
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        )
    return required


def field_types(cls: type[Any]) -> dict[str, FieldType]:
    """The :class:`FieldType` of every field of a config class, in field order (cached)."""

    types_ = _FIELD_TYPES.get(cls)
    if types_ is None:
        hints = get_type_hints(cls)
        types_ = _FIELD_TYPES[cls] = {
            f.name: dataclasses.replace(
                _field_type_of(hints[f.name]), rules=f.metadata.get("contexta_rules")
            )
            for f in dataclasses.fields(cls)
        }
    return types_


#: the longest path and file name accepted (Linux's PATH_MAX and NAME_MAX)
MAX_PATH = 4096
MAX_NAME = 255
PATH_RULE = (
    f"a path without NUL bytes, at most {MAX_PATH} characters long with at most {MAX_NAME} per name"
)


def resolve_path(
    value: str | os.PathLike[str], *, where: str = "path", source: str | None = None
) -> Path:
    """Expand ``~`` and make absolute against the current directory (like 1.0).

    A path no file system accepts (a NUL byte, too long, a name too long) is a
    ``ConfigurationError`` naming ``where`` rather than a raw ``ValueError``/``OSError`` later.
    """

    text = os.fspath(value)
    if isinstance(text, bytes) or "\0" in text or len(text) > MAX_PATH:
        raise _bad_path(where, text, source)
    path = Path(text).expanduser().resolve(strict=False)
    if len(str(path)) > MAX_PATH or any(len(part) > MAX_NAME for part in path.parts):
        raise _bad_path(where, text, source)
    return path


def _bad_path(where: str, text: str | bytes, source: str | None) -> ConfigurationError:
    if len(text) > 80:
        text = f"{text[:40]!s}...{text[-20:]!s} ({len(text)} characters)"
    shown = text
    origin = f" (from {source})" if source else ""
    return ConfigurationError(
        f"Config field `{where}`{origin} must be {PATH_RULE}; got {shown!r}.",
        code="invalid_config_value",
        details={"field": where, "value": shown, "expected": PATH_RULE, "source": source},
    )


def invalid(where: str, value: Any, expected: str, source: str | None = None) -> ConfigurationError:
    origin = f" (from {source})" if source else ""
    return ConfigurationError(
        f"Config field `{where}`{origin} must be {expected}; got {value!r}.",
        code="invalid_config_value",
        details={"field": where, "value": value, "expected": expected, "source": source},
    )


def coerce(
    ftype: FieldType,
    value: Any,
    *,
    where: str,
    lenient: bool,
    source: str | None = None,
) -> Any:
    """Check (and normalise) one field value against its type and rules.

    ``lenient`` is the mode for mappings, files and the environment: text is parsed into
    booleans, numbers and comma lists there, as 1.0 does. Constructors use the strict mode,
    which converts only str->Path, list->tuple and int->float.
    """

    result = _coerce_type(ftype, value, where=where, lenient=lenient, source=source)
    expected = ftype.rules.violation(result) if ftype.rules is not None else None
    if expected is not None:
        raise invalid(where, value, expected, source)
    return result


def _coerce_type(
    ftype: FieldType,
    value: Any,
    *,
    where: str,
    lenient: bool,
    source: str | None = None,
) -> Any:
    if value is None:
        if ftype.optional:
            return None
        raise invalid(where, value, ftype.describe(), source)
    kind = ftype.kind
    text = value.strip() if isinstance(value, str) and lenient else value
    if kind == "str":
        if isinstance(value, str):
            return value
    elif kind == "bool":
        if isinstance(value, bool):
            return value
        if lenient and isinstance(text, str):
            if text.lower() in BOOL_TRUE:
                return True
            if text.lower() in BOOL_FALSE:
                return False
    elif kind == "int":
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)
        if lenient and isinstance(text, str):
            try:
                return int(text)
            except ValueError:
                pass
    elif kind == "float":
        number: float | None = None
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            number = float(value)
        elif lenient and isinstance(text, str):
            try:
                number = float(text)
            except ValueError:
                number = None
        if number is not None and not math.isnan(number):
            return number
    elif kind == "path":
        if isinstance(value, (str, os.PathLike)) and str(value).strip():
            return resolve_path(value, where=where, source=source)
    elif kind == "literal":
        if text in ftype.choices:
            return text
    elif kind == "str_tuple":
        if lenient and isinstance(text, str):
            if text == "[]":
                return ()
            return tuple(part.strip() for part in text.split(",") if part.strip())
        if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            return tuple(value)
    raise invalid(where, value, ftype.describe(), source)
