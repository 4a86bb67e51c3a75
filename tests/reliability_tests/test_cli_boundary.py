"""The CLI boundary: every command against workspaces that cannot serve it.

One walk covers every command of the parser (discovered from ``build_parser``, so a new command
is covered as soon as it is registered, and fails here until :data:`COMMANDS` gives it minimal
valid arguments) against a matrix of bad workspaces:

- ``missing``: the path does not exist;
- ``file``: the path is a file;
- ``ledger_file``: the workspace's ``ledger`` is a file;
- ``read_only``: every write under the workspace fails with ``EROFS`` (:mod:`.fs_denial`);
- ``full_disk``: every write of bytes or directory under it fails with ``ENOSPC``;
- ``damaged``: one byte flipped in the last committed batch of the segment.

A command run against them exits non-zero with ``error [code]: message`` on stderr (or, for the
commands that report damage, its findings), never a traceback and never ``internal_error``;
reads may still answer from a read-only or full workspace (exit 0); and nothing stored changes:
every file of the workspace is byte-identical afterwards, a missing workspace is not created.
Commands run in-process through ``contexta.cli.main.main``; a sample runs as real processes.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import os
import re
import shutil
import socketserver
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from contexta import Contexta
from contexta.cli.main import build_parser, main
from ledger import read_head
from ledger.writer import _LIVE

from .faults import abandon, flip_byte
from .fs_denial import deny_writes

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


@dataclass(frozen=True)
class Spec:
    """Minimal valid arguments of a command (``{model}`` and ``{backup}`` are filled in) and
    what it does to a workspace."""

    args: tuple[str, ...] = ()
    writes: bool = False  # it writes to the workspace (read-only / full disk must stop it)
    creates: bool = False  # it may create a missing workspace (a write that starts one)
    replaces: bool = False  # it replaces the workspace's contents (restore)
    reports_damage: bool = False  # damage is its answer (findings on stdout, exit 1)
    shows_damage: bool = False  # a status: on damage it may exit 0 if its answer names it
    serves: bool = False  # a server: run with serve_forever returning at once


COMMANDS: dict[str, Spec] = {
    "runs": Spec(),
    "projections rebuild": Spec(writes=True),
    "projections status": Spec(shows_damage=True),
    # it saves only what is behind the head, and the template's projections are up to date
    "projections watch": Spec(("--timeout", "0", "--interval", "0")),
    "audit replay": Spec(),
    "ledger verify": Spec(reports_damage=True),
    "ledger repair": Spec(("--apply",), writes=True, reports_damage=True),
    "tag": Spec(("data.x", "--message", "m", "--run", "a"), writes=True),
    "quarantine": Spec(("a", "--reason", "r"), writes=True),
    "release": Spec(("b", "--reason", "r"), writes=True),  # b is quarantined in the template
    "best": Spec(("loss", "--stage", "train")),
    "watch": Spec(("--after-seq", "0", "--timeout", "0")),
    "run list": Spec(),
    "run show": Spec(("a",)),
    "run compare": Spec(("a", "b")),
    "run compare-many": Spec(("a", "b")),
    "run diagnose": Spec(("a",)),
    "compare": Spec(("a", "b")),
    "compare-multi": Spec(("a", "b")),
    "diagnostics": Spec(("a",)),
    "lineage": Spec(("run:p.a",)),
    "search runs": Spec(("a",)),
    "search artifacts": Spec(("x",)),
    "trend": Spec(("loss",)),
    "aggregate": Spec(("loss",)),
    "series": Spec(("a", "loss")),
    "anomaly": Spec(("a",)),
    "alert": Spec(("a", "--metric", "loss", "--operator", "gt", "--threshold", "1")),
    "report snapshot": Spec(("a",)),
    "report compare": Spec(("a", "b")),
    "export html": Spec(("--run", "a")),
    "export csv runs": Spec(),
    "export csv metrics": Spec(),
    "export csv events": Spec(),
    "export parquet runs": Spec(("-o", "{out}")),
    "export parquet metrics": Spec(("-o", "{out}")),
    "export parquet events": Spec(("-o", "{out}")),
    "export arrow runs": Spec(("-o", "{out}")),
    "export arrow metrics": Spec(("-o", "{out}")),
    "export arrow events": Spec(("-o", "{out}")),
    # the template has no sealed segment: nothing to write, so it reads on a full disk
    "ledger publish": Spec(),
    # an empty MLflow file store: nothing to import (an import may start a workspace)
    "import mlflow": Spec(("--tracking-uri", "{mlruns}"), writes=True, creates=True),
    "export csv compare": Spec(("a", "b")),
    "export csv trend": Spec(("loss",)),
    "export csv anomaly": Spec(("a",)),
    "provenance audit": Spec(("a",)),
    "provenance diff": Spec(("a", "b")),
    "artifact register": Spec(("model", "{model}", "--run", "p.a"), writes=True, creates=True),
    "artifact put": Spec(("model", "{model}", "--run", "p.b"), writes=True, creates=True),
    # writes the body back over the file it was logged from (the same bytes)
    "artifact get": Spec(("artifact:p.a.weights", "-o", "{model}", "--force")),
    "backup create": Spec(writes=True, reports_damage=True),  # a DEGRADED backup, exit 1
    "restore apply": Spec(("{backup}",), writes=True, creates=True, replaces=True),
    "recover replay": Spec(reports_damage=True),
    "serve http": Spec(("--port", "0", "--quiet"), serves=True),
    "ui": Spec(("--port", "0", "--quiet", "--no-browser"), serves=True),
}

CASES = ("missing", "file", "ledger_file", "read_only", "full_disk", "damaged")
#: the code each case must answer with, for commands that cannot run there
EXPECTED_CODE = {
    "missing": {"workspace_not_found"},
    "file": {"workspace_not_a_directory"},
    "ledger_file": {"workspace_damaged"},
}
#: a restore checks its target itself: it refuses to replace what is not a workspace
RESTORE_CODE = {
    "file": {"recovery_target_not_directory"},
    "ledger_file": {"recovery_target_not_workspace"},
}
TYPED = re.compile(r"^error \[([a-z0-9_]+)\]: \S", re.MULTILINE)


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Every runnable command of ``parser`` ("export csv runs", ...), from its subparsers."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield " ".join(path)
        return
    for name, child in subs[0].choices.items():
        yield from leaf_commands(child, (*path, name))


# ---------------------------------------------------------------------------- workspaces


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small good workspace (project p, runs a and b), a file to register, a backup."""
    base = tmp_path_factory.mktemp("boundary")
    ws = base / "good"
    ctx = Contexta(workspace=str(ws), config={"project_name": "p"})
    model = base / "model.bin"
    model.write_bytes(b"weights")
    for name, lr in (("a", 0.1), ("b", 0.2)):
        run = ctx.run(name)
        with run.stage("train") as stage:
            for step in range(3):
                stage.metric("loss", round(1.0 / (step + 1) + lr, 4), step=step)
            stage.event("epoch-end", message="done")
        if name == "a":
            run.log_artifact(model, name="weights")  # for artifact get
        run.close(status="completed")
    ctx.quarantine_runs(["b"], reason="held back")
    ctx.close()
    assert main(["--workspace", str(ws), "projections", "rebuild"]) == 0  # saved projections
    assert (
        main(["--workspace", str(ws), "backup", "create", "--output-dir", str(base / "backups")])
        == 0
    )
    (backup,) = (base / "backups").iterdir()
    return {"ws": ws, "model": model, "backup": backup}


def make_case(case: str, template: dict[str, Path], root: Path) -> Path:
    """The workspace path of ``case`` under ``root`` (prepared; faults are added by the run)."""
    ws = root / "ws"
    if case == "missing":
        return ws
    if case == "file":
        ws.write_text("not a workspace\n")
        return ws
    shutil.copytree(template["ws"], ws, symlinks=True)
    if case == "ledger_file":
        shutil.rmtree(ws / "ledger")
        (ws / "ledger").write_text("not a ledger\n")
    elif case == "damaged":
        head = read_head(ws / "ledger")
        assert head is not None
        flip_byte(ws / "ledger" / "segment-000000000000.arrows", head.offset - 40)
    return ws


def snapshot(path: Path) -> dict[str, str] | None:
    """Every file under ``path`` and its sha256 (None when ``path`` does not exist)."""
    if not os.path.lexists(path):
        return None
    if path.is_file():
        return {".": hashlib.sha256(path.read_bytes()).hexdigest()}
    out = {}
    for file in sorted(path.rglob("*")):
        if file.is_file() and not file.is_symlink():
            out[str(file.relative_to(path))] = hashlib.sha256(file.read_bytes()).hexdigest()
    return out


def drop_writers(root: Path) -> None:
    """Forget the writers the in-process commands left open on ``root``: what they could not
    commit must not be committed later (by a timer tick or at interpreter exit)."""
    for ledger in list(_LIVE):
        if str(ledger.root).startswith(str(root)):
            with ledger._lock:
                ledger._buffer.clear()
                ledger._commit_queue.clear()
            abandon(ledger)
            ledger._release_fds()


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    refused: int


def run_cli(
    argv: list[str], capsys: pytest.CaptureFixture[str], case: str, ws: Path, serves: bool = False
) -> Outcome:
    if serves:  # the server starts (workspace opened, socket bound) and stops at once
        with mock.patch.object(socketserver.BaseServer, "serve_forever", lambda self: None):
            return run_cli(argv, capsys, case, ws)
    capsys.readouterr()
    fault = {"read_only": errno.EROFS, "full_disk": errno.ENOSPC}.get(case)
    refused: list[str] = []
    try:
        if fault is None:
            code = _main(argv)
        else:
            with deny_writes(ws, fault) as refused:
                try:
                    code = _main(argv)
                finally:
                    drop_writers(ws.parent)
    finally:
        drop_writers(ws.parent)
    out, err = capsys.readouterr()
    return Outcome(code, out, err, len(refused))


def _main(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse refused the arguments: the table is wrong
        raise AssertionError(f"argparse rejected {argv}: exit {exc.code}") from exc


def argv_of(command: str, ws: Path, template: dict[str, Path]) -> list[str]:
    spec = COMMANDS[command]
    fill = {
        "{model}": str(template["model"]),
        "{backup}": str(template["backup"]),
        "{out}": str(ws.parent / "export.out"),
        "{mlruns}": (ws.parent / "mlruns").as_uri(),
    }
    return ["--workspace", str(ws), *command.split(), *(fill.get(a, a) for a in spec.args)]


def problems(
    command: str,
    case: str,
    result: Outcome,
    before: dict[str, str] | None,
    after: dict[str, str] | None,
) -> list[str]:
    """What went wrong with ``command`` on ``case`` (empty when the boundary held)."""
    spec = COMMANDS[command]
    found = []
    text = result.out + result.err
    if "Traceback" in text:
        found.append("printed a traceback")
    codes = TYPED.findall(result.err) or TYPED.findall(result.out)
    if "internal_error" in codes:
        found.append(f"internal_error: {result.err.strip()[:300]}")
    allowed_success = (
        (case in ("read_only", "full_disk") and not spec.writes)
        or (case == "missing" and spec.creates)
        or (case in ("damaged", "ledger_file") and spec.replaces)
        or (case == "damaged" and spec.shows_damage and "CRC mismatch" in result.out)
    )
    if result.code == 0 and not allowed_success:
        found.append(f"exit 0 ({result.out.strip()[:200]!r})")
    if result.code != 0:
        damage_report = (
            spec.reports_damage
            and case == "damaged"
            and result.code == 1
            and re.search(r"DAMAGED|FAILED|CORRUPT|DEGRADED|error \[ledger", result.out)
        )
        if not codes and not damage_report:
            found.append(f"exit {result.code} without a typed message: {text.strip()[:300]!r}")
        expected = (RESTORE_CODE if spec.replaces else EXPECTED_CODE).get(case)
        if expected and not (spec.creates and case == "missing") and not expected & set(codes):
            found.append(f"answered {codes} instead of {sorted(expected)}")
    if case in ("read_only", "full_disk") and spec.writes and result.refused == 0:  # -1: unknown
        found.append("never tried to write (the fault was not exercised)")
    if before != after and not (result.code == 0 and (spec.creates or spec.replaces)):
        # a write may add files (a backup under exports/), never change or remove one
        old = before or {}
        touched = sorted(k for k in old if (after or {}).get(k) != old[k])
        added = sorted(set(after or {}) - set(old))
        if touched or (added and not spec.writes) or (before is None) != (after is None):
            found.append(f"changed the stored data: {touched[:5]} changed, {added[:5]} added")
    return found


def walk(
    commands: list[str],
    cases: tuple[str, ...],
    template: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> list[str]:
    failures = []
    for case in cases:
        root = tmp_path / case
        root.mkdir()
        ws = make_case(case, template, root)
        for command in commands:
            before = snapshot(ws)
            result = run_cli(
                argv_of(command, ws, template), capsys, case, ws, COMMANDS[command].serves
            )
            after = snapshot(ws)
            for problem in problems(command, case, result, before, after):
                failures.append(f"{case:11} contexta {command}: {problem}")
            if after != before:  # a command changed it (as allowed): start the next afresh
                shutil.rmtree(root)
                root.mkdir()
                ws = make_case(case, template, root)
    return failures


# ---------------------------------------------------------------------------- tests


def test_the_table_names_every_command_of_the_parser() -> None:
    commands = list(leaf_commands(build_parser()))
    missing = [c for c in commands if c not in COMMANDS]
    assert not missing, f"add minimal arguments for {missing} to COMMANDS"
    assert not [c for c in COMMANDS if c not in commands], "COMMANDS names a removed command"


def test_every_command_runs_on_the_good_workspace(
    template: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: the table's arguments are valid (each command exits 0 on a good copy).
    The default run checks the sample; ``-m slow`` every command."""
    _control(SAMPLE, template, tmp_path, capsys)


@pytest.mark.slow
def test_every_command_runs_on_the_good_workspace_all(
    template: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _control(list(leaf_commands(build_parser())), template, tmp_path, capsys)


def _control(
    commands: list[str],
    template: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(template["ws"], ws)
    failed = []
    for command in commands:
        result = run_cli(
            argv_of(command, ws, template), capsys, "good", ws, COMMANDS[command].serves
        )
        if result.code != 0 or "Traceback" in result.out + result.err:
            failed.append(f"{command}: exit {result.code} {result.err.strip()[:200]!r}")
    assert not failed, "\n".join(failed)


#: commands of the default run's fault cases: every command that writes, and reads of each
#: kind (a table, a snapshot, a report, a live tail, history, a select-best)
SAMPLE = [c for c, spec in COMMANDS.items() if spec.writes] + [
    "runs",
    "run show",
    "report compare",
    "watch",
    "audit replay",
    "best",
    "ledger verify",
    "projections status",
    "recover replay",
]


def test_every_command_against_bad_workspaces(
    template: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every command against the workspaces it must refuse at the door (missing, a file, a
    ledger that is a file), and the sample against read-only, full and damaged ones."""
    commands = list(leaf_commands(build_parser()))
    missing = [c for c in commands if c not in COMMANDS]
    assert not missing, f"add minimal arguments for {missing} to COMMANDS"
    failures = walk(commands, ("missing", "file", "ledger_file"), template, tmp_path, capsys)
    failures += walk(
        [c for c in commands if c in SAMPLE],
        ("read_only", "full_disk", "damaged"),
        template,
        tmp_path,
        capsys,
    )
    assert not failures, f"{len(failures)} boundary failures:\n" + "\n".join(failures)


@pytest.mark.slow
def test_every_command_against_every_bad_workspace(
    template: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The full matrix: every command against all six cases."""
    failures = walk(list(leaf_commands(build_parser())), CASES, template, tmp_path, capsys)
    assert not failures, f"{len(failures)} boundary failures:\n" + "\n".join(failures)


# ---------------------------------------------------------------------------- real processes

#: a child that refuses writes under the workspace for its whole life (its exit included: a
#: writer's last commit at interpreter exit meets the same disk), then runs the command
_CHILD = """
import errno, sys
sys.path.insert(0, {here!r})
from fs_denial import deny_writes
refusal = deny_writes({ws!r}, errno.{err})
refusal.__enter__()  # kept (a reference) until the process ends
from contexta.cli.main import main
sys.exit(main({argv!r}))
"""


def run_process(argv: list[str], case: str, ws: Path) -> Outcome:
    """``contexta ARGV`` as a real process (``python -m contexta.cli``, or for the disk faults a
    child with the refusal installed before the command starts)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTA_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH"))))
    fault = {"read_only": "EROFS", "full_disk": "ENOSPC"}.get(case)
    if fault is None:
        cmd = [sys.executable, "-m", "contexta.cli", *argv]
    else:
        cmd = [
            sys.executable,
            "-c",
            _CHILD.format(here=str(HERE), ws=str(ws), err=fault, argv=argv),
        ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ws.parent)
    return Outcome(done.returncode, done.stdout, done.stderr, refused=-1)


PROCESS_SAMPLE = [("missing", "runs"), ("full_disk", "quarantine")]
PROCESS_ALL = [
    (case, command)
    for case in CASES
    for command in ("runs", "projections rebuild", "backup create", "quarantine", "ledger repair")
]


def _as_processes(
    pairs: list[tuple[str, str]], template: dict[str, Path], tmp_path: Path
) -> list[str]:
    failures = []
    for i, (case, command) in enumerate(pairs):
        root = tmp_path / f"{i}-{case}"
        root.mkdir()
        ws = make_case(case, template, root)
        before = snapshot(ws)
        result = run_process(argv_of(command, ws, template), case, ws)
        for problem in problems(command, case, result, before, snapshot(ws)):
            failures.append(f"{case:11} contexta {command}: {problem}")
    return failures


def test_a_sample_as_real_processes(template: dict[str, Path], tmp_path: Path) -> None:
    """The boundary holds in a real process too: exit status, stderr, and the writer's commit
    at interpreter exit (which meets the same read-only or full disk)."""
    failures = _as_processes(PROCESS_SAMPLE, template, tmp_path)
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_more_commands_as_real_processes(template: dict[str, Path], tmp_path: Path) -> None:
    failures = _as_processes(PROCESS_ALL, template, tmp_path)
    assert not failures, "\n".join(failures)
