"""What the command line prints for hostile names and bad input: control characters escaped,
typed errors for missing or unusable workspaces, unknown projects and event kinds, full and
read-only disks, and raw-error inputs of the facade and the config loader.

Commands run in-process through ``contexta.cli.main.main``."""

from __future__ import annotations

import errno
import json
import os
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from contexta import Contexta
from contexta.cli.main import main
from contexta.common.errors import ConfigurationError, ContextaError, ValidationError
from contexta.config import load_config
from ledger.writer import _LIVE
from tests.reliability_tests.faults import abandon
from tests.reliability_tests.fs_denial import deny_writes

EVIL = "evil\n\x1b[2Jforged-row\x1b]0;title\x07\u202eexe.txt\x9b31m\x7f"
TYPED = re.compile(r"^error \[([a-z0-9_]+)\]: ", re.MULTILINE)


def _controls(text: str) -> list[str]:
    """Characters a terminal would act on, other than the line breaks."""
    return [
        c
        for c in text
        if c != "\n"
        and (
            unicodedata.category(c) in ("Cc", "Zl", "Zp")
            or unicodedata.bidirectional(c)
            in ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")
        )
    ]


@pytest.fixture()
def ws(tmp_path: Path) -> Iterator[Path]:
    """Project ``shop``: runs ``baseline`` and one whose name is hostile (and tagged)."""
    root = tmp_path / "ws"
    ctx = Contexta(workspace=str(root), config={"project_name": "shop"})
    for name in ("baseline", EVIL):
        run = ctx.run(name)
        with run.stage("train") as stage:
            stage.metric("loss", 0.5, step=0)
            stage.event("note", message=f"message {EVIL}")
        run.close(status="completed")
    ctx.close()
    yield root


def cli(ws: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--workspace", str(ws), *args])
    out, err = capsys.readouterr()
    return code, out, err


def evil_run(ws: Path) -> str:
    ctx = Contexta(workspace=str(ws))
    return next(r.run_id for r in ctx.list_runs() if r.name == EVIL)


# ---------------------------------------------------------------------------- 14: escaping


def test_escape_shows_every_control_character_as_an_escape() -> None:
    from contexta.cli.output import escape, table

    hostile = "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))) + (
        "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
    )
    shown = escape(hostile)
    assert _controls(shown) == [] and "\n" not in shown
    assert shown.startswith("\\x00\\x01") and "\\n" in shown and "\\x1b" in shown
    assert "\\x7f" in shown and "\\x9b" in shown and "\\u202e" in shown
    assert escape("plain é 名前 ✓") == "plain é 名前 ✓"  # printable text stays as it is
    assert escape(None) == ""
    rows = table([("a\nb", "c")], ("x", "y")).splitlines()
    assert rows == ["x     y", "a\\nb  c"]


@pytest.mark.parametrize(
    "command",
    [
        ("runs",),
        ("run", "list"),
        ("search", "runs", "evil"),
        ("audit", "replay"),
        ("watch", "--after-seq", "0", "--timeout", "0"),
        ("trend", "loss"),
        ("compare-multi", "baseline", "RUN"),
        ("run", "show", "RUN"),
        ("run", "diagnose", "RUN"),
        ("export", "csv", "runs"),
        ("report", "snapshot", "RUN"),
        ("quarantine", "RUN", "--reason", f"bad {EVIL}"),
        ("tag", "data.x", "--message", f"m {EVIL}", "--run", "RUN"),
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_text_output_never_carries_control_characters(
    ws: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    """A run name, message or reason with a newline, ESC sequences, DEL, C1 and a bidi
    override neither forges a line nor reaches the terminal raw, in any text printer."""
    run = evil_run(ws)
    code, out, err = cli(ws, capsys, *(run if a == "RUN" else a for a in command))
    assert code == 0, err
    assert _controls(out) == [] and _controls(err) == []
    assert not any(line.startswith("forged-row") for line in out.splitlines())
    shows_evil = command[0] in ("runs", "search", "audit", "watch", "quarantine")
    if shows_evil or command[:2] == ("run", "list"):
        assert "\\x1b[2Jforged-row" in out or "\\u001b[2Jforged-row" in out


def test_runs_table_keeps_one_line_per_run(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(ws, capsys, "runs")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3  # the header and two runs, no forged row
    assert "evil\\n\\x1b[2Jforged-row\\x1b]0;title\\x07\\u202eexe.txt\\x9b31m\\x7f" in lines[2]


def test_error_messages_are_escaped_too(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ("run", "show", "nope\n\x1b[2Jerror [fake]: all good"),
        ("--workspace", str(ws) + "\x1b[2J\nerror [fake]: all good", "runs"),
    ):
        code, out, err = cli(ws, capsys, *args)
        assert code == 2 and out == ""
        assert len(err.splitlines()) == 1 and _controls(err) == []
        assert TYPED.match(err) and "\n[fake]" not in err


# ---------------------------------------------------------------------------- 16: disk faults


def _forget_writers(root: Path) -> None:
    for ledger in list(_LIVE):
        if str(ledger.root).startswith(str(root)):
            with ledger._lock:
                ledger._buffer.clear()
                ledger._commit_queue.clear()
            abandon(ledger)
            ledger._release_fds()


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_close_on_a_full_disk_raises_a_typed_error(ws: Path) -> None:
    ctx = Contexta(workspace=str(ws))
    assert len(ctx.list_runs()) == 2  # loads (and later saves) the projections
    ctx.metadata_store  # noqa: B018 - opened before the disk fills
    before = _snapshot(ws / "ledger")
    try:
        with deny_writes(ws, errno.ENOSPC) as refused:
            run = ctx.run("late")  # buffered events the close must commit
            run.close(status="completed")
            with pytest.raises(ContextaError) as info:
                ctx.close()
    finally:
        _forget_writers(ws)
    assert refused and info.value.code in ("disk_full", "ledger_io_error")
    assert "No space left" in info.value.message or "full" in info.value.message
    assert _snapshot(ws / "ledger") == before


@pytest.mark.parametrize("command", [("projections", "rebuild"), ("backup", "create")])
@pytest.mark.parametrize(
    "err", [errno.ENOSPC, errno.EACCES, errno.EROFS], ids=["full", "permission", "read-only"]
)
def test_disk_faults_are_typed_errors_not_tracebacks(
    ws: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...], err: int
) -> None:
    assert main(["--workspace", str(ws), "projections", "rebuild"]) == 0
    before = _snapshot(ws)
    try:
        with deny_writes(ws, err) as refused:
            code, out, stderr = cli(ws, capsys, *command)
    finally:
        _forget_writers(ws)
    assert refused and code == 2, (out, stderr)
    expected = {
        errno.ENOSPC: "disk_full",
        errno.EACCES: "permission_denied",
        errno.EROFS: "read_only_filesystem",
    }[err]
    assert TYPED.findall(stderr) == [expected]
    assert _snapshot(ws) == before


# ---------------------------------------------------------------------------- 17: not directories


def test_a_workspace_that_is_a_file_is_a_typed_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("mine\n")
    for command in (
        ("runs",),
        ("ledger", "verify"),
        ("projections", "rebuild"),
        ("backup", "create"),
        ("quarantine", "x", "--reason", "r"),
    ):
        code, _, err = cli(path, capsys, *command)
        assert code == 2 and TYPED.findall(err) == ["workspace_not_a_directory"], command
    assert path.read_text() == "mine\n"
    with pytest.raises(ContextaError) as info:
        Contexta(workspace=str(path))
    assert info.value.code == "workspace_not_a_directory"


def test_a_ledger_that_is_a_file_is_a_typed_error(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for entry in (ws / "ledger").iterdir():
        entry.unlink()
    (ws / "ledger").rmdir()
    (ws / "ledger").write_bytes(b"\x00" * 64)
    for command in (("runs",), ("ledger", "verify"), ("ledger", "repair", "--apply")):
        code, _, err = cli(ws, capsys, *command)
        assert code == 2 and TYPED.findall(err) == ["workspace_damaged"], (command, err)
    assert (ws / "ledger").read_bytes() == b"\x00" * 64


def test_backup_output_that_is_a_file_is_a_typed_error(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "backup.txt"
    target.write_text("x")
    code, _, err = cli(ws, capsys, "backup", "create", "--output-dir", str(target))
    assert code == 2 and TYPED.findall(err) == ["not_a_directory"]
    assert str(target) in err and target.read_text() == "x"


# ---------------------------------------------------------------------------- 19: raw errors


def test_facade_arguments_that_raised_raw_errors(ws: Path) -> None:
    ctx = Contexta(workspace=str(ws))
    with pytest.raises(ValidationError) as info:
        ctx.record_store.append_many(None)
    assert info.value.code == "invalid_records_argument"
    with pytest.raises(ValidationError) as info:
        ctx.select_best_run(None, "loss")
    assert info.value.details is not None and info.value.details["field"] == "run_ids"
    with pytest.raises(ValidationError):
        ctx.compare_multiple_runs(None)
    with pytest.raises(ValidationError) as info:
        ctx.as_of(None)
    assert info.value.details is not None and info.value.details["field"] == "when"
    assert repr(ctx.as_of("2020-01-01T00:00:00Z")).startswith("AsOfView(2020-01-01")


@pytest.mark.parametrize(
    "path", ["ws\x00evil", "a" * 5000, "d/" + "n" * 300], ids=["nul", "5000-chars", "long-name"]
)
def test_workspace_paths_no_file_system_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError) as info:
        Contexta(workspace=path)
    assert info.value.details is not None and info.value.details["field"] == "workspace.root_path"
    code, _, err = cli(Path(path), capsys, "runs")
    assert code == 2 and TYPED.findall(err) == ["invalid_config_value"]
    assert len(err) < 600  # the message shortens a long path
    assert list(tmp_path.iterdir()) == []


def test_config_files_with_a_nul_path_or_nested_too_deep(tmp_path: Path) -> None:
    nul = tmp_path / "nul.json"
    nul.write_text(json.dumps({"workspace": {"root_path": "a\x00b"}}))
    with pytest.raises(ConfigurationError) as info:
        load_config(config_file=nul)
    assert info.value.details is not None and info.value.details["field"] == "workspace.root_path"
    with pytest.raises(ConfigurationError) as info:
        load_config(config_file="conf\x00ig.json")
    assert info.value.details is not None and info.value.details["field"] == "config_file"
    deep_json = tmp_path / "deep.json"
    deep_json.write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    deep_toml = tmp_path / "deep.toml"
    deep_toml.write_text("a = " + "[" * 100_000 + "]" * 100_000)
    for path in (deep_json, deep_toml):
        with pytest.raises(ConfigurationError) as info:
            load_config(config_file=path)
        assert info.value.code == "invalid_config_file" and "nested too deeply" in str(info.value)


# ---------------------------------------------------------------------------- 20: event kinds


def test_an_unknown_kind_is_an_error_listing_the_known_ones(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    errors = []
    for command in (
        ("audit", "replay", "--kind", "metrc"),
        ("watch", "--kind", "metrc", "--timeout", "1"),
    ):
        code, out, err = cli(ws, capsys, *command)
        assert code == 2 and TYPED.findall(err) == ["unknown_event_kind"], (command, out, err)
        assert "'metrc'" in err and "Did you mean 'metric'" in err
        errors.append(err)
    from contexta.events import KINDS  # the one list of stored kinds

    assert all(kind in err for kind in KINDS for err in errors)
    ctx = Contexta(workspace=str(ws))
    for call in (
        lambda: ctx.history(kinds="metrc"),
        lambda: ctx.watch(kinds=["record.metrc"]),
        lambda: ctx.as_of("2030-01-01T00:00:00Z").history(kinds="run.putt"),
    ):
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.code == "unknown_event_kind"
    assert len(list(ctx.history(kinds="metric"))) == 2  # short names work in history too
    code, out, _ = cli(ws, capsys, "audit", "replay", "--kind", "record.metric")
    assert code == 0 and len(out.splitlines()) == 3


# ---------------------------------------------------------------------------- 21: typos


def test_a_mistyped_workspace_is_an_error_and_is_not_created(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = ws.parent / "wss"
    for command in (
        ("runs",),
        ("best", "loss"),
        ("audit", "replay"),
        ("ledger", "verify"),
        ("projections", "status"),
        ("watch", "--timeout", "0"),
        ("search", "runs", "x"),
        ("recover", "replay"),
    ):
        code, out, err = cli(typo, capsys, *command)
        assert code == 2 and TYPED.findall(err) == ["workspace_not_found"], (command, out, err)
        assert str(typo) in err and f"Did you mean {ws}" in err
        assert not typo.exists()
    empty_dir = ws.parent / "empty"
    empty_dir.mkdir()
    code, _, err = cli(empty_dir, capsys, "runs")
    assert code == 2 and "no ledger/ directory" in err and os.listdir(empty_dir) == []


def test_a_write_may_create_a_new_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"w")
    new = tmp_path / "fresh"
    code, _, err = cli(new, capsys, "artifact", "register", "model", str(model), "--run", "run:p.r")
    assert code == 0, err
    assert (new / "ledger").is_dir()


@pytest.mark.parametrize(
    "command",
    [
        ("runs", "--project", "shp"),
        ("best", "loss", "--project", "shp"),
        ("trend", "loss", "--project", "shp"),
        ("tag", "x.y", "--message", "m", "--project", "shp"),
        ("export", "csv", "runs", "--project", "shp"),
        ("search", "runs", "a", "--project", "shp"),
    ],
)
def test_an_unknown_project_is_an_error_naming_it(
    ws: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    code, out, err = cli(ws, capsys, *command)
    assert code == 2 and TYPED.findall(err) == ["project_not_found"], (out, err)
    assert "'shp'" in err and "Did you mean 'shop'" in err and "Known projects: shop" in err
    code, out, err = cli(ws, capsys, "runs", "--project", "zzzzz")
    assert code == 2 and "Did you mean" not in err and "Known projects: shop" in err
