"""The README stays true: its Python blocks run, its commands exist and have help."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from contexta.cli.main import build_parser
from tests.conftest import REPO, run_cli

README = (REPO / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_blocks_run(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks("python")[index], f"README.md[python {index}]", "exec"), {})


def commands() -> list[list[str]]:
    found = []
    for block in blocks("text") + blocks("bash"):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("$ "):
                line = line[2:]
            if line.startswith(("contexta ", "uv run contexta ")):
                found.append(shlex.split(line.replace("uv run ", "", 1))[1:])
    for match in re.findall(r"`(contexta [a-z][^`]*)`", README):
        found.append(shlex.split(re.sub(r"\[[^\]]*\]", "", match))[1:])
    return found


def subcommand_path(args: list[str]) -> list[str]:
    """The subcommand words of a command line (options and their values dropped)."""
    parser = build_parser()
    path: list[str] = []
    while True:
        actions = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not actions:
            return path
        words = [a for a in args if not a.startswith("-")]
        choice = next((w for w in words if w in actions[0].choices), None)
        if choice is None and not path and not words:
            return path  # `contexta --help` itself
        assert choice is not None, f"no subcommand of {path} in {args}"
        path.append(choice)
        parser = actions[0].choices[choice]
        args = args[args.index(choice) + 1 :]


def test_readme_lists_commands() -> None:
    assert len(commands()) >= 8


@pytest.mark.parametrize("args", commands(), ids=lambda a: " ".join(a)[:60])
def test_every_readme_command_exists_and_has_help(args: list[str], tmp_path: Path) -> None:
    path = subcommand_path([a for a in args if a not in ("--workspace", "--format")])
    done = run_cli(tmp_path, *path, "--help")
    assert "usage: contexta" in done.stdout


def test_setup_commands_are_the_documented_two() -> None:
    setup = blocks("bash")[0]
    assert "uv run python examples/case_studies/case08_retroactive_quarantine.py" in setup
    assert "uv run pytest" in setup


def test_the_seed_scripts_are_verbatim() -> None:
    shared = REPO.parent / "shared" / "seed"
    if not shared.exists():
        pytest.skip("../shared/seed is not beside the repository")
    for name in ("case08_seed_contamination_data.py", "case08_analyze_contamination.py"):
        assert (REPO / "examples" / "case_studies" / name).read_bytes() == (
            shared / name
        ).read_bytes()
