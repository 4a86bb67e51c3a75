"""Consistent workspace backups.

A backup is the ledger up to its committed head plus the artifact bodies (and optionally the
cache and exports), with a manifest of every file's size and sha256. Writers in this process
commit first; the head is then read once and nothing past it is copied: sealed segments whole,
the active segment up to the head's byte offset, and a ``HEAD`` naming exactly that point. So
a backup taken while other processes keep appending is still a prefix of the log that passes
``ledger verify``. Projections are not copied: they are rebuilt from the ledger on first use.

Layout: ``<backup_root>/<backup_ref>/manifest.json`` and ``.../workspace/{ledger,artifacts,
config,cache,exports}``; written under ``<backup_ref>.partial`` and renamed when complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ledger import Head, list_segments, read_head, verify
from ledger.head import HEAD_NAME, HEAD_SIZE

from ..common.errors import from_os_error
from .errors import BackupError
from .listing import BACKUP_FORMAT
from .models import BackupPlan, BackupResult

__all__ = [
    "BACKUP_FORMAT",
    "archive_path",
    "create_backup_archive",
    "create_workspace_backup",
    "hash_file",
    "plan_workspace_backup",
]

_CHUNK = 1 << 20
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
#: Subdirectories of each copied tree that a backup leaves out.
_SKIPPED = {
    "artifacts": ("staging", "exports", "quarantine"),
    "cache": ("restore",),
    "exports": ("backups",),
}


def _now() -> str:
    from ..common.clock import utc_now_text

    return utc_now_text()


def hash_file(path: Path) -> tuple[int, str]:
    """Size and sha256 of a file."""
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            size += len(block)
            sha.update(block)
    return size, sha.hexdigest()


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _sources(config: Any) -> dict[str, Path]:
    ws = config.workspace
    return {
        "ledger": Path(ws.root_path) / "ledger",
        "artifacts": Path(config.artifacts.root_path or ws.artifacts_path),
        "cache": Path(ws.cache_path),
        "exports": Path(ws.exports_path),
    }


def commit_live_writers(ledger_root: Path) -> int:
    """Commit the buffers of this process's open writers on ``ledger_root``."""
    from ledger import open_writers

    writers = open_writers(ledger_root)
    for live in writers:
        live.commit()
    return len(writers)


def plan_workspace_backup(
    config: Any,
    *,
    label: str | None = None,
    include_cache: bool = False,
    include_exports: bool = False,
) -> BackupPlan:
    """What :func:`create_workspace_backup` will copy, and roughly how many bytes."""
    stem = _SAFE.sub("-", (label or "backup").strip()).strip("-_") or "backup"
    backup_ref = f"{stem}-{_now().replace(':', '-').replace('.', '_')}"
    sections = ["config", "ledger", "artifacts"]
    notes = ["projections_excluded:rebuilt_from_ledger"]
    for name, include in (("cache", include_cache), ("exports", include_exports)):
        if include:
            sections.append(name)
        else:
            notes.append(f"{name}_excluded")
    sources = _sources(config)
    estimated = sum(_size(sources[s]) for s in sections if s in sources)
    return BackupPlan(
        backup_ref=backup_ref,
        workspace_root=Path(config.workspace.root_path),
        backup_root=Path(config.recovery.backup_root),
        included_sections=tuple(sections),
        estimated_bytes=estimated,
        notes=tuple(notes),
    )


class _Writer:
    """Copies files into the backup while hashing them once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, dict[str, Any]] = {}
        self.bytes = 0
        self.skipped_links: list[str] = []

    def copy(self, source: Path, relative: str, limit: int | None = None) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        sha, size = hashlib.sha256(), 0
        with source.open("rb") as src, target.open("wb") as dst:
            while True:
                want = _CHUNK if limit is None else min(_CHUNK, limit - size)
                if want <= 0:
                    break
                block = src.read(want)
                if not block:
                    break
                dst.write(block)
                sha.update(block)
                size += len(block)
            dst.flush()
            os.fsync(dst.fileno())
        if limit is not None and size != limit:
            raise BackupError(
                f"{source} is shorter ({size} bytes) than the committed head says ({limit}).",
                code="recovery_backup_source_changed",
                details={"file": str(source)},
            )
        self.record(relative, size, sha.hexdigest())

    def write(self, relative: str, data: bytes) -> None:
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.record(relative, len(data), hashlib.sha256(data).hexdigest())

    def record(self, relative: str, size: int, digest: str) -> None:
        self.files[relative] = {"size": size, "sha256": digest}
        self.bytes += size

    def tree(self, source: Path, relative: str, skip: tuple[str, ...] = ()) -> None:
        links: list[str] = []
        for path in _walk(source, skip, links):
            self.copy(path, f"{relative}/{path.relative_to(source).as_posix()}")
        self.skipped_links += [f"{relative}/{name}" for name in links]


def _walk(root: Path, skip: tuple[str, ...], skipped_links: list[str]) -> Iterator[Path]:
    """Regular files under ``root`` (not ``*.tmp``), never following a symbolic link: links
    are left out and named in ``skipped_links``."""
    if not root.is_dir():
        return
    for top, dirs, names in os.walk(root, followlinks=False):
        base = Path(top)
        if base == root:
            dirs[:] = [d for d in dirs if d not in skip]
        for name in sorted(dirs) + sorted(names):
            path = base / name
            if path.is_symlink():
                skipped_links.append(path.relative_to(root).as_posix())
            elif name in names and path.is_file() and not name.endswith(".tmp"):
                yield path


def _copy_ledger(out: _Writer, ledger_root: Path) -> Head:
    head = read_head(ledger_root) or Head()
    for info in list_segments(ledger_root):
        name = f"workspace/ledger/{info.path.name}"
        if info.index < head.segment:
            out.copy(info.path, name)
        elif info.index == head.segment:
            out.copy(info.path, name, limit=head.offset)
    data = head.to_bytes()
    out.write(f"workspace/ledger/{HEAD_NAME}", data + b" " * (HEAD_SIZE - 1 - len(data)) + b"\n")
    return head


def _checked_root(config: Any, plan: BackupPlan, sources: dict[str, Path]) -> Path:
    """The plan's backup root, resolved; refused inside the ledger, the projections or a tree
    the backup copies (outside its skipped subdirectories), and when the ref is not a plain
    name (it must not lead out of the root)."""
    ref = plan.backup_ref
    if not isinstance(ref, str) or not _REF.fullmatch(ref) or ".." in ref:
        raise BackupError(
            f"Backup ref {ref!r} is not a plain name (letters, digits, '.', '_', '-').",
            code="recovery_backup_ref_invalid",
            details={"backup_ref": repr(ref)},
        )
    root = Path(plan.backup_root).expanduser().resolve()
    _refuse_inside(root, _owned(config, plan, sources, root))
    if os.path.lexists(root) and not root.is_dir():
        raise BackupError(
            f"Backup directory {root} is not a directory.",
            code="not_a_directory",
            details={"backup_root": str(root)},
        )
    return root


def _owned(config: Any, plan: BackupPlan, sources: dict[str, Path], root: Path) -> list[Path]:
    """The directories ``root`` must not be in: the ledger, the projections and the trees the
    backup copies (outside their skipped subdirectories)."""
    workspace = Path(config.workspace.root_path).expanduser().resolve()
    inside = [workspace / "ledger", workspace / "projections"]
    for section in plan.included_sections:
        source = sources.get(section)
        if source is None or section == "ledger":
            continue
        source = source.expanduser().resolve()
        if root.is_relative_to(source) and not any(
            root.is_relative_to(source / skip) for skip in _SKIPPED.get(section, ())
        ):
            inside.append(source)
    return inside


def _refuse_inside(root: Path, inside: list[Path]) -> None:
    for place in inside:
        if root.is_relative_to(place):
            raise BackupError(
                f"Backup directory {root} is inside {place}, which the workspace "
                "(or this backup) owns; choose another directory.",
                code="recovery_backup_root_inside_workspace_data",
                details={"backup_root": str(root), "inside": str(place)},
            )


def create_workspace_backup(config: Any, plan: BackupPlan) -> BackupResult:
    """Write the backup described by ``plan``; returns where it is and what it verified."""
    from ..config import config_to_mapping

    sources = _sources(config)
    backup_root = _checked_root(config, plan, sources)
    final = backup_root / plan.backup_ref
    if os.path.lexists(final):
        raise BackupError(
            f"Backup {plan.backup_ref!r} already exists at {final}.",
            code="recovery_backup_exists",
            details={"location": str(final)},
        )
    partial = backup_root / f"{plan.backup_ref}.partial"
    try:
        if partial.is_symlink() or partial.is_file():
            partial.unlink()
        elif partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
    except OSError as exc:
        raise from_os_error(exc, "creating the backup directory", partial) from exc
    out = _Writer(partial)
    copied: list[str] = []
    head = Head()
    try:
        for section in plan.included_sections:
            if section == "config":
                body = json.dumps(config_to_mapping(config), indent=2, sort_keys=True, default=str)
                out.write("workspace/config/resolved.config.json", body.encode())
            elif section == "ledger":
                commit_live_writers(sources["ledger"])
                head = _copy_ledger(out, sources["ledger"])
            elif section == "artifacts":
                out.tree(sources["artifacts"], "workspace/artifacts", _SKIPPED["artifacts"])
            elif section == "cache":
                out.tree(sources["cache"], "workspace/cache", _SKIPPED["cache"])
            elif section == "exports":
                out.tree(sources["exports"], "workspace/exports", _SKIPPED["exports"])
            else:
                raise BackupError(
                    f"Unknown backup section {section!r}.",
                    code="recovery_unknown_section",
                    details={"section": section},
                )
            copied.append(section)
        report = verify(partial / "workspace" / "ledger")
        warnings = tuple(f.message for f in report.findings) + tuple(
            f"symlink_skipped:{name}" for name in out.skipped_links
        )
        created = _now()
        manifest = {
            "format": BACKUP_FORMAT,
            "backup_ref": plan.backup_ref,
            "created_at": created,
            "workspace_root": str(plan.workspace_root),
            "profile_name": config.profile_name,
            "included_sections": copied,
            "notes": list(plan.notes),
            "head": {
                "seq": head.seq,
                "segment": head.segment,
                "offset": head.offset,
                "chain": head.chain,
                "tx_time": head.tx_time,
            },
            "files": out.files,
        }
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    status = "SUCCESS" if report.ok and report.last_seq == head.seq else "DEGRADED"
    return BackupResult(
        status=status,
        warnings=warnings,
        notes=plan.notes,
        backup_ref=plan.backup_ref,
        created_at=created,
        location=final,
        included_sections=tuple(copied),
        bytes_written=out.bytes + (final / "manifest.json").stat().st_size,
        details={
            "last_seq": head.seq,
            "chain": head.chain,
            "file_count": len(out.files),
            "events": report.events,
        },
        verification_notes=(
            f"ledger_verified:seq={report.last_seq}",
            f"files_hashed:{len(out.files)}",
            "manifest_written",
        ),
    )


def archive_path(output: str | Path) -> Path:
    """Where ``backup create --output P`` writes: ``P.zip`` (``P`` itself when it already ends
    in ``.zip``), resolved."""
    path = Path(output).expanduser()
    if path.name.lower().endswith(".zip"):
        path = path.with_name(path.name[:-4])
    return path.resolve().with_name(path.resolve().name + ".zip")


def create_backup_archive(config: Any, plan: BackupPlan, output: str | Path) -> BackupResult:
    """The backup of ``plan`` as one zip archive at :func:`archive_path` of ``output``:
    ``manifest.json`` and ``workspace/...`` at the archive's root, the same members a backup
    directory holds. Written next to its destination and renamed into place when complete; an
    existing file there is refused, never replaced."""
    archive = archive_path(output)
    stem = archive.with_name(archive.name[:-4])
    _refuse_inside(stem, _owned(config, plan, _sources(config), stem))
    if os.path.lexists(archive):
        raise BackupError(
            f"Backup archive {archive} already exists; choose another --output.",
            code="recovery_backup_exists",
            details={"location": str(archive)},
        )
    scratch = archive.with_name(f".{archive.name}.{os.getpid()}.partial")
    written = archive.with_name(f".{archive.name}.{os.getpid()}.zip.partial")
    try:
        result = create_workspace_backup(config, replace(plan, backup_root=scratch))
        assert result.location is not None
        _zip_directory(Path(result.location), written)
        os.replace(written, archive)
    except OSError as exc:
        raise from_os_error(exc, "writing the backup archive", archive) from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        with contextlib.suppress(OSError):
            written.unlink()
    return replace(
        result,
        location=archive,
        bytes_written=archive.stat().st_size,
        details={**(result.details or {}), "archive": True},
        verification_notes=(*result.verification_notes, "archive_written"),
    )


def _zip_directory(root: Path, target: Path) -> None:
    """Every file under ``root`` (a backup this process just wrote: no links) as a member
    named by its posix path relative to ``root``; fsynced."""
    with zipfile.ZipFile(target, "x", compression=zipfile.ZIP_DEFLATED) as archive:
        for top, dirs, names in os.walk(root):
            dirs.sort()
            for name in sorted(names):
                path = Path(top) / name
                archive.write(path, path.relative_to(root).as_posix())
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())
