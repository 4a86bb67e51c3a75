"""``ctx.artifact_store``: artifact bodies on disk, their manifests in the workspace ledger.

Bodies are content-addressed: ``<artifacts>/objects/<sha256[:2]>/<sha256[2:]>`` (identical
bodies are stored once). Each ``put_artifact`` writes the manifest as ONE ``artifact.put``
ledger event; the binding facts (hash, size, ingest mode, source name, object path) travel in
the manifest's ``extensions`` under the namespace ``contexta.artifact-binding``, so the ledger
alone says what is bound where, ``get_run_snapshot(...).artifacts`` sees every put, and
``contexta projections rebuild`` reproduces the store's index. There is no side database.

A store opened standalone (``ArtifactStore(VaultConfig(root_path=...))``) uses the workspace
its root belongs to: the parent directory when the root is named ``artifacts`` or the parent
holds a ``ledger/`` directory (1.0's layout ``<workspace>/artifacts``), else the root itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

import msgspec
import pyarrow.compute as pc

from ..common.errors import (
    ConflictError,
    ContextaError,
    IntegrityError,
    NotFoundError,
    ReadOnlyStoreError,
    ValidationError,
)
from ..contract import ArtifactManifest, ExtensionFieldSet, deserialize_artifact_manifest
from ..contract.timestamps import normalize_timestamp
from ..events import ARTIFACT_PUT, entity_event
from ..workspace import Workspace
from .artifact_status import VerificationStatus
from .maintenance import plan_retention, put_artifact_from_stream, verify_all

__all__ = [
    "BINDING_NAMESPACE",
    "PACKAGE_FORMAT_VERSION",
    "ArtifactBinding",
    "ArtifactError",
    "ArtifactHandle",
    "ArtifactPutReceipt",
    "ArtifactStore",
    "ArtifactStoreConfig",
    "ExportReceipt",
    "ImportConflictPolicy",
    "ImportOutcome",
    "ImportReceipt",
    "IngestMode",
    "StoreSummary",
    "VaultConfig",
    "VerificationMode",
    "VerificationReport",
    "VerificationStatus",
    "artifact_exists",
    "export_artifact",
    "get_artifact",
    "import_artifact",
    "import_export_package",
    "inspect_store",
    "list_refs",
    "read_artifact_bytes",
    "verify_artifact",
]

BINDING_NAMESPACE = "contexta.artifact-binding"
PACKAGE_FORMAT_VERSION = "contexta-artifact-export-v1"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ArtifactError(ContextaError):
    """An artifact body could not be stored, found or trusted."""

    default_code = "artifact_store_error"


class IngestMode(str, Enum):  # noqa: UP042 - 1.0's str-mixin enums
    COPY = "copy"
    MOVE = "move"
    ADOPT = "adopt"


class VerificationMode(str, Enum):  # noqa: UP042 - 1.0's str-mixin enums
    NONE = "none"
    STORED = "stored"
    MANIFEST_IF_AVAILABLE = "manifest_if_available"
    STRICT = "strict"


class ImportOutcome(str, Enum):  # noqa: UP042 - 1.0's str-mixin enums
    IMPORTED = "imported"
    SKIPPED = "skipped"
    REPLACED = "replaced"
    IDEMPOTENT = "idempotent"


class ImportConflictPolicy(str, Enum):  # noqa: UP042 - 1.0's str-mixin enums
    ERROR = "error"
    SKIP = "skip"
    REPLACE = "replace"


def _choice(kind: type[Enum], value: Any, code: str) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(str(value).strip().lower())
    except ValueError:
        raise ValidationError(
            f"{value!r} is not one of {', '.join(m.value for m in kind)}.",
            code=code,
            details={"value": repr(value), "allowed": [m.value for m in kind]},
        ) from None


class _Plain:
    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, Enum):
                value = value.value
            elif isinstance(value, Path):
                value = str(value)
            elif hasattr(value, "to_dict"):
                value = value.to_dict()
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return out


@dataclass(frozen=True, slots=True)
class VaultConfig(_Plain):
    """Settings of one artifact store (``ArtifactStoreConfig`` is the same class)."""

    root_path: Path | None = None
    default_ingest_mode: IngestMode | str = IngestMode.COPY
    verification_mode: VerificationMode | str = VerificationMode.MANIFEST_IF_AVAILABLE
    create_missing_dirs: bool = True
    layout_version: str = "v1"
    chunk_size_bytes: int = 1_048_576
    read_only: bool = False

    def __post_init__(self) -> None:
        if self.root_path is not None:
            object.__setattr__(self, "root_path", Path(self.root_path).expanduser().resolve())
        object.__setattr__(
            self,
            "default_ingest_mode",
            _choice(IngestMode, self.default_ingest_mode, "artifact_store_invalid_ingest_mode"),
        )
        object.__setattr__(
            self,
            "verification_mode",
            _choice(
                VerificationMode, self.verification_mode, "artifact_store_invalid_verification_mode"
            ),
        )
        if not isinstance(self.chunk_size_bytes, int) or self.chunk_size_bytes <= 0:
            raise ValidationError(
                "chunk_size_bytes must be a positive integer.",
                code="artifact_store_invalid_config",
                details={"chunk_size_bytes": self.chunk_size_bytes},
            )

    @classmethod
    def from_unified_config(cls, config: Any) -> VaultConfig:
        a = config.artifacts
        return cls(
            root_path=a.root_path or config.workspace.artifacts_path,
            default_ingest_mode=a.default_ingest_mode,
            verification_mode=a.verification_mode,
            create_missing_dirs=a.create_missing_dirs,
            layout_version=a.layout_version,
            chunk_size_bytes=a.chunk_size_bytes,
            read_only=a.read_only,
        )

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], *, base: VaultConfig | None = None
    ) -> VaultConfig:
        seed = (base or cls()).to_dict()
        seed.update(values)
        return cls(**seed)


ArtifactStoreConfig = VaultConfig


@dataclass(frozen=True, slots=True)
class ArtifactBinding(_Plain):
    """Which body a manifest is bound to."""

    artifact_ref: str
    artifact_kind: str
    binding_id: str
    source_name: str
    ingest_mode: str
    size_bytes: int
    hash_algorithm: str | None
    hash_value: str | None
    layout_version: str
    created_at: str
    manifest_snapshot: ArtifactManifest


@dataclass(frozen=True, slots=True)
class ArtifactHandle(_Plain):
    binding: ArtifactBinding
    path: Path


@dataclass(frozen=True, slots=True)
class ArtifactPutReceipt(_Plain):
    binding: ArtifactBinding
    path: Path
    bytes_written: int


@dataclass(frozen=True, slots=True)
class VerificationReport(_Plain):
    artifact_ref: str
    status: VerificationStatus
    verified: bool
    exists: bool
    actual_size_bytes: int | None
    expected_size_bytes: int | None
    actual_hash_value: str | None
    expected_hash_value: str | None
    checked_at: str
    messages: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreSummary(_Plain):
    artifact_count: int
    total_size_bytes: int
    kinds: Mapping[str, int]
    verified_count: int
    missing_count: int
    drift_count: int
    orphan_count: int


@dataclass(frozen=True, slots=True)
class ExportReceipt(_Plain):
    artifact_ref: str
    export_directory: Path
    body_path: Path
    binding_path: Path
    package_metadata_path: Path


@dataclass(frozen=True, slots=True)
class ImportReceipt(_Plain):
    artifact_ref: str
    outcome: ImportOutcome
    bytes_written: int
    mapping_loss_report: Mapping[str, Any] = field(default_factory=dict)
    quarantine_path: Path | None = None


def _now() -> str:
    from ..common.clock import utc_now_text

    return utc_now_text()


def _sanitize(text: str) -> str:
    return _UNSAFE.sub("_", text.replace(":", "__")).strip("._") or "artifact"


def _fingerprint(path: Path, chunk: int) -> tuple[int, str]:
    size, sha = 0, hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            size += len(block)
            sha.update(block)
    return size, sha.hexdigest()


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _manifest(value: Any) -> ArtifactManifest:
    if isinstance(value, ArtifactManifest):
        return value
    if isinstance(value, Mapping):
        return deserialize_artifact_manifest(dict(value))
    raise ValidationError(
        f"Expected an ArtifactManifest, got {type(value).__name__}.",
        code="artifact_store_invalid_manifest",
    )


def _split(manifest: ArtifactManifest) -> tuple[ArtifactManifest, Mapping[str, Any] | None]:
    """The caller's manifest (binding extension removed) and the binding fields, if any."""
    ours = [e for e in manifest.extensions if e.namespace == BINDING_NAMESPACE]
    if not ours:
        return manifest, None
    rest = tuple(e for e in manifest.extensions if e.namespace != BINDING_NAMESPACE)
    return msgspec.structs.replace(manifest, extensions=rest), ours[0].fields


def _workspace_root(root: Path) -> Path:
    if root.name == "artifacts" or (root.parent / "ledger").is_dir():
        return root.parent
    return root


class ArtifactStore:
    """Content-addressed artifact bodies bound to manifests in a workspace ledger."""

    def __init__(
        self, config: VaultConfig | None = None, *, workspace: Workspace | None = None
    ) -> None:
        self.config = config or VaultConfig()
        if self.config.root_path is None:
            raise ValidationError(
                "ArtifactStore needs a root_path.", code="artifact_store_missing_root_path"
            )
        self.root_path = Path(self.config.root_path)
        self._workspace = workspace
        self._owns_workspace = workspace is None
        if self.config.read_only:
            if not self.root_path.exists():
                raise ReadOnlyStoreError(
                    f"Artifact store root {str(self.root_path)!r} does not exist (read-only).",
                    code="artifact_store_missing_root",
                )
        elif self.config.create_missing_dirs:
            for sub in ("objects", "staging", "exports", "quarantine"):
                (self.root_path / sub).mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ plumbing

    @property
    def opened_workspace(self) -> Workspace | None:
        """The workspace this store is opened on (None before it opens one): what a repository
        over the stores reads."""
        return self._workspace

    @property
    def workspace(self) -> Workspace:
        """The workspace whose ledger holds this store's manifests."""
        if self._workspace is None:
            self._workspace = Workspace(
                _workspace_root(self.root_path), read_only=self.config.read_only
            )
        return self._workspace

    def close(self) -> None:
        """Commit and close the ledger when this store opened it (no-op otherwise)."""
        if self._owns_workspace and self._workspace is not None:
            self._workspace.close()

    def object_path(self, hash_value: str) -> Path:
        return self.root_path / "objects" / hash_value[:2] / hash_value[2:]

    def staging_path(self, source_name: str) -> Path:
        """A fresh path under ``staging/`` to write a body for an ``adopt`` put."""
        return self.root_path / "staging" / f"{secrets.token_hex(8)}-{_sanitize(source_name)}"

    def _writable(self) -> None:
        if self.config.read_only:
            raise ReadOnlyStoreError(
                "The artifact store is read-only.", code="artifact_store_read_only"
            )

    def _rows(self, ref: str | None = None) -> list[ArtifactManifest]:
        table = self.workspace.table("artifacts")
        if ref is not None and table.num_rows:
            table = table.filter(pc.equal(table.column("ref"), ref))
        return self.workspace.models(table, ARTIFACT_PUT) if table.num_rows else []

    def _binding_of(self, stored: ArtifactManifest) -> ArtifactBinding | None:
        manifest, facts = _split(stored)
        if facts is None:
            return None
        return ArtifactBinding(
            artifact_ref=str(manifest.artifact_ref),
            artifact_kind=manifest.artifact_kind,
            binding_id=facts["binding_id"],
            source_name=facts["source_name"],
            ingest_mode=facts["ingest_mode"],
            size_bytes=facts["size_bytes"],
            hash_algorithm=facts["hash_algorithm"],
            hash_value=facts["hash_value"],
            layout_version=facts["layout_version"],
            created_at=facts["bound_at"],
            manifest_snapshot=manifest,
        )

    def _binding(self, artifact_ref: str) -> ArtifactBinding | None:
        rows = self._rows(str(artifact_ref).strip())
        return self._binding_of(rows[-1]) if rows else None

    def manifests(self) -> list[ArtifactManifest]:
        """The latest manifest of every artifact in the ledger (stored here or only
        registered by capture), binding extension removed, in ledger order."""
        latest = self.workspace.latest("artifacts")
        rows = self.workspace.models(latest, ARTIFACT_PUT) if latest.num_rows else []
        return [_split(stored)[0] for stored in rows]

    def bindings(self) -> list[ArtifactBinding]:
        """The current binding of every stored artifact, in ledger order of first put."""
        latest = self.workspace.latest("artifacts")
        out = []
        for stored in self.workspace.models(latest, ARTIFACT_PUT) if latest.num_rows else []:
            binding = self._binding_of(stored)
            if binding is not None:
                out.append(binding)
        return out

    # ------------------------------------------------------------------ writing

    def put_artifact(
        self,
        manifest: Any,
        source: str | Path,
        *,
        mode: IngestMode | str | None = None,
        source_name: str | None = None,
    ) -> ArtifactPutReceipt:
        """Store ``source`` as the body of ``manifest`` (``copy``, ``move``, or ``adopt`` a file
        written under :meth:`staging_path`). Re-putting the same body is a no-op receipt; a
        different body under a bound ref raises ``artifact_binding_conflict``."""
        return self._put(manifest, source, mode=mode, source_name=source_name, replace=False)

    def _put(
        self,
        manifest: Any,
        source: str | Path,
        *,
        mode: Any,
        source_name: str | None,
        replace: bool,
    ) -> ArtifactPutReceipt:
        self._writable()
        manifest, _ = _split(_manifest(manifest))
        ingest: IngestMode = (
            self.config.default_ingest_mode
            if mode is None
            else _choice(  # type: ignore[assignment]
                IngestMode, mode, "artifact_store_invalid_ingest_mode"
            )
        )
        named = Path(os.path.abspath(Path(source).expanduser()))
        path = named.resolve()
        if not path.is_file():
            raise ValidationError(
                f"Artifact source {str(path)!r} is not an existing file.",
                code="artifact_store_missing_source",
                details={"path": str(path)},
            )
        self._check_source(named, path, ingest)
        if ingest is IngestMode.ADOPT and not path.is_relative_to(
            (self.root_path / "staging").resolve()
        ):
            raise ValidationError(
                "adopt mode takes a file under the store's staging directory "
                "(see ArtifactStore.staging_path).",
                code="artifact_store_invalid_adopt_source",
                details={"path": str(path)},
            )
        size, digest = _fingerprint(path, self.config.chunk_size_bytes)
        ref = str(manifest.artifact_ref)
        existing = self._binding(ref)
        if existing is not None and not replace:
            if existing.hash_value == digest and self.object_path(digest).exists():
                return ArtifactPutReceipt(existing, self.object_path(digest), 0)
            if existing.hash_value != digest:
                raise ConflictError(
                    f"{ref} is already bound to a different body "
                    f"(sha256 {(existing.hash_value or '')[:12]}...).",
                    code="artifact_binding_conflict",
                    details={"artifact_ref": ref},
                )
        self._check_claims(manifest, size, digest)
        target = self.object_path(digest)
        written = self._place(path, target, ingest)
        facts = {
            "binding_id": f"binding-{secrets.token_hex(16)}",
            "source_name": source_name or path.name,
            "ingest_mode": ingest.value,
            "size_bytes": size,
            "hash_algorithm": "sha256",
            "hash_value": digest,
            "layout_version": self.config.layout_version,
            "bound_at": _now(),
            "object": target.relative_to(self.root_path).as_posix(),
        }
        stored = msgspec.structs.replace(
            manifest,
            extensions=(
                *manifest.extensions,
                ExtensionFieldSet(namespace=BINDING_NAMESPACE, fields=facts),
            ),
        )
        ws = self.workspace
        ws.write((entity_event(stored, ws.actor),))
        ws.remember(ARTIFACT_PUT, ref)
        ws.flush()
        return ArtifactPutReceipt(self._binding_of(stored), target, written)  # type: ignore[arg-type]

    def _check_source(self, named: Path, path: Path, ingest: IngestMode) -> None:
        """Refuse a source inside the workspace's ledger or projections (symlinks resolved),
        a symlink to move (it would move the link's target), and a body of this store to move
        out of it."""
        root = self.workspace.root.expanduser().resolve()
        for part in ("ledger", "projections"):
            if path.is_relative_to(root / part):
                raise ValidationError(
                    f"Artifact source {str(named)!r} is inside the workspace's {part} "
                    f"({str(path)!r}); the workspace's own files are never stored as artifacts.",
                    code="artifact_store_source_in_workspace",
                    details={"path": str(named), "resolved": str(path), "inside": part},
                )
        if ingest is IngestMode.COPY:
            return
        if named.is_symlink():
            raise ValidationError(
                f"Artifact source {str(named)!r} is a symbolic link; {ingest.value} would move "
                "its target. Copy it (mode 'copy') or name the file itself.",
                code="artifact_store_symlink_source",
                details={"path": str(named)},
            )
        store = self.root_path.resolve()
        if path.is_relative_to(store) and not path.is_relative_to(store / "staging"):
            raise ValidationError(
                f"Artifact source {str(named)!r} is inside the artifact store ({str(store)!r}); "
                "moving it would take a stored body away.",
                code="artifact_store_source_in_store",
                details={"path": str(named)},
            )

    def _check_claims(self, manifest: ArtifactManifest, size: int, digest: str) -> None:
        mode = self.config.verification_mode
        if mode in (VerificationMode.NONE, VerificationMode.STORED):
            return
        if mode is VerificationMode.STRICT and (
            manifest.size_bytes is None or manifest.hash_value is None
        ):
            raise ArtifactError(
                "strict verification needs size_bytes and hash_value in the manifest.",
                code="artifact_store_strict_verification_missing_claims",
                details={"artifact_ref": str(manifest.artifact_ref)},
            )
        if manifest.size_bytes is not None and manifest.size_bytes != size:
            raise ArtifactError(
                f"The body has {size} bytes; the manifest claims {manifest.size_bytes}.",
                code="artifact_store_size_mismatch",
                details={"artifact_ref": str(manifest.artifact_ref)},
            )
        if manifest.hash_value is not None and manifest.hash_value.lower() not in (
            digest,
            f"sha256:{digest}",
        ):
            raise ArtifactError(
                f"The body's sha256 is {digest}; the manifest claims {manifest.hash_value}.",
                code="artifact_store_hash_mismatch",
                details={"artifact_ref": str(manifest.artifact_ref)},
            )

    def _place(self, source: Path, target: Path, mode: IngestMode) -> int:
        """Put the body at its content address; returns the bytes newly written."""
        if target.exists():
            if mode is not IngestMode.COPY:
                source.unlink()
            return 0
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            if mode is IngestMode.COPY:
                shutil.copyfile(source, temp)
            else:
                try:
                    if os.stat(source).st_nlink > 1:  # a rename would share the inode
                        raise OSError("hard-linked source")
                    os.replace(source, temp)
                except OSError:  # another file system, or linked: copy, then remove the source
                    shutil.copyfile(source, temp)
                    source.unlink()
            _fsync(temp)
            os.replace(temp, target)
            _fsync(target.parent, directory=True)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise ArtifactError(
                f"Could not store the body at {target}: {exc}",
                code="artifact_store_finalize_failed",
                details={"destination": str(target)},
                cause=exc,
            ) from exc
        return target.stat().st_size

    # ------------------------------------------------------------------ reading

    def get_artifact(self, artifact_ref: str) -> ArtifactHandle:
        binding = self._binding(artifact_ref)
        if binding is None:
            raise NotFoundError(
                f"No stored body for {str(artifact_ref).strip()!r}.",
                code="artifact_store_binding_not_found",
                details={"artifact_ref": str(artifact_ref)},
            )
        path = self.object_path(binding.hash_value or "")
        if not path.exists():
            raise NotFoundError(
                f"The body of {binding.artifact_ref} is missing at {path}.",
                code="artifact_store_body_not_found",
                details={"artifact_ref": binding.artifact_ref, "path": str(path)},
            )
        return ArtifactHandle(binding, path)

    def artifact_exists(self, artifact_ref: str) -> bool:
        binding = self._binding(artifact_ref)
        return binding is not None and self.object_path(binding.hash_value or "").exists()

    def read_artifact_bytes(self, artifact_ref: str) -> bytes:
        return self.get_artifact(artifact_ref).path.read_bytes()

    def open_artifact(self, artifact_ref: str, *, mode: str = "rb") -> Any:
        return self.get_artifact(artifact_ref).path.open(mode)

    def list_refs(self) -> list[str]:
        return sorted(b.artifact_ref for b in self.bindings())

    # ------------------------------------------------------------------ checking

    def verify_artifact(self, artifact_ref: str, *, manifest: Any = None) -> VerificationReport:
        """Re-hash the body and compare with the binding (and the manifest's own claims)."""
        binding = self._binding(artifact_ref)
        if binding is None:
            raise NotFoundError(
                f"No stored body for {str(artifact_ref).strip()!r}.",
                code="artifact_store_binding_not_found",
                details={"artifact_ref": str(artifact_ref)},
            )
        reference = binding.manifest_snapshot if manifest is None else _manifest(manifest)
        if str(reference.artifact_ref) != binding.artifact_ref:
            raise ValidationError(
                "The manifest to verify against names another artifact.",
                code="artifact_store_verification_manifest_mismatch",
                details={"artifact_ref": binding.artifact_ref},
            )
        return self._evaluate(binding, reference)

    def _evaluate(self, binding: ArtifactBinding, manifest: ArtifactManifest) -> VerificationReport:
        path = self.object_path(binding.hash_value or "")
        size = manifest.size_bytes if manifest.size_bytes is not None else binding.size_bytes
        claimed = (manifest.hash_value or binding.hash_value or "").lower().removeprefix("sha256:")
        now = _now()
        if not path.exists():
            return VerificationReport(
                binding.artifact_ref,
                VerificationStatus.MISSING,
                False,
                False,
                None,
                size,
                None,
                claimed or None,
                now,
                ("artifact body is missing at its object path",),
            )
        actual_size, actual = _fingerprint(path, self.config.chunk_size_bytes)
        if actual_size != size:
            status, note = VerificationStatus.SIZE_MISMATCH, "body size differs from the binding"
        elif actual != claimed or actual != binding.hash_value:
            status, note = VerificationStatus.HASH_MISMATCH, "body hash differs from the binding"
        else:
            status, note = VerificationStatus.VERIFIED, "body matches its binding"
        return VerificationReport(
            binding.artifact_ref,
            status,
            status is VerificationStatus.VERIFIED,
            True,
            actual_size,
            size,
            actual,
            claimed or None,
            now,
            (note,),
        )

    def inspect_store(self) -> StoreSummary:
        return inspect_store(self)

    def verify_all(self) -> Any:
        return verify_all(self)

    def plan_retention(self, *, refs_to_keep: Any = None) -> Any:
        return plan_retention(self, refs_to_keep=refs_to_keep)

    def put_artifact_from_stream(self, manifest: Any, stream: Any, *, source_name: str) -> Any:
        return put_artifact_from_stream(self, manifest, stream, source_name=source_name)

    def export_artifact(
        self, artifact_ref: str, *, export_root: str | Path | None = None
    ) -> ExportReceipt:
        return export_artifact(self, artifact_ref, export_root=export_root)

    def import_export_package(
        self, package_root: str | Path, *, conflict_policy: Any = "error"
    ) -> ImportReceipt:
        return import_export_package(self, package_root, conflict_policy=conflict_policy)


# ---------------------------------------------------------------------- module functions (1.0's)


def get_artifact(store: ArtifactStore, artifact_ref: str) -> ArtifactHandle:
    return store.get_artifact(artifact_ref)


def artifact_exists(store: ArtifactStore, artifact_ref: str) -> bool:
    return store.artifact_exists(artifact_ref)


def read_artifact_bytes(store: ArtifactStore, artifact_ref: str) -> bytes:
    return store.read_artifact_bytes(artifact_ref)


def list_refs(store: ArtifactStore) -> list[str]:
    return store.list_refs()


def verify_artifact(
    store: ArtifactStore, artifact_ref: str, *, manifest: Any = None
) -> VerificationReport:
    return store.verify_artifact(artifact_ref, manifest=manifest)


def inspect_store(store: ArtifactStore) -> StoreSummary:
    """Counts of the store: bound artifacts by kind, verified/missing/drifted bodies, and
    orphan objects (bodies no binding names)."""
    bindings = store.bindings()
    kinds: dict[str, int] = {}
    counts = {VerificationStatus.VERIFIED: 0, VerificationStatus.MISSING: 0}
    drift = total = 0
    for binding in bindings:
        kinds[binding.artifact_kind] = kinds.get(binding.artifact_kind, 0) + 1
        total += binding.size_bytes
        status = store._evaluate(binding, binding.manifest_snapshot).status
        if status in counts:
            counts[status] += 1
        else:
            drift += 1
    bound = {b.hash_value for b in bindings}
    objects = store.root_path / "objects"
    orphans = (
        sum(
            1
            for p in objects.glob("*/*")
            if p.is_file() and not p.name.startswith(".") and p.parent.name + p.name not in bound
        )
        if objects.exists()
        else 0
    )
    return StoreSummary(
        len(bindings),
        total,
        dict(sorted(kinds.items())),
        counts[VerificationStatus.VERIFIED],
        counts[VerificationStatus.MISSING],
        drift,
        orphans,
    )


def _write_new(path: Path, write: Any) -> None:
    """Write ``path`` through a temp file and a rename, so an existing symlink at ``path`` is
    replaced, never written through."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        write(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _export_root(store: ArtifactStore, export_root: str | Path | None) -> Path:
    if not export_root:
        return store.root_path / "exports"
    root = Path(export_root).expanduser().resolve()
    workspace = store.workspace.root.expanduser().resolve()
    for inside in (
        workspace / "ledger",
        workspace / "projections",
        store.root_path.resolve() / "objects",
    ):
        if root.is_relative_to(inside):
            raise ValidationError(
                f"Export directory {str(root)!r} is inside {str(inside)!r}, "
                "which the workspace owns.",
                code="artifact_export_root_in_workspace",
                details={"export_root": str(root), "inside": str(inside)},
            )
    return root


def export_artifact(
    store: ArtifactStore, artifact_ref: str, *, export_root: str | Path | None = None
) -> ExportReceipt:
    """Copy a stored artifact to ``<export_root>/artifact__<value>/`` with its binding, its
    manifest and ``export.package.json`` (1.0's package format)."""
    handle = store.get_artifact(artifact_ref)
    binding = handle.binding
    root = _export_root(store, export_root)
    directory = root / _sanitize(binding.artifact_ref)
    if directory.is_symlink():
        raise ValidationError(
            f"Export directory {str(directory)!r} is a symbolic link.",
            code="artifact_export_root_in_workspace",
            details={"export_directory": str(directory)},
        )
    directory.mkdir(parents=True, exist_ok=True)
    body = directory / _sanitize(binding.source_name)
    binding_path = directory / f"{_sanitize(binding.artifact_ref)}.binding.json"
    manifest_path = directory / "manifest.snapshot.json"
    meta_path = directory / "export.package.json"
    _write_new(body, lambda temp: shutil.copyfile(handle.path, temp))

    def dump(path: Path, data: Any) -> None:
        text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
        _write_new(path, lambda temp: temp.write_text(text))

    dump(binding_path, binding.to_dict())
    dump(manifest_path, binding.manifest_snapshot.to_dict())
    dump(
        meta_path,
        {
            "package_format_version": PACKAGE_FORMAT_VERSION,
            "artifact_ref": binding.artifact_ref,
            "artifact_kind": binding.artifact_kind,
            "exported_at": _now(),
            "body_file": body.name,
            "binding_file": binding_path.name,
            "manifest_file": manifest_path.name,
            "source_layout_version": binding.layout_version,
            "hash_algorithm": "sha256",
            "hash_value": binding.hash_value,
        },
    )
    return ExportReceipt(binding.artifact_ref, directory, body, binding_path, meta_path)


def import_artifact(
    store: ArtifactStore,
    manifest: Any,
    source: str | Path,
    *,
    conflict_policy: ImportConflictPolicy | str = ImportConflictPolicy.ERROR,
    _loss: Mapping[str, Any] | None = None,
    _source_name: str | None = None,
) -> ImportReceipt:
    """Put ``source`` under ``manifest`` unless the ref is bound: same body -> ``idempotent``
    (``skipped`` with the skip policy); different body -> error, ``skipped`` or ``replaced``
    (a new binding version; the old one stays in the ledger and its body in ``objects/``)."""
    policy = _choice(ImportConflictPolicy, conflict_policy, "artifact_import_invalid_policy")
    manifest, _ = _split(_manifest(manifest))
    ref = str(manifest.artifact_ref)
    loss = dict(_loss or {})
    existing = store._binding(ref)
    if existing is None:
        receipt = store.put_artifact(manifest, source, mode="copy", source_name=_source_name)
        return ImportReceipt(ref, ImportOutcome.IMPORTED, receipt.bytes_written, loss)
    _, digest = _fingerprint(Path(source), store.config.chunk_size_bytes)
    if existing.hash_value == digest:
        outcome = (
            ImportOutcome.SKIPPED
            if policy is ImportConflictPolicy.SKIP
            else ImportOutcome.IDEMPOTENT
        )
        return ImportReceipt(ref, outcome, 0, loss)
    if policy is ImportConflictPolicy.SKIP:
        return ImportReceipt(ref, ImportOutcome.SKIPPED, 0, loss)
    if policy is ImportConflictPolicy.ERROR:
        raise ConflictError(
            f"{ref} is already bound to a different body; pass "
            "conflict_policy='replace' or 'skip'.",
            code="artifact_binding_conflict",
            details={"artifact_ref": ref, "conflict_policy": policy.value},
        )
    receipt = store._put(manifest, source, mode="copy", source_name=_source_name, replace=True)
    return ImportReceipt(
        ref,
        ImportOutcome.REPLACED,
        receipt.bytes_written,
        loss,
        store.object_path(existing.hash_value or ""),
    )


def _package_invalid(root: Path, field: str, value: Any, why: str) -> ValidationError:
    shown = repr(value)
    shown = shown if len(shown) <= 120 else shown[:117] + "..."
    return ValidationError(
        f"Export package {str(root)!r}: {field} {why} (got {shown}).",
        code="artifact_export_package_invalid",
        details={"package_root": str(root), "field": field, "value": shown},
    )


def _package_json(root: Path, name: str) -> dict[str, Any]:
    path = root / name
    if path.is_symlink() or not path.is_file():
        raise _package_invalid(root, name, name, "is missing or not a regular file")
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        raise _package_invalid(root, name, str(exc), "is not readable JSON") from exc
    if not isinstance(data, dict):
        raise _package_invalid(root, name, type(data).__name__, "must be a JSON object")
    return data


def _package_file(root: Path, field: str, name: Any) -> Path:
    """A file the package names: a plain name inside the package, a regular file, no link."""
    if not isinstance(name, str) or not name.strip() or "\x00" in name:
        raise _package_invalid(root, field, name, "must be a file name")
    if name in (".", "..") or "/" in name or "\\" in name or Path(name).is_absolute():
        raise ValidationError(
            f"Export package {str(root)!r}: {field} {name!r} points outside "
            "the package; only a file name inside it is accepted.",
            code="artifact_export_package_path_escape",
            details={"package_root": str(root), "field": field, "value": name},
        )
    path = root / name
    if path.is_symlink() or not path.is_file():
        raise _package_invalid(root, field, name, "is not a regular file in the package")
    return path


def _package_claims(
    root: Path, meta: dict[str, Any], manifest: dict[str, Any]
) -> list[tuple[str, str]]:
    """Every sha256 the package states for its body: (where, hex digest)."""
    claims = []
    for where, data in (("export.package.json", meta), ("manifest.snapshot.json", manifest)):
        value = data.get("hash_value")
        if value is not None:
            if not isinstance(value, str):
                raise _package_invalid(root, f"{where}:hash_value", value, "must be a string")
            claims.append((where, value.lower().removeprefix("sha256:")))
    binding_file = meta.get("binding_file")
    if binding_file is not None:
        binding = _package_json(root, _package_file(root, "binding_file", binding_file).name)
        value = binding.get("hash_value")
        if isinstance(value, str):
            claims.append((str(binding_file), value.lower().removeprefix("sha256:")))
    return claims


def import_export_package(
    store: ArtifactStore,
    package_root: str | Path,
    *,
    conflict_policy: ImportConflictPolicy | str = "error",
) -> ImportReceipt:
    """Import a directory written by :func:`export_artifact` (ours or 1.0's). The body must be
    a file inside the package and match every sha256 the package states for it; it is copied
    to the store's staging area and checked there before it is imported."""
    root = Path(package_root).expanduser().resolve()
    if not root.is_dir():
        raise NotFoundError(
            f"Export package {str(root)!r} does not exist.",
            code="artifact_export_package_not_found",
            details={"package_root": str(root)},
        )
    meta = _package_json(root, "export.package.json")
    manifest = _package_json(root, "manifest.snapshot.json")
    version = meta.get("package_format_version")
    if version != PACKAGE_FORMAT_VERSION:
        raise _package_invalid(
            root, "package_format_version", version, f"must be {PACKAGE_FORMAT_VERSION!r}"
        )
    body = _package_file(root, "body_file", meta.get("body_file"))
    claims = _package_claims(root, meta, manifest)
    created = manifest.get("created_at")
    if not isinstance(created, str):
        raise _package_invalid(
            root, "manifest.snapshot.json:created_at", created, "must be a timestamp string"
        )
    manifest["created_at"] = normalize_timestamp(created)
    manifest = {k: v for k, v in manifest.items() if v is not None}
    store._writable()
    staged = store.staging_path(body.name)
    staged.parent.mkdir(parents=True, exist_ok=True)
    try:
        with body.open("rb") as src, staged.open("xb") as dst:
            shutil.copyfileobj(src, dst)
        _, digest = _fingerprint(staged, store.config.chunk_size_bytes)
        wrong = [where for where, claimed in claims if claimed != digest]
        if wrong:
            raise IntegrityError(
                f"Export package {str(root)!r}: the body {body.name!r} has "
                f"sha256 {digest}, not the one stated in {', '.join(wrong)}; "
                "nothing was imported.",
                code="artifact_export_package_hash_mismatch",
                details={
                    "package_root": str(root),
                    "body_file": body.name,
                    "actual_sha256": digest,
                    "stated_in": wrong,
                },
            )
        return import_artifact(
            store,
            manifest,
            staged,
            conflict_policy=conflict_policy,
            _loss={"package_root": str(root)},
            _source_name=body.name,
        )
    finally:
        staged.unlink(missing_ok=True)
