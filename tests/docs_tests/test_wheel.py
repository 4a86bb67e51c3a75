"""The wheel installs beside other projects named ``ledger`` or ``projections``.

A regular wheel ships ``contexta``, ``contexta_ledger`` and ``contexta_projections``
(hatch_build.py renames the repository's ``ledger`` and ``projections`` packages), so a site
that also holds unrelated ``ledger`` and ``projections`` packages runs contexta unchanged.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

UV = shutil.which("uv")
pytestmark = pytest.mark.skipif(UV is None, reason="uv builds the wheel")

FLOW = """
from contexta import Contexta
ctx = Contexta(workspace="ws")
with ctx.run("demo") as run:
    run.log_params({"lr": 0.1})
    run.metric("train_loss", 0.5, step=1)
ctx.close()
(record,) = Contexta(workspace="ws").list_runs()
print(record.run_id)
import contexta_ledger, contexta_projections
print(contexta_ledger.__name__, contexta_projections.__name__)
"""


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(UV, "build", "--wheel", "--out-dir", out, cwd=REPO)
    (built,) = out.glob("contexta-*.whl")
    return built


def test_the_wheel_ships_names_that_cannot_collide(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
        assert tops == {"contexta", "contexta_ledger", "contexta_projections"}
        sources = {n: archive.read(n).decode() for n in names if n.endswith(".py")}
    stale = re.compile(r"^\s*(?:from|import) (?:ledger|projections)\b", re.MULTILINE)
    assert [n for n, text in sources.items() if stale.search(text)] == []
    for package, folder in (
        ("contexta_ledger", "ledger"),
        ("contexta_projections", "projections"),
    ):
        shipped = sorted(n.split("/", 1)[1] for n in sources if n.startswith(package + "/"))
        source = sorted(
            str(p.relative_to(REPO / folder))
            for p in (REPO / folder).rglob("*.py")
            if "__pycache__" not in p.parts
        )
        assert shipped == source


def test_contexta_runs_beside_other_ledger_and_projections_packages(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run(UV, "venv", "--quiet", "--python", sys.executable, venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    _run(UV, "pip", "install", "--quiet", wheel, cwd=tmp_path, env=env)
    site = _run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
    )
    for other in ("ledger", "projections"):  # unrelated packages that fail when imported
        (Path(site.strip()) / other).mkdir()
        (Path(site.strip()) / other / "__init__.py").write_text(
            f"raise ImportError('the unrelated {other} package')\n"
        )
    work = tmp_path / "work"
    work.mkdir()
    clean = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    out = _run(python, "-c", FLOW, cwd=work, env=clean).split()
    assert out == ["run:default.demo", "contexta_ledger", "contexta_projections"]
    runs = _run(venv / "bin" / "contexta", "--workspace", "ws", "runs", cwd=work, env=clean)
    assert "run:default.demo" in runs
    verified = _run(venv / "bin" / "contexta", "--workspace", "ws", "ledger", "verify", cwd=work)
    assert verified.startswith("OK:")
