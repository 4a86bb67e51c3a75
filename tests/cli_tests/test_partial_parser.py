"""The CLI builds only the command it runs, and that command's parser is the whole tree's.

``main`` asks ``build_parser(only=NAME)`` for the top-level command in its arguments, which runs
only the command modules whose ``COMMANDS`` name it. A module that adds or extends a command
without saying so would give that command another parser; these tests compare, for every
top-level command, the help of its parser and of every subcommand below it, with the whole
tree's, and check which words pick which parser.
"""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Iterator

import pytest

from contexta.cli import main as cli_main
from contexta.cli.commands import REGISTRY
from contexta.cli.main import _command_of, build_parser

FULL = build_parser()
NAMES = sorted(next(a for a in FULL._actions if isinstance(a, argparse._SubParsersAction)).choices)


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _helps(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, str]]:
    yield path, parser.format_help()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _helps(child, f"{path} {name}".strip())


def test_every_command_is_named_by_the_modules_that_build_it() -> None:
    declared = {name for module in REGISTRY for name in module.COMMANDS}
    assert declared == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_a_command_alone_has_the_whole_trees_parser(name: str) -> None:
    alone = build_parser(only=name)
    built = set(_subparsers(alone).choices)  # the command, and its modules' other ones
    assert name in built and built <= {
        n for module in REGISTRY if name in module.COMMANDS for n in module.COMMANDS
    }
    assert dict(_helps(_subparsers(alone).choices[name])) == dict(
        _helps(_subparsers(FULL).choices[name])
    )
    assert alone.format_usage() == FULL.format_usage()


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["best", "acc"], "best"),
        (["--workspace", "w", "--format", "json", "runs"], "runs"),
        (["--workspace=w", "ledger", "publish"], "ledger"),
        (["--help"], None),
        (["--version"], None),
        (["--work", "w", "runs"], None),  # an abbreviation: the whole tree reads it
        (["bset"], None),  # not a command: the whole tree says so, listing them
        ([], None),
    ],
)
def test_the_command_word_picks_the_parser(argv: list[str], command: str | None) -> None:
    assert _command_of(argv) == command


def test_help_and_errors_read_as_the_whole_trees(capsys: pytest.CaptureFixture[str]) -> None:
    def run(argv: list[str]) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli_main(argv)
            except SystemExit as exc:
                code = int(exc.code or 0)
        return code, out.getvalue(), err.getvalue()

    code, out, _ = run(["best", "--help"])
    assert code == 0 and out == _subparsers(FULL).choices["best"].format_help()
    code, _, err = run(["--format", "xml", "best", "acc"])
    assert code == 2 and err.startswith(FULL.format_usage())
    assert "argument --format: invalid choice: 'xml'" in err
    code, _, err = run(["bset"])
    assert code == 2 and "invalid choice: 'bset'" in err and "'best'" in err
