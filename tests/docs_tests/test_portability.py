"""``import contexta`` works where ``fcntl`` does not exist (Windows): the ledger takes its
file locks through one helper, ``ledger.fs.lock_fd``/``unlock_fd``, which uses ``msvcrt`` there.

Simulated in a subprocess: ``fcntl`` is made unimportable and a stand-in ``msvcrt`` records the
calls, so the Windows branch is exercised on any machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SHIM = r"""
import json, os, sys, types

sys.modules["fcntl"] = None  # `import fcntl` raises ImportError, as on Windows
calls = []
held = set()
fake = types.ModuleType("msvcrt")
fake.LK_UNLCK, fake.LK_LOCK, fake.LK_NBLCK = 0, 1, 2


def locking(fd, mode, nbytes):
    calls.append((mode, nbytes, os.lseek(fd, 0, os.SEEK_CUR)))
    if mode == fake.LK_UNLCK:
        held.discard(fd)
    elif mode == fake.LK_NBLCK and held:
        raise OSError(36, "Resource deadlock avoided")
    else:
        held.add(fd)


fake.locking = locking
sys.modules["msvcrt"] = fake

import contexta  # noqa: E402  the point of the test
import ledger.fs as fs  # noqa: E402

path = sys.argv[1]
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
other = os.open(path, os.O_RDWR)
os.lseek(fd, 5, os.SEEK_SET)
got = fs.lock_fd(fd)
busy = fs.lock_fd(other, blocking=False)
fs.unlock_fd(fd)
fs.FileSystem().lock(fd)
fs.FileSystem().unlock(fd)
print(json.dumps({"fcntl": fs._fcntl is not None, "got": got, "busy": busy, "calls": calls,
                  "version": contexta.__version__}))
"""


def test_import_contexta_without_fcntl_uses_msvcrt_locks(tmp_path: Path) -> None:
    script = tmp_path / "shim.py"
    script.write_text(SHIM)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEXTA_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "LOCK")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["fcntl"] is False and seen["version"]
    assert seen["got"] is True and seen["busy"] is False
    # every call locks (or unlocks) the first byte, whatever the descriptor's position was
    assert [tuple(c) for c in seen["calls"]] == [
        (1, 1, 0),
        (2, 1, 0),
        (0, 1, 0),
        (1, 1, 0),
        (0, 1, 0),
    ]


def test_posix_locks_are_flock_and_exclusive(tmp_path: Path) -> None:
    """On POSIX the helper is ``flock``: a second descriptor cannot take it without waiting."""
    from ledger import fs

    if fs._fcntl is None:  # pragma: no cover - Windows
        return
    path = tmp_path / "LOCK"
    first = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    second = os.open(path, os.O_RDONLY)
    try:
        assert fs.lock_fd(first) is True
        assert fs.lock_fd(second, blocking=False) is False
        fs.unlock_fd(first)
        assert fs.lock_fd(second, blocking=False) is True
    finally:
        os.close(first)
        os.close(second)
