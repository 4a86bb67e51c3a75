"""Helpers shared by commands."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from ...common.errors import NotFoundError, close_matches, from_os_error
from ...facade import Contexta
from ...history import iso_utc
from ...workspace import check_root

__all__ = ["guard_os", "iso", "open_workspace", "require_project"]


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
