"""The file-system layer of the ledger: every OS call the ledger makes goes through here.

Keeping the calls in one object lets tests inject faults (ENOSPC, EIO, a power loss that drops
unsynced writes) without patching the ledger itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

__all__ = ["FileSystem", "fsync_dir", "lock_fd", "unlock_fd"]

_fcntl: ModuleType | None
_msvcrt: ModuleType | None
try:  # POSIX: advisory whole-file locks
    import fcntl as _fcntl
except ImportError:  # Windows has no fcntl: byte-range locks through msvcrt
    _fcntl = None
try:
    import msvcrt as _msvcrt
except ImportError:
    _msvcrt = None


def lock_fd(fd: int, *, blocking: bool = True) -> bool:
    """Take the exclusive lock of the open file ``fd`` (``flock`` on POSIX; on Windows,
    ``msvcrt.locking`` of its first byte). Returns False only when ``blocking`` is False and
    another process holds it. Closing the descriptor (or :func:`unlock_fd`) releases it."""
    if _fcntl is not None:
        try:
            _fcntl.flock(fd, _fcntl.LOCK_EX | (0 if blocking else _fcntl.LOCK_NB))
        except BlockingIOError:
            return False
        return True
    if _msvcrt is None:
        raise OSError("this platform offers neither fcntl nor msvcrt file locks")
    os.lseek(fd, 0, os.SEEK_SET)
    while True:
        try:
            _msvcrt.locking(fd, _msvcrt.LK_LOCK if blocking else _msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            if not blocking:
                return False
            # LK_LOCK gives up after about ten seconds; a writer may hold it longer: wait on


def unlock_fd(fd: int) -> None:
    """Release the lock :func:`lock_fd` took on ``fd``."""
    if _fcntl is not None:
        _fcntl.flock(fd, _fcntl.LOCK_UN)
        return
    if _msvcrt is None:
        raise OSError("this platform offers neither fcntl nor msvcrt file locks")
    os.lseek(fd, 0, os.SEEK_SET)
    _msvcrt.locking(fd, _msvcrt.LK_UNLCK, 1)


class FileSystem:
    """Thin wrappers over ``os``; subclass to inject faults."""

    def open(self, path: Path, flags: int, mode: int = 0o644) -> int:
        return os.open(path, flags, mode)

    def close(self, fd: int) -> None:
        os.close(fd)

    def pwrite(self, fd: int, data: bytes | bytearray | memoryview, offset: int) -> int:
        view = memoryview(data)
        written = 0
        while written < len(view):
            n = os.pwrite(fd, view[written:], offset + written)
            if n <= 0:
                raise OSError("short write")
            written += n
        return written

    def fsync(self, fd: int) -> None:
        os.fsync(fd)

    def ftruncate(self, fd: int, length: int) -> None:
        os.ftruncate(fd, length)

    def fstat_size(self, fd: int) -> int:
        return os.fstat(fd).st_size

    def replace(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        fsync_dir(path)

    def lock(self, fd: int) -> None:
        lock_fd(fd)

    def unlock(self, fd: int) -> None:
        unlock_fd(fd)

    def boot_id(self) -> str | None:
        """An id that changes when the machine restarts (None when the OS has none).

        Only an OS crash or power loss can drop writes that were not fsynced; recovery uses
        this to tell such a loss (a restart happened since the head was published) from
        damage (no restart: the bytes must still be there)."""
        return _BOOT_ID


def _read_boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


_BOOT_ID = _read_boot_id()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
