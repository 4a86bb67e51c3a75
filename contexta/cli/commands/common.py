"""Helpers shared by commands."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ...common.errors import ContextaError, NotFoundError, close_matches, from_os_error
from ...facade import Contexta
from ...history import iso_utc
from ...workspace import check_root

__all__ = [
    "explain_run_not_found",
    "guard_os",
    "iso",
    "known_metric_keys",
    "metric_recorded",
    "number",
    "open_workspace",
    "require_metric",
    "require_project",
]


def open_workspace(args: argparse.Namespace) -> Contexta:
    """The workspace named by ``--workspace`` (or the configured default).

    A command reads an existing workspace: a missing one is an error (code
    ``workspace_not_found``), never answered as an empty one, and is not created. Only commands
    registered with ``creates_workspace=True`` (writes that may start a workspace) skip that.
    A ``--project`` that names no project of the workspace is an error too."""
    ctx = Contexta(workspace=args.workspace)
    check_root(ctx.workspace, must_exist=not getattr(args, "creates_workspace", False))
    project = getattr(args, "project", None)
    if project is not None:
        require_project(ctx, project)
    return ctx


def require_project(ctx: Contexta, name: str) -> None:
    """Raise ``project_not_found`` (naming ``name``, close matches and the known projects)
    unless ``name`` is a project name or ``project:`` ref of the workspace."""
    service = ctx.query_service
    if service.project_refs(name):
        return
    known = sorted(set(ctx.list_projects()))
    close = close_matches(name.strip(), known)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    listed = f"Known projects: {', '.join(known)}." if known else "The workspace has no projects."
    raise NotFoundError(
        f"Unknown project {name!r}.{hint} {listed}",
        code="project_not_found",
        details={"value": name, "close_matches": close, "known": known[:50]},
    )


@contextmanager
def guard_os(action: str, path: Path | str | None = None) -> Iterator[None]:
    """Turn an ``OSError`` raised inside the block into a typed error saying what was being
    done (``action``) where, and why (disk full, read-only, permission denied...)."""
    try:
        yield
    except OSError as exc:
        raise from_os_error(exc, action, path) from exc


def iso(when: datetime | None) -> str:
    return "" if when is None else iso_utc(when)


# ---------------------------------------------------------------------- runs the user named


def _run_forms(run_ref: str) -> tuple[str, str, str]:
    """The three ways a user names a run: ``run:<p>.<r>``, ``<p>.<r>`` and ``<r>``."""
    dotted = run_ref.split(":", 1)[-1]
    return run_ref, dotted, dotted.split(".", 1)[-1]


def explain_run_not_found(
    workspace: str | None, error: ContextaError, ctx: Any = None
) -> ContextaError:
    """``error`` (code ``query_run_not_found``) reworded for a person: the id as typed, close
    matches among the workspace's runs, or the runs a bare name is ambiguous between. The code
    stays the same; when the workspace cannot be read the id alone is named."""
    given = str((error.details or {}).get("run_id", ""))
    refs: list[str] = []
    try:
        ctx = ctx if ctx is not None else Contexta(workspace=workspace)
        refs = ctx.maintenance.run_refs()
    except ContextaError:
        pass
    text = given.strip()
    sharing = [ref for ref in refs if _run_forms(ref)[2] == text]
    if len(sharing) > 1:
        message = (
            f"Run {given!r} is ambiguous: {len(sharing)} runs are named so "
            f"({', '.join(sharing[:10])}); give '<project>.<run>' or the full id."
        )
        close: list[str] = []
    else:
        forms = {form: ref for ref in refs for form in _run_forms(ref)}
        close = list(
            dict.fromkeys(_run_forms(forms[c])[1] for c in close_matches(text, list(forms)))
        )
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        known = "`contexta runs` lists its runs." if refs else "The workspace has no runs."
        message = f"Unknown run {given!r}.{hint} {known}"
    return type(error)(
        message,
        code=error.code,
        details={
            "run_id": given,
            "close_matches": close,
            "ambiguous_between": sharing if len(sharing) > 1 else [],
        },
    )


# ---------------------------------------------------------------------- metric keys


def known_metric_keys(
    query_service: Any,
    *,
    run_refs: Iterable[str] | None = None,
) -> dict[str | None, list[str]]:
    """Metric keys recorded per stage name (None: run level) in the runs ``run_refs`` (all runs
    when None), as of the query service's transaction time."""
    import pyarrow.compute as pc

    from ledger import arrays
    from projections import latest_per

    ws, as_of_us = query_service.ws, query_service.as_of_us
    metrics = ws.table("stage_metrics", as_of_us=as_of_us)
    stages = latest_per(ws.table("stages", as_of_us=as_of_us))
    if run_refs is not None:
        wanted = arrays.strings(sorted(set(run_refs)))
        metrics = metrics.filter(pc.is_in(metrics.column("run_ref"), value_set=wanted))
    stage_names = dict(
        zip(stages.column("ref").to_pylist(), stages.column("key").to_pylist(), strict=True)
    )
    pairs = metrics.select(["stage_ref", "key"]).group_by(["stage_ref", "key"]).aggregate([])
    out: dict[str | None, set[str]] = {}
    for stage_ref, key in zip(
        pairs.column("stage_ref").to_pylist(), pairs.column("key").to_pylist(), strict=True
    ):
        name = None if stage_ref is None else stage_names.get(stage_ref, stage_ref)
        out.setdefault(name, set()).add(key)
    return {
        name: sorted(keys)
        for name, keys in sorted(out.items(), key=lambda item: (item[0] is not None, item[0] or ""))
    }


def metric_recorded(
    query_service: Any,
    metric_key: str,
    stage_name: str | None,
    *,
    run_refs: Iterable[str] | None = None,
    any_stage: bool = False,
) -> bool:
    """Whether ``known_metric_keys(query_service, run_refs=run_refs)`` lists ``metric_key`` under
    ``stage_name`` (under any stage with ``any_stage`` and no ``stage_name``), answered from the
    rows of that one key (the saved key index) instead of grouping every metric row."""
    from ledger import arrays
    from projections import as_of

    ws, as_of_us = query_service.ws, query_service.as_of_us
    found = ws.rows_of(
        "stage_metrics", "key", metric_key, columns=("run_ref", "stage_ref", "tx_time")
    )
    picked = as_of(found, as_of_us)
    if picked.num_rows == 0:
        return False
    wanted = None if run_refs is None else arrays.strings(list(set(run_refs)))
    # the answer is "some row qualifies": rows that qualify among the first ones settle it
    # (more rows cannot undo it), which is the common case, without reading them all
    if picked.num_rows > _FIRST_ROWS and _qualifies(
        ws, picked.slice(0, _FIRST_ROWS), stage_name, wanted, any_stage, as_of_us
    ):
        return True
    return _qualifies(ws, picked, stage_name, wanted, any_stage, as_of_us)


#: rows of a metric key looked at first by :func:`metric_recorded`
_FIRST_ROWS = 4096


def _qualifies(
    ws: Any,
    rows: Any,
    stage_name: str | None,
    wanted: Any,
    any_stage: bool,
    as_of_us: int | None,
) -> bool:
    """Whether one of a metric key's ``rows`` is of a run in ``wanted`` (any run when None)
    and under ``stage_name`` as :func:`metric_recorded` reads it."""
    import pyarrow.compute as pc

    from projections import latest_per

    from ...ordering import string_scalar

    if wanted is not None:
        rows = rows.filter(pc.is_in(rows.column("run_ref"), value_set=wanted))
    if rows.num_rows == 0:
        return False
    if any_stage and stage_name is None:
        return True
    stage_refs = rows.column("stage_ref")
    if stage_name is None:
        return bool(stage_refs.null_count)
    refs = pc.unique(stage_refs.drop_null())
    # the latest version of those stages (every version of a ref is kept by the filter, so
    # this equals filtering the latest versions of all stages)
    stages = ws.table("stages", as_of_us=as_of_us).select(["seq", "ref", "key"])
    named = latest_per(stages.filter(pc.is_in(stages.column("ref"), value_set=refs)))
    target = string_scalar(stage_name)
    if pc.any(pc.equal(named.column("key"), target)).as_py():
        return True
    # a stage ref that names no stage stands for itself (as in known_metric_keys)
    return bool(pc.any(pc.equal(refs, target)).as_py()) and not bool(
        pc.any(pc.equal(named.column("ref"), target)).as_py()
    )


def _where(stage: str | None) -> str:
    return "at run level" if stage is None else f"in stage {stage!r}"


def require_metric(
    query_service: Any,
    metric_key: str,
    stage_name: str | None,
    *,
    run_refs: Sequence[str] | None = None,
    any_stage: bool = False,
    scope: str = "the workspace",
) -> None:
    """Raise ``metric_not_found`` unless ``metric_key`` is recorded (in ``stage_name``, or at
    run level when it is None and not ``any_stage``) in the runs ``run_refs``: the message
    names the key, the keys that are known there and the stages that do have the key."""
    if metric_recorded(
        query_service, metric_key, stage_name, run_refs=run_refs, any_stage=any_stage
    ):
        return
    by_stage = known_metric_keys(query_service, run_refs=run_refs)
    if any_stage and stage_name is None:
        known = sorted({k for keys in by_stage.values() for k in keys})
        if metric_key in known:
            return
        where = ""
    else:
        known = by_stage.get(stage_name, [])
        if metric_key in known:
            return
        where = f" {_where(stage_name)}"
    close = close_matches(metric_key, known)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    elsewhere = [s for s, keys in by_stage.items() if metric_key in keys and s != stage_name]
    also = ""
    if elsewhere:
        also = (
            " It is recorded "
            + ", ".join(
                "at run level (omit --stage)" if s is None else f"in stage {s!r} (--stage {s})"
                for s in elsewhere
            )
            + "."
        )
    stages = [s for s in by_stage if s is not None]
    if stage_name is not None and stage_name not in by_stage and not any_stage:
        listed = (
            f" No metric is recorded in a stage {stage_name!r}; stages with metrics: "
            f"{', '.join(stages) or 'none'}."
        )
    else:
        listed = (
            f" Known metric keys{where}: {', '.join(known[:50])}."
            if known
            else f" No metric is recorded{where} in {scope}."
        )
    raise NotFoundError(
        f"Unknown metric key {metric_key!r}{where} in {scope}.{hint}{also}{listed}",
        code="metric_not_found",
        details={
            "metric_key": metric_key,
            "stage": stage_name,
            "close_matches": close,
            "known": known[:50],
            "stages_with_key": elsewhere,
        },
    )


def number(value: Any) -> str:
    """A metric value as text: ``n/a`` for none, up to 6 significant digits otherwise."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
