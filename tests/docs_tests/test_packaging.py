"""What a new user meets before the first line of code: the README's "Use" snippet runs again
and again, its command examples say how to reach ``contexta``, the documented answers are the
real ones, and the package carries its licence, classifiers, URLs and a ``dev`` extra."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from contexta.cli.main import main
from tests.conftest import REPO

README = (REPO / "README.md").read_text()
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def use_snippet() -> str:
    section = README.split("\n## Use\n", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert found is not None, "the Use section has no Python block"
    return found.group(1)


def test_use_snippet_runs_twice_in_the_same_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code = compile(use_snippet(), "README.md[Use]", "exec")
    exec(code, {})
    exec(code, {})  # a second run in the same place answers the same


def test_use_snippet_starts_with_a_run_scope() -> None:
    lines = [
        line
        for line in use_snippet().splitlines()
        if line.strip() and not line.startswith(("import ", "from ", "shutil.", "ctx ="))
    ]
    assert lines[0].startswith("for ") and "with ctx.run(" in lines[1]


def test_command_examples_run_through_uv_or_say_how() -> None:
    prompts = [line for line in README.splitlines() if line.startswith("$ ")]
    bare = [line for line in prompts if line.startswith("$ contexta")]
    assert prompts and not bare, f"examples calling a bare `contexta`: {bare}"
    assert "uv run contexta" in README and "source .venv/bin/activate" in README


def test_the_documented_answers_are_real(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each ``$ uv run contexta --workspace demo-workspace ...`` block of the README prints
    what the README shows, on the workspace the Use snippet leaves behind."""
    monkeypatch.chdir(tmp_path)
    exec(compile(use_snippet(), "README.md[Use]", "exec"), {})
    blocks = re.findall(r"```text\n(.*?)```", README, flags=re.S)
    shown = [b for b in blocks if "$ uv run contexta --workspace demo-workspace" in b]
    assert shown
    checked = 0
    for block in shown:
        for command in re.split(r"^(?=\$ )", block, flags=re.M):
            if not command.strip():
                continue
            head, _, expected = command.partition("\n")
            capsys.readouterr()
            code = main(shlex.split(head)[4:])  # after "$ uv run contexta"
            out, err = capsys.readouterr()
            assert (out + err).strip() == expected.strip(), head
            assert code == (2 if expected.startswith("error [") else 0)
            checked += 1
    assert checked >= 3


def test_main_job_workspace_is_ignored_by_git() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    for path in ("case08-workspace/", "case08-workspace/ledger/HEAD", "demo-workspace/"):
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
        assert done.returncode == 0, f"{path} is not ignored"
    kept = subprocess.run(
        ["git", "check-ignore", "-q", "examples/case_studies/x.py"], cwd=REPO, check=False
    )
    assert kept.returncode == 1


def test_dev_extra_mirrors_the_dev_group() -> None:
    """``pip install -e ".[dev]"`` installs what ``uv sync`` does."""
    extra = PYPROJECT["project"]["optional-dependencies"]["dev"]
    assert sorted(extra) == sorted(PYPROJECT["dependency-groups"]["dev"])
    assert any(d.startswith("pytest") for d in extra)
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    (ours,) = [p for p in lock["package"] if p["name"] == "contexta"]
    assert "dev" in ours["metadata"]["provides-extras"]  # uv.lock was refreshed with the extra


def test_license_file_is_mit() -> None:
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the Contexta authors" in text
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}


def test_classifiers_and_urls() -> None:
    project = PYPROJECT["project"]
    classifiers = project["classifiers"]
    assert "License :: OSI Approved :: MIT License" in classifiers
    minimum = project["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {minimum}" in classifiers
    assert "Typing :: Typed" in classifiers and (REPO / "contexta" / "py.typed").exists()
    urls = project["urls"]
    assert urls and all(u.startswith("https://") for u in urls.values())


def test_version_option_matches_the_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"contexta {PYPROJECT['project']['version']}"


def test_deliberate_differences_name_the_new_behaviours() -> None:
    differences = README.split("The deliberate differences, each pinned by a test:", 1)[1]
    differences = differences.split("\n\n", 1)[0]
    for needle in (
        "ForeignEnvWarning",
        "CONTEXTA_BENCH_VENVS",
        "metric_not_found",
        "`n/a`",
        "query_run_not_found",
    ):
        assert needle in differences, needle
