"""Named fault helpers of the reliability matrix.

Byte-level damage (:func:`truncate_at`, :func:`flip_byte`), file-system layers that inject
faults into the ledger's :class:`~ledger.fs.FileSystem` seam (:class:`FaultyFS` for ENOSPC/EIO,
:class:`CrashFS` for a crash at the n-th call, :class:`KillFS` for a real ``kill -9`` at the
n-th call) and :class:`PowerLossFS`, which records what was fsynced and, on
:meth:`PowerLossFS.power_loss`, puts every file and directory back to its durable state (or to
a random durable-plus-written-back state, like a real page cache).

This module imports only the ledger, so child processes can load it by path.
"""

from __future__ import annotations

import errno as errno_mod
import os
import random
import signal
import stat
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ledger import PendingEvent
from ledger.fs import FileSystem

__all__ = [
    "CrashFS",
    "FaultyFS",
    "KillFS",
    "NoSyncFS",
    "PowerLossFS",
    "SimulatedCrash",
    "abandon",
    "flip_byte",
    "make_event",
    "truncate_at",
]


def truncate_at(path: Path, offset: int) -> int:
    """Cut ``path`` to ``offset`` bytes (a torn write). Returns the number of bytes removed."""
    size = path.stat().st_size
    mode = path.stat().st_mode
    os.chmod(path, mode | stat.S_IWUSR)
    with open(path, "r+b") as handle:
        handle.truncate(offset)
    os.chmod(path, mode)
    return size - offset


def flip_byte(path: Path, offset: int, mask: int = 0xFF) -> tuple[int, int]:
    """XOR the byte at ``offset`` of ``path`` with ``mask``. Returns (old, new) values."""
    mode = path.stat().st_mode
    os.chmod(path, mode | stat.S_IWUSR)
    with open(path, "r+b") as handle:
        handle.seek(offset)
        old = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([old ^ mask]))
    os.chmod(path, mode)
    return old, old ^ mask


def make_event(tag: str, i: int, *, size: int = 0) -> PendingEvent:
    """A metric event whose body identifies it: ``b"<tag>:<i>"`` (padded to ``size`` bytes)."""
    body = f"{tag}:{i}".encode()
    if size > len(body):
        body += b"." * (size - len(body))
    return PendingEvent(
        "record.metric",
        f"record:p.r.{tag}-{i}",
        "project:p",
        "run:p.r",
        None,
        None,
        "loss",
        float(i),
        i,
        tag,
        body,
    )


# ---------------------------------------------------------------------------- fault injection


class FaultyFS(FileSystem):
    """Raise ``OSError(err)`` from operation ``op`` (``pwrite``, ``fsync``, ``replace``,
    ``ftruncate``, ``fsync_dir`` or ``open``) on its ``nth`` call and the ``times - 1`` calls after
    it (``times=None``: until :meth:`heal`). A failing ``pwrite`` first writes half its data, as
    a disk that fills up mid-write does. Only paths containing ``path_part`` count."""

    def __init__(
        self,
        op: str,
        err: int = errno_mod.ENOSPC,
        *,
        nth: int = 1,
        times: int | None = 1,
        path_part: str | None = None,
    ) -> None:
        self.op, self.err, self.nth, self.times, self.path_part = op, err, nth, times, path_part
        self.calls = 0
        self.injected = 0
        self.healed = False
        self._paths: dict[int, str] = {}

    def heal(self) -> None:
        """Space is back / the device works again."""
        self.healed = True

    def _hit(self, op: str, where: str | None) -> bool:
        if self.healed or op != self.op:
            return False
        if self.path_part is not None and (where is None or self.path_part not in where):
            return False
        self.calls += 1
        if self.calls < self.nth:
            return False
        if self.times is not None and self.injected >= self.times:
            return False
        self.injected += 1
        return True

    def _raise(self) -> None:
        raise OSError(self.err, os.strerror(self.err))

    def open(self, path: Path, flags: int, mode: int = 0o644) -> int:
        if self._hit("open", str(path)):
            self._raise()
        fd = super().open(path, flags, mode)
        self._paths[fd] = str(path)
        return fd

    def close(self, fd: int) -> None:
        self._paths.pop(fd, None)
        super().close(fd)

    def pwrite(self, fd: int, data: bytes | bytearray | memoryview, offset: int) -> int:
        if self._hit("pwrite", self._paths.get(fd)):
            half = len(data) // 2
            if half:
                super().pwrite(fd, bytes(data[:half]), offset)
            self._raise()
        return super().pwrite(fd, data, offset)

    def fsync(self, fd: int) -> None:
        if self._hit("fsync", self._paths.get(fd)):
            self._raise()
        super().fsync(fd)

    def ftruncate(self, fd: int, length: int) -> None:
        if self._hit("ftruncate", self._paths.get(fd)):
            self._raise()
        super().ftruncate(fd, length)

    def replace(self, src: Path, dst: Path) -> None:
        if self._hit("replace", str(dst)):
            self._raise()
        super().replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        if self._hit("fsync_dir", str(path)):
            self._raise()
        super().fsync_dir(path)


class NoSyncFS(FileSystem):
    """fsync does nothing: for tests whose subject is not durability (speed only)."""

    def fsync(self, fd: int) -> None:
        pass

    def fsync_dir(self, path: Path) -> None:
        pass


class SimulatedCrash(BaseException):
    """The process 'died' here. A BaseException so that no ``except Exception`` swallows it."""


_COUNTED = ("open", "pwrite", "fsync", "ftruncate", "replace", "fsync_dir")


class CrashFS(FileSystem):
    """Die (raise :class:`SimulatedCrash`) at the ``crash_at``-th counted operation; a
    ``pwrite`` chosen as the crash point first writes ``partial`` of its bytes. After the
    crash every counted operation raises again (a dead process does nothing more), while
    ``close``/``lock``/``unlock`` still work (the OS releases them at death)."""

    def __init__(
        self, crash_at: int | None = None, *, partial: float = 0.5, inner: FileSystem | None = None
    ) -> None:
        self.crash_at = crash_at
        self.partial = partial
        self.inner = inner or FileSystem()
        self.calls = 0
        self.crashed = False
        self.trace: list[str] = []

    def _step(self, op: str) -> bool:
        if self.crashed:
            raise SimulatedCrash(f"after the crash: {op}")
        self.calls += 1
        self.trace.append(op)
        return self.crash_at is not None and self.calls == self.crash_at

    def _die(self, op: str) -> None:
        self.crashed = True
        raise SimulatedCrash(f"crash at call {self.calls} ({op})")

    def open(self, path: Path, flags: int, mode: int = 0o644) -> int:
        if self._step("open"):
            self._die("open")
        return self.inner.open(path, flags, mode)

    def close(self, fd: int) -> None:
        self.inner.close(fd)

    def pwrite(self, fd: int, data: bytes | bytearray | memoryview, offset: int) -> int:
        if self._step("pwrite"):
            cut = int(len(data) * self.partial)
            if cut:
                self.inner.pwrite(fd, bytes(data[:cut]), offset)
            self._die("pwrite")
        return self.inner.pwrite(fd, data, offset)

    def fsync(self, fd: int) -> None:
        if self._step("fsync"):
            self._die("fsync")
        self.inner.fsync(fd)

    def ftruncate(self, fd: int, length: int) -> None:
        if self._step("ftruncate"):
            self._die("ftruncate")
        self.inner.ftruncate(fd, length)

    def fstat_size(self, fd: int) -> int:
        return self.inner.fstat_size(fd)

    def replace(self, src: Path, dst: Path) -> None:
        if self._step("replace"):
            self._die("replace")
        self.inner.replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        if self._step("fsync_dir"):
            self._die("fsync_dir")
        self.inner.fsync_dir(path)

    def lock(self, fd: int) -> None:
        self.inner.lock(fd)

    def unlock(self, fd: int) -> None:
        self.inner.unlock(fd)

    def boot_id(self) -> str | None:
        return self.inner.boot_id()


def abandon(ledger: object) -> None:
    """The process that owned ``ledger`` 'died': its object must not commit again (no timer
    tick, no commit at interpreter exit), as nothing runs after a real crash."""
    from ledger.writer import _LIVE

    ledger._closed = True  # type: ignore[attr-defined]
    ledger._wake.set()  # type: ignore[attr-defined]
    _LIVE.discard(ledger)  # type: ignore[arg-type]


class KillFS(CrashFS):
    """Like :class:`CrashFS`, but the crash is a real ``SIGKILL`` of this process."""

    def _die(self, op: str) -> None:
        os.kill(os.getpid(), signal.SIGKILL)


# ---------------------------------------------------------------------------- power loss


@dataclass
class _Inode:
    durable: bytes
    pending: list[tuple[str, int, bytes]] = field(default_factory=list)  # (op, offset|len, data)


@dataclass
class _Dir:
    durable: dict[str, int]
    pending: list[tuple[str, str, str | int]] = field(default_factory=list)


def _apply(content: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    data = bytearray(content)
    for op, at, payload in ops:
        if op == "write":
            if len(data) < at:
                data.extend(b"\x00" * (at - len(data)))
            data[at : at + len(payload)] = payload
        else:  # truncate
            del data[at:]
            if len(data) < at:
                data.extend(b"\x00" * (at - len(data)))
    return bytes(data)


class PowerLossFS(FileSystem):
    """Records which writes reached stable storage; :meth:`power_loss` rewinds the files.

    The model is the one POSIX promises: file contents are durable up to the last ``fsync`` of
    the file; names created or renamed in a directory are durable up to the last ``fsync`` of
    the directory. ``power_loss(mode="discard")`` drops every write that was not fsynced;
    ``mode="random"`` keeps, per file and per directory, a random prefix of the unsynced
    operations (the page cache wrote some back), the last one possibly torn. Then the boot id
    changes, as after a real restart. Directories are tracked from their first use; what was in
    them then counts as durable.
    """

    def __init__(self) -> None:
        self.inodes: dict[int, _Inode] = {}
        self.dirs: dict[str, _Dir] = {}
        self.fds: dict[int, tuple[int, str]] = {}
        self.boot = f"power-loss-fs-{uuid.uuid4()}"
        self.losses = 0
        self.fsyncs = 0

    # -- tracking
    def _dir(self, path: Path) -> _Dir:
        key = str(path)
        found = self.dirs.get(key)
        if found is None:
            names: dict[str, int] = {}
            for entry in os.scandir(path):
                if entry.is_file(follow_symlinks=False):
                    ino = entry.inode()
                    names[entry.name] = ino
                    if ino not in self.inodes:
                        self.inodes[ino] = _Inode(Path(entry.path).read_bytes())
            found = self.dirs[key] = _Dir(names)
        return found

    def open(self, path: Path, flags: int, mode: int = 0o644) -> int:
        path = Path(path)
        directory = self._dir(path.parent)
        existed = path.exists()
        fd = os.open(path, flags, mode)
        ino = os.fstat(fd).st_ino
        if not existed:
            self.inodes[ino] = _Inode(b"")
            directory.pending.append(("link", path.name, ino))
        elif ino not in self.inodes:
            self.inodes[ino] = _Inode(path.read_bytes() if not flags & os.O_TRUNC else b"")
        if existed and flags & os.O_TRUNC:
            self.inodes[ino].pending.append(("truncate", 0, b""))
        self.fds[fd] = (ino, str(path))
        return fd

    def close(self, fd: int) -> None:
        self.fds.pop(fd, None)
        os.close(fd)

    def pwrite(self, fd: int, data: bytes | bytearray | memoryview, offset: int) -> int:
        n = super().pwrite(fd, data, offset)
        if fd in self.fds:
            self.inodes[self.fds[fd][0]].pending.append(("write", offset, bytes(data)))
        return n

    def ftruncate(self, fd: int, length: int) -> None:
        super().ftruncate(fd, length)
        if fd in self.fds:
            self.inodes[self.fds[fd][0]].pending.append(("truncate", length, b""))

    def fsync(self, fd: int) -> None:
        super().fsync(fd)
        self.fsyncs += 1
        if fd in self.fds:
            inode = self.inodes[self.fds[fd][0]]
            inode.durable = _apply(inode.durable, inode.pending)
            inode.pending.clear()

    def replace(self, src: Path, dst: Path) -> None:
        src, dst = Path(src), Path(dst)
        if src.parent != dst.parent:  # pragma: no cover - the ledger renames within a folder
            raise ValueError("PowerLossFS models renames within one directory only")
        directory = self._dir(src.parent)
        super().replace(src, dst)
        directory.pending.append(("rename", src.name, dst.name))

    def fsync_dir(self, path: Path) -> None:
        directory = self._dir(Path(path))
        super().fsync_dir(path)
        directory.durable = _apply_dir(directory.durable, directory.pending)
        directory.pending.clear()

    def boot_id(self) -> str | None:
        return self.boot

    # -- the event
    def power_loss(self, mode: str = "discard", rng: random.Random | None = None) -> None:
        """Put every tracked file back as a power cut at this instant would leave it."""
        rng = rng or random.Random(0)
        contents: dict[int, bytes] = {}
        for ino, inode in self.inodes.items():
            ops = inode.pending
            if mode == "random" and ops:
                keep = rng.randint(0, len(ops))
                ops = ops[:keep]
                if keep < len(inode.pending) and inode.pending[keep][0] == "write":
                    op, at, payload = inode.pending[keep]
                    ops = [*ops, (op, at, payload[: rng.randint(0, len(payload))])]
            elif mode != "random":
                ops = []
            contents[ino] = _apply(inode.durable, ops)
        for key, directory in self.dirs.items():
            ops_dir = directory.pending
            if mode == "random" and ops_dir:
                ops_dir = ops_dir[: rng.randint(0, len(ops_dir))]
            elif mode != "random":
                ops_dir = []
            names = _apply_dir(directory.durable, ops_dir)
            root = Path(key)
            for entry in os.scandir(root):
                if entry.is_file(follow_symlinks=False) and entry.name not in names:
                    os.chmod(entry.path, 0o644)
                    os.unlink(entry.path)
            for name, ino in names.items():
                target = root / name
                if target.exists():
                    os.chmod(target, 0o644)
                target.write_bytes(contents.get(ino, b""))
        # after the restart: what is on disk now is durable; open descriptors are gone
        self.inodes.clear()
        self.dirs.clear()
        self.fds.clear()
        self.boot = f"power-loss-fs-{uuid.uuid4()}"
        self.losses += 1


def _apply_dir(names: dict[str, int], ops: list[tuple[str, str, str | int]]) -> dict[str, int]:
    out = dict(names)
    for op, a, b in ops:
        if op == "link":
            out[a] = int(b)
        elif op == "rename" and a in out:
            out[str(b)] = out.pop(a)
    return out
