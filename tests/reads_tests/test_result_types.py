"""The query result types, config classes and the record store's result types behave exactly
as the frozen dataclasses they were generated as.

They take ``==``, ``hash`` and ``repr`` from ``contexta.common.dataclass_methods`` instead of
letting ``@dataclass`` compile them for every class at import. Each class is
checked here against a twin made by ``dataclasses.make_dataclass`` from the same fields with
the generated methods: equal answers for equal, unequal and other-class operands, the same
hash (or the same error for an unhashable field), the same ``repr`` (nested and
self-containing values too), frozen fields, ``replace``, ``asdict`` and pickling.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from contexta.config import models
from contexta.interpretation import results
from contexta.store import record_replay, record_store

CLASSES = [getattr(results, name) for name in results.__all__] + [
    getattr(module, name)
    for module in (record_store, record_replay)
    for name in dir(module)
    if isinstance(getattr(module, name), type)
    and getattr(module, name).__module__ == module.__name__
    and dataclasses.is_dataclass(getattr(module, name))
]


def _twin(cls: type) -> type:
    twin = dataclasses.make_dataclass(
        cls.__name__,
        [(f.name, f.type, f) for f in dataclasses.fields(cls)],
        frozen=True,
        slots=True,
    )
    twin.__qualname__ = cls.__qualname__
    return twin


def _values(cls: type, salt: str) -> dict[str, Any]:
    """A value for every field without a default (and a few that have one)."""
    out: dict[str, Any] = {}
    for i, f in enumerate(dataclasses.fields(cls)):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required or i == 0:  # the first field always: the salt tells instances apart
            out[f.name] = f"{salt}-{f.name}" if i % 2 else (i, salt, None)
    return out


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_result_type_behaves_as_its_generated_dataclass(cls: type) -> None:
    twin = _twin(cls)
    a, b, c = (cls(**_values(cls, s)) for s in ("x", "x", "y"))
    ta, tb, tc = (twin(**_values(cls, s)) for s in ("x", "x", "y"))
    assert dataclasses.is_dataclass(a)
    assert (a == b, a == c, a != c) == (ta == tb, ta == tc, ta != tc) == (True, False, True)
    assert a != ta and ta != a  # another class, even with the same fields: not equal
    assert a.__eq__(object()) is NotImplemented
    assert repr(a) == repr(ta)
    assert _outcome(hash, a) == _outcome(hash, ta)
    name = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(a, name, "changed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(a, name)
    changed = dataclasses.replace(a, **{name: "other"})
    assert changed != a and getattr(changed, name) == "other"
    # a mapping field's default (a read-only proxy) can be neither deep-copied nor pickled,
    # by the generated dataclass either: the same outcome, whichever it is
    assert _outcome(dataclasses.asdict, a) == _outcome(dataclasses.asdict, ta)
    proxies = any(isinstance(getattr(a, n), MappingProxyType) for n in _names(cls))
    round_trip = _outcome(lambda r: pickle.loads(pickle.dumps(r)) == r, a)
    assert round_trip == (TypeError if proxies else True)


def _outcome(fn: Any, value: Any) -> object:
    """``fn(value)``, or the type of the error it raised."""
    try:
        return fn(value)
    except Exception as exc:  # compared with the twin's, not swallowed
        return type(exc)


def test_nested_and_self_containing_values_print_as_a_dataclass_would() -> None:
    run = results.RunRecord("run:p.r", "p", "r", "completed", "2026-01-01T00:00:00Z", None)
    note = results.CompletenessNote("warning", "missing", "a note")
    snapshot = results.RunSnapshot(
        run, completeness_notes=("x",), params=MappingProxyType({"lr": 0.1}), tags={"a": "b"}
    )
    twin_run = _twin(results.RunRecord)(*[getattr(run, n) for n in _names(results.RunRecord)])
    twin = _twin(results.RunSnapshot)(
        twin_run, completeness_notes=("x",), params=MappingProxyType({"lr": 0.1}), tags={"a": "b"}
    )
    assert repr(snapshot) == repr(twin)
    assert repr(note) == repr(_twin(results.CompletenessNote)("warning", "missing", "a note"))
    loop: list[Any] = []
    holder = results.EvidenceLink("run", "run:p.r", loop)  # type: ignore[arg-type]
    loop.append(holder)
    twin_loop: list[Any] = []
    twin_holder = _twin(results.EvidenceLink)("run", "run:p.r", twin_loop)
    twin_loop.append(twin_holder)
    assert repr(holder) == repr(twin_holder)  # '...' where the value contains itself


def _names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


CONFIGS = [
    getattr(models, name)
    for name in models.__all__
    if isinstance(getattr(models, name), type) and dataclasses.is_dataclass(getattr(models, name))
]


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
def test_a_config_class_behaves_as_its_generated_dataclass(cls: type) -> None:
    twin = _twin(cls)
    a, b = cls(), cls()
    ta = twin(**{n: getattr(a, n) for n in _names(cls)})
    assert a == b and hash(a) == hash(b) and a != ta
    assert repr(a) == repr(ta)
    assert hash(a) == hash(ta)
    flags = [f.name for f in dataclasses.fields(cls) if isinstance(getattr(a, f.name), bool)]
    if flags:  # one field changed: unequal, as the generated method says
        c = dataclasses.replace(a, **{flags[0]: not getattr(a, flags[0])})
        tc = twin(**{n: getattr(c, n) for n in _names(cls)})
        assert (a == c, a != c) == (ta == tc, ta != tc) == (False, True)
        assert repr(c) == repr(tc)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(a, _names(cls)[0], None)
    assert pickle.loads(pickle.dumps(a)) == a


def test_a_snapshot_builds_no_comparison_types_and_a_compare_finds_them(tmp_path: Path) -> None:
    """In a fresh interpreter, a snapshot, a list and a select-best import neither the
    comparison result types nor the provenance module; a compare then imports them, and they
    are the ones ``results`` names (same objects, ``__module__`` the results module)."""
    import subprocess
    import sys

    from contexta import Contexta

    root = tmp_path / "ws"
    ctx = Contexta(workspace=root)
    for name in ("a", "b"):
        with ctx.run(name) as run, run.stage("train") as stage:
            stage.metric("accuracy", 0.5 if name == "a" else 0.7)
    ctx.close()
    script = (
        "import sys\n"
        "from contexta import Contexta\n"
        f"ctx = Contexta(workspace={str(root)!r})\n"
        "ids = [r.run_id for r in ctx.list_runs()]\n"
        "ctx.get_run_snapshot(ids[0])\n"
        "ctx.select_best_run(ids, 'accuracy', stage_name='train')\n"
        "names = ('contexta.interpretation.comparison_results',"
        " 'contexta.interpretation.provenance_audit')\n"
        "print(*[n in sys.modules for n in names])\n"
        "found = ctx.compare_runs(ids[0], ids[1])\n"
        "print(*[n in sys.modules for n in names])\n"
        "from contexta.interpretation import comparison_results, results\n"
        "print(type(found) is results.RunComparison is comparison_results.RunComparison,"
        " type(found).__module__)\n"
        "ctx.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == [
        "False",
        "False",
        "True",
        "True",
        "True",
        "contexta.interpretation.results",
    ]


def test_results_names_every_comparison_type_and_nothing_else_it_lacks() -> None:
    """``results.__all__`` is what the module defines plus the comparison types, which its
    ``__getattr__`` hands out from :mod:`.comparison_results`; any other name is refused."""
    from contexta.interpretation import comparison_results

    defined = {name for name in results.__all__ if name in vars(results)}
    lazy = set(results.__all__) - defined
    assert lazy <= set(comparison_results.__all__)
    assert set(comparison_results.__all__) <= set(results.__all__)
    for name in comparison_results.__all__:
        assert getattr(results, name) is getattr(comparison_results, name)
    with pytest.raises(AttributeError):
        results.NotAResultType  # noqa: B018
