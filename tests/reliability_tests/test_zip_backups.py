"""Backups as zip archives (``backup create --output P`` writes ``P.zip``, as Contexta 1.0 did)
and ``restore apply P.zip``: verified member by member, and refused, with nothing written
anywhere, when a member would land outside the restore directory (``../``, absolute names,
backslashes), is a symbolic link, is not listed, is listed twice, or does not match its hash.
"""

from __future__ import annotations

import stat
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from contexta.recovery import RestoreError, plan_restore, restore_workspace
from tests.reliability_tests.test_user_paths import (
    cli,
    config_of,
    ledger_clean,
    open_ctx,
    refused,
    run_names,
    train,
    tree,
)

#: what Contexta 1.0.0 printed for ``backup create --output <dir>/b1`` and for
#: ``restore apply <dir>/b2.zip --verify-only`` (exit 0 both)
C10_CREATED = "Backup created: {path}.zip"
C10_VERIFIED = "Verified backup: {path}"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    ctx = open_ctx(root)
    train(ctx, "a", b"weights-a", tmp_path)
    train(ctx, "b", b"weights-b", tmp_path)
    ctx.close()
    return root


@pytest.fixture
def archive(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    rc, _out, err = cli(
        capsys, "--workspace", str(ws), "backup", "create", "--output", str(tmp_path / "out" / "b1")
    )
    assert rc == 0, err
    return tmp_path / "out" / "b1.zip"


def test_output_writes_p_zip_as_1_0(
    ws: Path, archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert [p.name for p in archive.parent.iterdir()] == ["b1.zip"]
    assert zipfile.is_zipfile(archive)
    rc, out, _ = cli(
        capsys, "--workspace", str(ws), "backup", "create", "--output", str(tmp_path / "b2.zip")
    )
    assert rc == 0 and out.splitlines()[0] == C10_CREATED.format(path=tmp_path / "b2")
    from contexta.recovery.backup import archive_path

    assert (
        archive_path(tmp_path / "b2.zip") == archive_path(tmp_path / "b2") == (tmp_path / "b2.zip")
    )
    names = zipfile.ZipFile(archive).namelist()
    assert names[0] == "manifest.json" and "workspace/ledger/HEAD" in names
    assert all(n.startswith(("manifest.json", "workspace/")) for n in names)


def test_verify_only_on_an_archive_exits_0_and_changes_nothing(
    ws: Path, archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, kept = tree(ws), archive.read_bytes()
    rc, out, err = cli(
        capsys, "--workspace", str(ws), "restore", "apply", str(archive), "--verify-only"
    )
    assert rc == 0, err
    assert out.splitlines()[0] == C10_VERIFIED.format(path=archive)
    scratch = {"cache/restore": ("dir",)}  # private copies for verification (left empty)
    assert tree(ws) in (before, {**before, **scratch}) and archive.read_bytes() == kept
    rc, out, err = cli(
        capsys,
        "--workspace",
        str(tmp_path / "nowhere"),
        "restore",
        "apply",
        str(archive),
        "--verify-only",
    )
    assert rc == 0 and not (tmp_path / "nowhere").exists(), err


def test_restore_apply_from_an_archive(
    ws: Path, archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "restored"
    rc, _out, err = cli(
        capsys,
        "--workspace",
        str(ws),
        "restore",
        "apply",
        str(archive),
        "--target-workspace",
        str(target),
    )
    assert rc == 0, err
    assert run_names(target) == run_names(ws) == ["a", "b"]
    ledger_clean(capsys, target)
    ctx = open_ctx(target)
    try:
        bodies = sorted(
            ctx.artifact_store.read_artifact_bytes(ref) for ref in ctx.artifact_store.list_refs()
        )
    finally:
        ctx.close()
    assert bodies == [b"weights-a", b"weights-b"]


def test_an_archive_under_the_backup_root_restores_by_name(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backups = ws / "exports" / "backups"
    rc, _, err = cli(
        capsys, "--workspace", str(ws), "backup", "create", "--output", str(backups / "nightly")
    )
    assert rc == 0, err
    for name in ("nightly", "nightly.zip"):
        rc, out, err = cli(
            capsys, "--workspace", str(ws), "restore", "apply", name, "--verify-only"
        )
        assert rc == 0 and out.startswith("Verified backup: "), err


def test_an_existing_file_is_never_overwritten(
    ws: Path, archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = archive.read_bytes()
    refused(
        capsys,
        "recovery_backup_exists",
        "--workspace",
        str(ws),
        "backup",
        "create",
        "--output",
        str(archive),
    )
    assert archive.read_bytes() == kept
    assert sorted(p.name for p in archive.parent.iterdir()) == ["b1.zip"]  # no partial left


def test_output_naming_workspace_data_is_refused(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree(ws)
    for inside in (ws / "ledger", ws / "ledger" / "b", ws / "projections" / "b"):
        refused(
            capsys,
            "recovery_backup_root_inside_workspace_data",
            "--workspace",
            str(ws),
            "backup",
            "create",
            "--output",
            str(inside),
        )
    assert tree(ws) == before


def test_output_dir_keeps_the_directory_form(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = cli(
        capsys, "--workspace", str(ws), "backup", "create", "--output-dir", str(tmp_path / "dirs")
    )
    assert rc == 0, err
    (made,) = (tmp_path / "dirs").iterdir()
    assert made.is_dir() and (made / "manifest.json").is_file()


# ---------------------------------------------------------------------------- hostile archives


def _rewrite(
    source: Path, target: Path, change: Callable[[zipfile.ZipFile, zipfile.ZipFile], None]
) -> Path:
    """A copy of ``source`` with ``change`` applied (members written by the caller)."""
    with (
        zipfile.ZipFile(source) as old,
        zipfile.ZipFile(target, "w") as new,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")  # duplicate names are the point of some cases
        change(old, new)
    return target


def _copy_all(old: zipfile.ZipFile, new: zipfile.ZipFile, skip: str = "") -> None:
    for info in old.infolist():
        if info.filename != skip:
            new.writestr(info, old.read(info))


def _segment(old: zipfile.ZipFile) -> str:
    return next(n for n in old.namelist() if "/segment-" in n)


def _extra(name: str, body: bytes = b"owned") -> Callable[..., None]:
    def change(old: zipfile.ZipFile, new: zipfile.ZipFile) -> None:
        _copy_all(old, new)
        new.writestr(name, body)

    return change


def _symlink(name: str, link: str) -> Callable[..., None]:
    def change(old: zipfile.ZipFile, new: zipfile.ZipFile) -> None:
        _copy_all(old, new, skip=name)
        info = zipfile.ZipInfo(name)
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        new.writestr(info, link)

    return change


def _tampered(old: zipfile.ZipFile, new: zipfile.ZipFile) -> None:
    segment = _segment(old)
    _copy_all(old, new, skip=segment)
    body = bytearray(old.read(segment))
    body[-5] ^= 0xFF
    new.writestr(segment, bytes(body))


def _duplicate(old: zipfile.ZipFile, new: zipfile.ZipFile) -> None:
    """The listed member first (it verifies), a second one of the same name after it."""
    _copy_all(old, new)
    new.writestr(_segment(old), b"not the ledger")


def _grown(old: zipfile.ZipFile, new: zipfile.ZipFile) -> None:
    segment = _segment(old)
    _copy_all(old, new, skip=segment)
    new.writestr(segment, old.read(segment) + b"\0" * (4 << 20))


CASES: dict[str, tuple[Callable[..., None], str]] = {
    "dotdot": (_extra("../evil.txt"), "unsafe_name:"),
    "dotdot_inside": (_extra("workspace/ledger/../../../evil.txt"), "unsafe_name:"),
    "absolute": (_extra("/tmp/contexta-zip-evil.txt"), "unsafe_name:"),
    "backslash": (_extra("workspace\\..\\..\\evil.txt"), "unsafe_name:"),
    "drive": (_extra("C:/evil.txt"), "unsafe_name:"),
    "unlisted": (_extra("workspace/ledger/segment-000000000009.arrows"), "unlisted:"),
    "symlink_listed": (_symlink("workspace/ledger/HEAD", "/etc/passwd"), "symlink:"),
    "symlink_extra": (_symlink("workspace/artifacts/escape", "../../.."), "symlink:"),
    "hash_mismatch": (_tampered, "hash_mismatch:"),
    "duplicate": (_duplicate, "duplicate:"),
    "grown": (_grown, "hash_mismatch:"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_archive_is_refused_and_writes_nothing(
    case: str, ws: Path, archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change, problem = CASES[case]
    bad = _rewrite(archive, tmp_path / f"{case}.zip", change)
    outside = sorted(p.name for p in tmp_path.iterdir())
    before = tree(ws)
    rc, out, err = cli(
        capsys, "--workspace", str(ws), "restore", "apply", str(bad), "--verify-only"
    )
    assert rc == 1 and out.startswith("Backup FAILED verification"), out + err
    assert problem in out and "Traceback" not in out + err
    refused(capsys, "recovery_backup_corrupt", "--workspace", str(ws), "restore", "apply", str(bad))
    target = tmp_path / "target"
    refused(
        capsys,
        "recovery_backup_corrupt",
        "--workspace",
        str(ws),
        "restore",
        "apply",
        str(bad),
        "--target-workspace",
        str(target),
    )
    assert {k: v for k, v in tree(ws).items() if k != "cache/restore"} == before
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == outside
    assert not Path("/tmp/contexta-zip-evil.txt").exists()
    ledger_clean(capsys, ws)


def test_a_broken_archive_is_a_typed_error(
    ws: Path, archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = archive.read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    not_zip = tmp_path / "plain.zip"
    not_zip.write_bytes(b"PK\x03\x04 but nothing else")
    for path in (cut, not_zip):
        err = refused(
            capsys,
            "recovery_backup_not_found",
            "--workspace",
            str(ws),
            "restore",
            "apply",
            str(path),
            "--verify-only",
        )
        assert str(path) in err
    no_manifest = _rewrite(
        archive,
        tmp_path / "nomanifest.zip",
        lambda old, new: _copy_all(old, new, skip="manifest.json"),
    )
    refused(
        capsys,
        "recovery_manifest_missing",
        "--workspace",
        str(ws),
        "restore",
        "apply",
        str(no_manifest),
        "--verify-only",
    )


def test_the_python_api_reads_archives_too(ws: Path, archive: Path, tmp_path: Path) -> None:
    config = config_of(ws)
    checked = restore_workspace(config, plan_restore(config, str(archive), verify_only=True))
    assert (checked.status, checked.applied) == ("SUCCESS", False)
    assert checked.plane_results["metadata"] == {"run_count": 2}
    bad = _rewrite(archive, tmp_path / "bad.zip", _extra("../evil.txt"))
    with pytest.raises(RestoreError) as err:
        restore_workspace(config, plan_restore(config, str(bad), target_workspace=tmp_path / "t"))
    assert err.value.code == "recovery_backup_corrupt"
    assert any(p.startswith("unsafe_name:") for p in err.value.details["problems"])
