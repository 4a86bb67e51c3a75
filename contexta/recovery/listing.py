"""What a backup must hold: its manifest's shape, and exactly the files it lists.

The checks take *entries* (a name and a kind per member) rather than a directory, so a backup
read from a directory (:func:`scan_directory`) and one read from an archive can be checked by
the same code: every listed name is a safe relative path under ``workspace/``, present as a
regular file of the listed size and sha256; nothing else is present but directories and
``manifest.json``; nothing is a symbolic link.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RestoreError

__all__ = [
    "BACKUP_FORMAT",
    "MANIFEST_NAME",
    "SECTIONS",
    "Entry",
    "FileFact",
    "Manifest",
    "check_entries",
    "parse_manifest",
    "safe_name",
    "scan_directory",
    "zip_entries",
]

BACKUP_FORMAT = "contexta-ledger-backup-v1"
SECTIONS = ("config", "ledger", "artifacts", "cache", "exports")
MANIFEST_NAME = "manifest.json"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Entry:
    """One member of a backup: its posix name relative to the backup root and its kind
    (``file``, ``dir``, ``symlink`` or ``other``)."""

    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class FileFact:
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """A backup manifest whose shape was checked."""

    backup_ref: str
    files: Mapping[str, FileFact]
    head_seq: int
    head_chain: str
    raw: Mapping[str, Any]


def _invalid(field: str, value: Any, why: str) -> RestoreError:
    shown = repr(value)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return RestoreError(
        f"Backup manifest field {field!r} {why} (got {shown}).",
        code="recovery_manifest_invalid",
        details={"field": field, "value": shown},
    )


def safe_name(name: Any) -> bool:
    """A listed name: posix, relative, no ``..``/``.``/empty part, no backslash or NUL, and
    under ``workspace/<section>/``."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return False
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return False
    return len(parts) >= 3 and parts[0] == "workspace" and parts[1] in SECTIONS


def _int(data: Mapping[str, Any], key: str, field: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _invalid(field, value, "must be a non-negative integer")
    return value


def parse_manifest(data: Any) -> Manifest:
    """Check the manifest's shape; a typed ``recovery_manifest_invalid`` error names the
    first field that is wrong."""
    if not isinstance(data, dict):
        raise _invalid("<root>", type(data).__name__, "must be a JSON object")
    if data.get("format") != BACKUP_FORMAT:
        raise _invalid("format", data.get("format"), f"must be {BACKUP_FORMAT!r}")
    ref = data.get("backup_ref", "")
    if not isinstance(ref, str):
        raise _invalid("backup_ref", ref, "must be a string")
    listed = data.get("files")
    if not isinstance(listed, dict):
        raise _invalid("files", listed, "must be an object of name -> {size, sha256}")
    files: dict[str, FileFact] = {}
    for name, fact in listed.items():
        if not safe_name(name):
            raise _invalid(
                "files", name, "lists a name that is not a relative path under workspace/<section>/"
            )
        if not isinstance(fact, dict):
            raise _invalid(f"files[{name}]", fact, "must be an object with size and sha256")
        digest = fact.get("sha256")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise _invalid(f"files[{name}].sha256", digest, "must be 64 lower-case hex digits")
        files[name] = FileFact(_int(fact, "size", f"files[{name}].size"), digest)
    head = data.get("head")
    if not isinstance(head, dict):
        raise _invalid("head", head, "must be an object with seq and chain")
    chain = head.get("chain")
    if not isinstance(chain, str):
        raise _invalid("head.chain", chain, "must be a string")
    return Manifest(ref, files, _int(head, "seq", "head.seq"), chain, data)


def scan_directory(root: Path) -> Iterator[Entry]:
    """The members of a backup directory, never following a symbolic link."""
    for top, dirs, names in os.walk(root, followlinks=False):
        base = Path(top)
        for name in sorted(dirs) + sorted(names):
            path = base / name
            rel = path.relative_to(root).as_posix()
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                kind = "symlink"
            elif stat.S_ISDIR(mode):
                kind = "dir"
            elif stat.S_ISREG(mode):
                kind = "file"
            else:
                kind = "other"
            yield Entry(rel, kind)


def check_entries(
    manifest: Manifest, entries: Iterable[Entry], digest: Callable[[str], tuple[int, str]]
) -> list[str]:
    """Problems of a backup whose members are ``entries``: ``missing:``, ``not_a_file:``,
    ``symlink:``, ``unlisted:`` and ``hash_mismatch:`` followed by the name. ``digest(name)``
    returns the size and sha256 of a regular-file member."""
    problems: list[str] = []
    kinds: dict[str, str] = {}
    for entry in entries:
        kinds[entry.name] = entry.kind
        if entry.kind == "symlink":
            problems.append(f"symlink:{entry.name}")
        elif entry.kind == "other":
            problems.append(f"not_a_file:{entry.name}")
        elif (
            entry.kind == "file"
            and entry.name != MANIFEST_NAME
            and entry.name not in manifest.files
        ):
            problems.append(f"unlisted:{entry.name}")
    for name, fact in sorted(manifest.files.items()):
        kind = kinds.get(name)
        if kind is None:
            problems.append(f"missing:{name}")
        elif kind == "file":
            if digest(name) != (fact.size, fact.sha256):
                problems.append(f"hash_mismatch:{name}")
        elif kind == "dir":
            problems.append(f"not_a_file:{name}")
    return problems


def zip_entries(archive: zipfile.ZipFile) -> tuple[list[Entry], list[str]]:
    """The members of a backup archive as entries, and the problems of the names themselves:
    ``unsafe_name:`` (absolute, ``..``, ``.``, empty part, backslash, NUL: a name that would
    land outside the restore directory) and ``duplicate:`` (two members under one name: what
    is verified need not be what is extracted). A member whose mode says symbolic link is a
    ``symlink`` entry; one of any other non-regular type is ``other``."""
    entries: list[Entry] = []
    problems: list[str] = []
    seen: set[str] = set()
    for info in archive.infolist():
        raw = info.filename
        is_dir = raw.endswith("/")
        name = raw[:-1] if is_dir else raw
        if not _relative(name):
            problems.append(f"unsafe_name:{raw!r}")
            continue
        if name in seen:
            problems.append(f"duplicate:{name}")
            continue
        seen.add(name)
        mode = info.external_attr >> 16
        kind = "dir" if is_dir else "file"
        if stat.S_ISLNK(mode):
            kind = "symlink"
        elif mode and stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            kind = "other"
        entries.append(Entry(name, kind))
    return entries, problems


def _relative(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return False
    if re.match(r"^[A-Za-z]:", name):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))
