"""Verifying and restoring backups written by :func:`create_workspace_backup`.

``restore_workspace`` always verifies first: the manifest's shape, that the backup holds exactly
the files it lists (no unlisted file, no symbolic link), every file against its size and
sha256, and the ledger's CRCs and hash chain up to the manifest's head. A verify-only plan stops
there (status ``FAILURE`` with the problems listed if anything is off) and changes nothing;
otherwise a damaged backup is refused.

Applying is crash-safe. The target must be a workspace (it has a ``ledger/`` directory), an
empty directory or a new path; anything else is refused, never deleted. After a safety backup
of the target (``recovery.create_backup_before_restore``), the listed files, and only those, are
copied into ``<target>/.contexta-restore-<token>/new`` (the same file system as the target),
hashed while copied, fsynced, and the copied ledger is verified again. A journal then marks the
copy complete, and the copy is swapped in by renames: projections moved aside (the next open
rebuilds them), the artifact bodies (first made a superset of the old and new ones, so either
ledger finds its bodies), then the ledger, each by one atomic exchange of two directory entries
where the OS has one (Linux ``renameat2``). Bodies only the old workspace had are then pruned,
cache/exports merged, the journal removed and the old copy deleted. A crash at any point leaves
either the old workspace or the new one whole; the next restore, or the next open of the
workspace, finds the ``.contexta-restore-*`` directory and rolls it back (no journal: the copy
was incomplete, nothing was swapped) or completes it (journal present).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import secrets
import shutil
import stat
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ledger import verify

from .backup import commit_live_writers, create_workspace_backup, hash_file, plan_workspace_backup
from .errors import RestoreError
from .listing import (
    MANIFEST_NAME,
    Entry,
    Manifest,
    check_entries,
    parse_manifest,
    scan_directory,
    zip_entries,
)
from .models import RestorePlan, RestoreResult

__all__ = ["plan_restore", "recover_interrupted_restores", "restore_workspace", "verify_backup"]

WORK_PREFIX = ".contexta-restore-"
JOURNAL_NAME = "JOURNAL"
JOURNAL_FORMAT = "contexta-restore-journal-v1"
_LOCK_NAME = ".contexta-restore.lock"
_SWAPPED = ("artifacts", "ledger")  # in this order: bodies first, so either ledger finds its own
_MERGED = ("cache", "exports")
_CHUNK = 1 << 20


# ---------------------------------------------------------------------------- planning


def _not_found(text: str, backups: Path) -> RestoreError:
    return RestoreError(
        f"No backup {text!r} under {backups} (nor a backup directory at that path).",
        code="recovery_backup_not_found",
        details={"backup_ref": text, "backup_root": str(backups)},
    )


def _resolve(config: Any, backup_ref: str | Path) -> tuple[str, Path]:
    """A backup name inside ``recovery.backup_root`` (a directory, or ``<name>.zip``; a name
    that leads outside the root is refused), or the path of a backup directory (one holding
    ``manifest.json``) or of a backup archive (``backup create --output``'s ``.zip``)."""
    text = str(backup_ref).strip()
    if not text or "\x00" in text:
        raise RestoreError(
            f"Backup ref {text!r} is empty or holds a NUL character.",
            code="recovery_backup_ref_invalid",
            details={"backup_ref": text},
        )
    backups = Path(config.recovery.backup_root).expanduser().resolve()
    plain = "/" not in text and "\\" not in text and text not in (".", "..")
    named = (backups / text).resolve()
    if plain and named.parent == backups and named.is_dir():
        return text, named
    if plain and named.parent == backups:
        archive = named if named.name.endswith(".zip") else named.with_name(named.name + ".zip")
        if archive.is_file():
            return archive.name.removesuffix(".zip"), archive
    candidate = Path(text).expanduser()
    if (candidate / MANIFEST_NAME).is_file():
        root = candidate.resolve()
        return root.name, root
    if candidate.is_file() and zipfile.is_zipfile(candidate):
        archive = candidate.resolve()
        return archive.name.removesuffix(".zip"), archive
    if not candidate.is_absolute() and not (named == backups or named.parent == backups):
        raise RestoreError(
            f"Backup ref {text!r} leads outside the backup root {backups}; name a "
            "backup in it, or give the path of a backup directory.",
            code="recovery_backup_ref_escape",
            details={"backup_ref": text, "backup_root": str(backups)},
        )
    raise _not_found(text, backups)


def plan_restore(
    config: Any,
    backup_ref: str,
    *,
    target_workspace: str | Path | None = None,
    verify_only: bool = False,
) -> RestorePlan:
    """Plan a restore of ``backup_ref`` (a name under ``recovery.backup_root`` or a backup
    directory) into ``target_workspace`` (default: this config's workspace). The staging
    directory is inside the target, on its file system."""
    ref, source = _resolve(config, backup_ref)
    target = Path(target_workspace or config.workspace.root_path).expanduser().resolve()
    return RestorePlan(
        backup_ref=ref,
        source_root=source,
        target_workspace=target,
        staging_root=target / f"{WORK_PREFIX}{secrets.token_hex(6)}",
        create_safety_backup=bool(config.recovery.create_backup_before_restore),
        verify_only=verify_only,
        notes=("verify_only" if verify_only else "apply_restore",),
    )


# ---------------------------------------------------------------------------- verification


class _Directory:
    """A backup directory as a set of members."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def manifest_bytes(self) -> bytes | None:
        path = self.root / MANIFEST_NAME
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None

    def entries(self) -> tuple[list[Entry], list[str]]:
        return list(scan_directory(self.root)), []

    def digest(self, name: str, fact: Any) -> tuple[int, str]:
        return hash_file(self.root / name)

    def copy(self, name: str, target: Path, fact: Any) -> None:
        _copy_listed(self.root / name, target, fact)

    @contextlib.contextmanager
    def ledger(self, manifest: Manifest, config: Any) -> Iterator[Path]:
        yield self.root / "workspace" / "ledger"

    def close(self) -> None:
        pass


class _Archive:
    """A backup archive (zip) as a set of members, read without extracting anything but the
    listed files, each into a directory this code made."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise RestoreError(
                f"Backup archive {path} cannot be read: {exc}",
                code="recovery_archive_invalid",
                details={"source_root": str(path)},
            ) from exc
        self.members = {info.filename: info for info in self.zip.infolist()}

    def manifest_bytes(self) -> bytes | None:
        info = self.members.get(MANIFEST_NAME)
        if info is None or info.file_size > _MANIFEST_LIMIT:
            return None
        return self._read(info, _MANIFEST_LIMIT)

    def entries(self) -> tuple[list[Entry], list[str]]:
        return zip_entries(self.zip)

    def _read(self, info: zipfile.ZipInfo, limit: int) -> bytes:
        try:
            with self.zip.open(info) as member:
                return member.read(limit + 1)
        except (zipfile.BadZipFile, RuntimeError, OSError, ValueError, EOFError) as exc:
            raise RestoreError(
                f"Member {info.filename!r} of {self.path} cannot be read: {exc}",
                code="recovery_archive_invalid",
                details={"member": info.filename},
            ) from exc

    def _stream(self, name: str, fact: Any, sink: Any) -> tuple[int, str]:
        """Read a member, at most one byte past its listed size, into ``sink``."""
        sha, size = hashlib.sha256(), 0
        try:
            with self.zip.open(self.members[name]) as member:
                while size <= fact.size and (
                    block := member.read(min(_CHUNK, fact.size + 1 - size))
                ):
                    size += len(block)
                    sha.update(block)
                    sink(block)
        except (zipfile.BadZipFile, RuntimeError, OSError, ValueError, EOFError):
            return -1, ""
        return size, sha.hexdigest()

    def digest(self, name: str, fact: Any) -> tuple[int, str]:
        return self._stream(name, fact, lambda block: None)

    def copy(self, name: str, target: Path, fact: Any) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as dst:
            got = self._stream(name, fact, dst.write)
            dst.flush()
            os.fsync(dst.fileno())
        if got != (fact.size, fact.sha256):
            raise RestoreError(
                f"{name} in {self.path} changed after the backup was verified; "
                "nothing was restored.",
                code="recovery_backup_changed",
                details={"file": name},
            )

    @contextlib.contextmanager
    def ledger(self, manifest: Manifest, config: Any) -> Iterator[Path]:
        """The listed ledger files copied (and checked again) into a private directory."""
        prefix = "workspace/ledger/"
        with tempfile.TemporaryDirectory(prefix=".contexta-verify-", dir=_scratch(config)) as temp:
            root = Path(temp) / "ledger"
            root.mkdir()
            for name, fact in sorted(manifest.files.items()):
                if name.startswith(prefix):
                    self.copy(name, root.joinpath(*name[len(prefix) :].split("/")), fact)
            yield root

    def close(self) -> None:
        self.zip.close()


_MANIFEST_LIMIT = 256 << 20


def _open(source: Path) -> _Directory | _Archive:
    return _Directory(source) if source.is_dir() else _Archive(source)


def _scratch(config: Any) -> Path:
    """Where private copies made for verification go: the workspace's restore staging
    directory when the workspace exists (never creating one), else the system's temporary
    directory."""
    base = Path(config.recovery.restore_staging_root) if config is not None else None
    if base is not None and (Path(config.workspace.root_path) / "ledger").is_dir():
        with contextlib.suppress(OSError):
            base.mkdir(parents=True, exist_ok=True)
            return base
    return Path(tempfile.gettempdir())


def _manifest(source: Path, reader: _Directory | _Archive) -> Manifest:
    body = reader.manifest_bytes()
    if body is None:
        raise RestoreError(
            f"Backup manifest {source / MANIFEST_NAME} is missing.",
            code="recovery_manifest_missing",
            details={"source_root": str(source)},
        )
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise RestoreError(
            f"Backup manifest {source / MANIFEST_NAME} is not JSON: {exc}",
            code="recovery_manifest_invalid",
            details={"field": "<root>", "source_root": str(source)},
        ) from exc
    return parse_manifest(data)


def _check(
    source: Path, reader: _Directory | _Archive, config: Any = None
) -> tuple[Manifest, list[str], list[str], dict[str, Any]]:
    manifest = _manifest(source, reader)
    entries, problems = reader.entries()
    problems += check_entries(
        manifest, entries, lambda name: reader.digest(name, manifest.files[name])
    )
    facts: dict[str, Any] = {"manifest_seq": manifest.head_seq}
    if problems and isinstance(reader, _Archive):  # nothing more is read from such an archive
        return manifest, problems, [f"files_verified:{len(manifest.files)}"], facts
    with reader.ledger(manifest, config) as ledger_root:
        if ledger_root.is_dir() and not ledger_root.is_symlink():
            report = verify(ledger_root)
            facts.update(last_seq=report.last_seq, events=report.events, chain=report.chain)
            problems += [
                f"ledger:{f.code}:{f.message}" for f in report.findings if f.severity == "error"
            ]
            if report.last_seq != manifest.head_seq or report.chain != manifest.head_chain:
                problems.append(
                    f"ledger_head_mismatch:seq={report.last_seq},manifest_seq={manifest.head_seq}"
                )
    notes = [
        f"files_verified:{len(manifest.files)}",
        f"ledger_chain_verified:seq={facts.get('last_seq', 0)}",
    ]
    return manifest, problems, notes, facts


def verify_backup(source: Path) -> tuple[list[str], list[str], dict[str, Any]]:
    """Check a backup directory or archive: (problems, notes, ledger facts)."""
    reader = _open(Path(source))
    try:
        _, problems, notes, facts = _check(Path(source), reader)
    finally:
        reader.close()
    return problems, notes, facts


def _counts(workspace: Path) -> dict[str, Any]:
    from ..store.artifacts import ArtifactStore, VaultConfig
    from ..workspace import Workspace

    ws = Workspace(workspace)
    try:
        runs = ws.latest("runs").num_rows
        records = ws.table("records").num_rows
        summary = ArtifactStore(
            VaultConfig(root_path=workspace / "artifacts"), workspace=ws
        ).inspect_store()
    finally:
        ws.close()
    return {
        "metadata": {"run_count": runs},
        "records": {"record_count": records, "integrity_state": "OK"},
        "artifacts": {
            "artifact_count": summary.artifact_count,
            "verified_count": summary.verified_count,
            "missing_count": summary.missing_count,
            "drift_count": summary.drift_count,
            "orphan_count": summary.orphan_count,
        },
    }


# ---------------------------------------------------------------------------- file helpers


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(path: Path) -> None:
    """Delete ``path`` without following a symbolic link anywhere in it."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path)


def _copy_listed(source: Path, target: Path, fact: Any) -> None:
    """Copy one listed file (never through a symlink), hashing it as it is read; fsynced."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        src = os.open(source, flags)
    except OSError as exc:
        raise RestoreError(
            f"Cannot read {source} from the backup: {exc}",
            code="recovery_backup_changed",
            details={"file": str(source)},
        ) from exc
    sha, size = hashlib.sha256(), 0
    try:
        if not stat.S_ISREG(os.fstat(src).st_mode):
            raise RestoreError(
                f"{source} in the backup is not a regular file.",
                code="recovery_backup_changed",
                details={"file": str(source)},
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as dst:
            while block := os.read(src, _CHUNK):
                dst.write(block)
                sha.update(block)
                size += len(block)
            dst.flush()
            os.fsync(dst.fileno())
    finally:
        os.close(src)
    if (size, sha.hexdigest()) != (fact.size, fact.sha256):
        raise RestoreError(
            f"{source} changed after the backup was verified; nothing was restored.",
            code="recovery_backup_changed",
            details={"file": str(source)},
        )


def _stage(reader: _Directory | _Archive, manifest: Manifest, new: Path) -> None:
    """Copy the listed ledger, artifacts, cache and exports files (only those) to ``new``."""
    new.mkdir(parents=True)
    for name, fact in sorted(manifest.files.items()):
        parts = name.split("/")
        if parts[1] == "config":
            continue
        reader.copy(name, new.joinpath(*parts[1:]), fact)
    for top, dirs, _ in os.walk(new):
        for name in dirs:
            _fsync_dir(Path(top) / name)
    _fsync_dir(new)


# ---------------------------------------------------------------------------- swapping


def _renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return func


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def exchange(a: Path, b: Path) -> bool:
    """Swap two directory entries in one atomic step; False where the OS or file system
    cannot (the caller then falls back to three renames, which the journal can finish)."""
    func = _renameat2()
    if func is None:
        return False
    if func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95, 1):  # EINVAL, ENOSYS, EOPNOTSUPP, EPERM: not supported here
        return False
    raise OSError(err, os.strerror(err), str(a))


def _union(current: Path, staged: Path) -> None:
    """Add to ``staged`` every file of ``current`` it lacks (hard links; copies where the file
    system has none), so the swapped-in artifacts serve the old ledger too."""
    touched: set[Path] = set()
    for top, _, names in os.walk(current, followlinks=False):
        for name in names:
            path = Path(top) / name
            dest = staged / path.relative_to(current)
            if os.path.lexists(dest):
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink():
                os.symlink(os.readlink(path), dest)
            else:
                try:
                    os.link(path, dest)
                except OSError:
                    temp = dest.with_name(f".{name}.{secrets.token_hex(4)}.tmp")
                    shutil.copyfile(path, temp, follow_symlinks=False)
                    os.replace(temp, dest)
            touched.add(dest.parent)
    for directory in touched:
        _fsync_dir(directory)


def _install(target: Path, work: Path, name: str, inode: int) -> None:
    """Make ``target/name`` the staged ``work/new/name``; idempotent (a crash anywhere in it is
    finished by running it again). The old entry ends up at ``work/new/name``."""
    dest, staged, park = target / name, work / "new" / name, work / f"park-{name}"
    if inode < 0:  # the backup had no such section: keep the target's
        return
    if os.path.lexists(park):  # the three-rename fallback was interrupted
        if not os.path.lexists(dest):
            os.rename(staged, dest)
        os.rename(park, staged)
    elif not os.path.lexists(dest):
        if os.path.lexists(staged):
            os.rename(staged, dest)
    elif os.lstat(dest).st_ino != inode:
        if name == "artifacts":
            _union(dest, staged)
        if not exchange(dest, staged):
            os.rename(dest, park)
            _fsync_dir(work)
            os.rename(staged, dest)
            _fsync_dir(target)
            os.rename(park, staged)
    _fsync_dir(target)
    _fsync_dir(work / "new")


def _prune(objects: Path, keep: set[str]) -> None:
    """Remove the bodies only the old workspace had (their other link goes with the old copy)."""
    if not objects.is_dir() or objects.is_symlink():
        return
    for top, _, names in os.walk(objects, followlinks=False):
        for name in names:
            path = Path(top) / name
            if path.relative_to(objects).as_posix() not in keep:
                path.unlink()


def _no_linked_parent(root: Path, path: Path) -> bool:
    """No directory between ``root`` and ``path`` is a symbolic link (the last component may
    be one: it is replaced, not written through)."""
    current = root
    for part in path.relative_to(root).parts[:-1]:
        current = current / part
        if current.is_symlink():
            return False
    return True


def _merge(staged: Path, dest: Path) -> None:
    """Copy the backup's cache/exports files over the target's (each by temp file + rename,
    never writing through a symbolic link of the target)."""
    if not staged.is_dir():
        return
    if dest.is_symlink():
        return
    for top, _, names in os.walk(staged, followlinks=False):
        for name in names:
            path = Path(top) / name
            out = dest / path.relative_to(staged)
            if not _no_linked_parent(dest, out):
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            temp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
            shutil.copyfile(path, temp, follow_symlinks=False)
            os.replace(temp, out)


def _complete(target: Path, work: Path, journal: dict[str, Any]) -> None:
    """Swap the staged copy in; idempotent, so a crash is finished by calling it again."""
    old = work / "old"
    old.mkdir(exist_ok=True)
    projections = target / "projections"
    if os.path.lexists(projections):
        if os.path.lexists(old / "projections"):
            _remove(projections)
        else:
            os.rename(projections, old / "projections")
    inodes = journal["inodes"]
    for name in _SWAPPED:
        _install(target, work, name, int(inodes.get(name, -1)))
    _prune(target / "artifacts" / "objects", set(journal["objects"]))
    for name in journal["merged"]:
        _merge(work / "new" / name, target / name)
    (work / JOURNAL_NAME).unlink(missing_ok=True)
    _fsync_dir(work)
    _remove(work)
    _fsync_dir(target)


# ---------------------------------------------------------------------------- journal and lock


def _write_journal(work: Path, journal: dict[str, Any]) -> None:
    temp = work / f"{JOURNAL_NAME}.tmp"
    with open(temp, "wb") as handle:
        handle.write(json.dumps(journal, sort_keys=True).encode())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, work / JOURNAL_NAME)
    _fsync_dir(work)


def _read_journal(work: Path) -> dict[str, Any] | None:
    path = work / JOURNAL_NAME
    if not path.is_file():
        return None
    try:
        journal = json.loads(path.read_bytes())
        if (
            journal.get("format") != JOURNAL_FORMAT
            or not isinstance(journal["inodes"], dict)
            or not isinstance(journal["objects"], list)
            or not isinstance(journal["merged"], list)
        ):
            raise ValueError("unexpected shape")
    except (ValueError, KeyError, AttributeError) as exc:
        raise RestoreError(
            f"The restore journal {path} is unreadable ({exc}); the restore it "
            "describes was not finished. Move that directory away by hand after "
            "checking which ledger is in place.",
            code="recovery_journal_invalid",
            details={"journal": str(path)},
        ) from exc
    return journal


@contextlib.contextmanager
def _locked(target: Path, *, wait: bool) -> Iterator[bool]:
    """Hold the target's restore lock; yields False (without it) when another process has it
    and ``wait`` is False."""
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform
        yield True
        return
    fd = os.open(target / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _leftovers(target: Path) -> list[Path]:
    with contextlib.suppress(OSError):
        return sorted(
            p
            for p in target.iterdir()
            if p.name.startswith(WORK_PREFIX) and p.is_dir() and not p.is_symlink()
        )
    return []


def _recover(target: Path) -> list[str]:
    done = []
    for work in _leftovers(target):
        journal = _read_journal(work)
        if journal is None:
            _remove(work)
            done.append(f"rolled_back:{work.name}")
        else:
            _complete(target, work, journal)
            done.append(f"completed:{work.name}")
    return done


def recover_interrupted_restores(target: str | Path) -> list[str]:
    """Finish or roll back a restore into ``target`` that a crash interrupted: a staging
    directory without a journal is deleted (nothing had been swapped), one with a journal is
    completed. Returns what was done (``rolled_back:<dir>`` / ``completed:<dir>``); does nothing
    while another process holds the target's restore lock."""
    root = Path(target)
    if not _leftovers(root):
        return []
    with _locked(root, wait=False) as held:
        return _recover(root) if held else []


# ---------------------------------------------------------------------------- applying


def _refuse(message: str, code: str, **details: Any) -> RestoreError:
    return RestoreError(message, code=code, details={k: str(v) for k, v in details.items()})


def _check_target(target: Path, source: Path) -> None:
    """Refuse a target that is not a workspace (nor empty), and a backup the swap would move."""
    if os.path.lexists(target) and not target.is_dir():
        raise _refuse(
            f"Restore target {target} is not a directory.",
            "recovery_target_not_directory",
            target_workspace=target,
        )
    if target.is_dir():
        ledger = target / "ledger"
        if os.path.lexists(ledger) and not ledger.is_dir():
            raise _refuse(
                f"Restore target {target} is not a workspace: its 'ledger' is not a "
                "directory. Nothing was changed.",
                "recovery_target_not_workspace",
                target_workspace=target,
            )
        others = sorted(
            p.name
            for p in target.iterdir()
            if not p.name.startswith(WORK_PREFIX) and p.name != _LOCK_NAME
        )
        if not ledger.is_dir() and others:
            raise _refuse(
                f"Restore target {target} is not a workspace (no ledger/) and not empty "
                f"(it holds {', '.join(others[:5])}); nothing was changed. Restore into "
                "a workspace, an empty directory or a new path.",
                "recovery_target_not_workspace",
                target_workspace=target,
                entries=others[:20],
            )
    src, tgt = source.resolve(), target.resolve()
    moved = [tgt / name for name in (*_SWAPPED, "projections")]
    if (
        src == tgt
        or tgt.is_relative_to(src)
        or any(src.is_relative_to(m) for m in moved)
        or src.name.startswith(WORK_PREFIX)
    ):
        raise _refuse(
            f"Backup {src} lies inside what restoring into {tgt} replaces (or holds "
            "the target); move the backup elsewhere first.",
            "recovery_backup_inside_target",
            source_root=src,
            target_workspace=tgt,
        )


def _check_staged_ledger(ledger_root: Path, manifest: Manifest) -> None:
    report = verify(ledger_root)
    errors = [f for f in report.findings if f.severity == "error"]
    if errors or report.last_seq != manifest.head_seq or report.chain != manifest.head_chain:
        raise RestoreError(
            f"The staged copy of the ledger does not verify (seq "
            f"{report.last_seq}, {len(errors)} error(s)); nothing was restored.",
            code="recovery_staging_corrupt",
            details={"ledger": str(ledger_root)},
        )


def _safety_backup(config: Any, target: Path) -> str | None:
    from ..config import load_config

    if not (target / "ledger").is_dir():
        return None
    same = Path(config.workspace.root_path).expanduser().resolve() == target
    target_config = config if same else load_config(workspace=target)
    safety = replace(
        plan_workspace_backup(target_config, label="pre-restore-safety"),
        backup_root=Path(config.recovery.backup_root),
    )
    return create_workspace_backup(target_config, safety).backup_ref


def _journal_for(manifest: Manifest, new: Path) -> dict[str, Any]:
    prefix = "workspace/artifacts/objects/"
    return {
        "format": JOURNAL_FORMAT,
        "backup_ref": manifest.backup_ref,
        "inodes": {
            name: os.lstat(new / name).st_ino for name in _SWAPPED if os.path.lexists(new / name)
        },
        "objects": sorted(n[len(prefix) :] for n in manifest.files if n.startswith(prefix)),
        "merged": [name for name in _MERGED if (new / name).is_dir()],
    }


def _live_on(ledger_root: Path) -> bool:
    from ledger import open_writers

    return bool(open_writers(ledger_root))


def _apply(
    config: Any, plan: RestorePlan, manifest: Manifest, reader: _Directory | _Archive
) -> tuple[str | None, dict[str, Any]]:
    target = plan.target_workspace
    if target.is_dir() and _leftovers(target):  # a crash cut an earlier restore short
        with _locked(target, wait=False) as held:
            if not held:
                raise _refuse(
                    f"Another restore into {target} is running.",
                    "recovery_restore_in_progress",
                    target_workspace=target,
                )
            _recover(target)
    _check_target(target, plan.source_root)
    target.mkdir(parents=True, exist_ok=True)
    with _locked(target, wait=False) as held:
        if not held:
            raise _refuse(
                f"Another restore into {target} is running.",
                "recovery_restore_in_progress",
                target_workspace=target,
            )
        _recover(target)
        commit_live_writers(target / "ledger")
        if _live_on(target / "ledger"):
            raise _refuse(
                f"A Contexta in this process still has {target} open; close it before "
                "restoring into it.",
                "recovery_target_in_use",
                target_workspace=target,
            )
        safety_ref = _safety_backup(config, target) if plan.create_safety_backup else None
        work = plan.staging_root
        if work.parent != target or not work.name.startswith(WORK_PREFIX):
            work = target / f"{WORK_PREFIX}{secrets.token_hex(6)}"
        try:
            _stage(reader, manifest, work / "new")
            _check_staged_ledger(work / "new" / "ledger", manifest)
            planes = _counts(work / "new")
            _remove(work / "new" / "projections")
            journal = _journal_for(manifest, work / "new")
            _write_journal(work, journal)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                _remove(work)
            if isinstance(exc, OSError):
                raise _refuse(
                    f"Could not stage the backup in {work}: {exc}; the target was not changed.",
                    "recovery_staging_failed",
                    target_workspace=target,
                    error=exc,
                ) from exc
            raise
        try:
            _complete(target, work, journal)
        except OSError as exc:
            raise _refuse(
                f"Restoring into {target} stopped: {exc}. Nothing was lost: the next "
                f"open or restore of the workspace finishes the swap from {work.name}.",
                "recovery_apply_failed",
                target_workspace=target,
                error=exc,
            ) from exc
    return safety_ref, planes


def _verify_copy(config: Any, reader: _Directory | _Archive, manifest: Manifest) -> dict[str, Any]:
    """Counts of the backup, read from a private copy (opening a workspace writes to it)."""
    with tempfile.TemporaryDirectory(prefix=".contexta-verify-", dir=_scratch(config)) as temp:
        _stage(reader, manifest, Path(temp) / "new")
        return _counts(Path(temp) / "new")


def restore_workspace(config: Any, plan: RestorePlan) -> RestoreResult:
    """Verify the backup, then (unless verify-only) restore it into the plan's target."""
    reader = _open(plan.source_root)
    try:
        return _restore(config, plan, reader)
    finally:
        reader.close()


def _restore(config: Any, plan: RestorePlan, reader: _Directory | _Archive) -> RestoreResult:
    manifest, problems, notes, facts = _check(plan.source_root, reader, config)
    if problems:
        if plan.verify_only:
            return RestoreResult(
                status="FAILURE",
                warnings=tuple(problems),
                notes=plan.notes,
                details=facts,
                backup_ref=plan.backup_ref,
                target_workspace=plan.target_workspace,
                applied=False,
                verification_notes=tuple(notes),
            )
        raise RestoreError(
            f"Backup {plan.backup_ref!r} failed verification ({len(problems)} "
            f"problem(s), first: {problems[0]}); nothing was restored.",
            code="recovery_backup_corrupt",
            details={"backup_ref": plan.backup_ref, "problems": problems[:20]},
        )
    safety_ref = None
    if plan.verify_only:
        planes = _verify_copy(config, reader, manifest)
    else:
        safety_ref, planes = _apply(config, plan, manifest, reader)
    planes["ledger"] = facts
    notes.append(f"manifest:{manifest.backup_ref or plan.backup_ref}")
    if not plan.verify_only:
        notes.append("projections_dropped:rebuilt_on_open")
    return RestoreResult(
        status="SUCCESS",
        notes=plan.notes,
        details=facts,
        backup_ref=plan.backup_ref,
        target_workspace=plan.target_workspace,
        applied=not plan.verify_only,
        plane_results=planes,
        safety_backup_ref=safety_ref,
        verification_notes=tuple(notes),
    )
