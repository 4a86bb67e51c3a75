"""A workspace that refuses writes, simulated inside the process: read-only or full.

Tests run as root in CI, and root ignores file modes (``chmod a-w`` binds nobody), while a
read-only bind mount or ``chattr +i`` needs privileges and file systems CI does not promise. So
the refusal is injected where Python reaches the operating system: every ``os`` call that
creates, writes, renames, removes or changes a file, and ``open()`` in a writing mode, raises
``OSError(errno)`` when its path lies under the denied root. Reads go through untouched.

- ``EROFS`` (read-only file system): any write under the root fails at once, as on a
  read-only mount; the same holds for ``EACCES`` (a directory the user may not write).
- ``ENOSPC`` (full disk): opening existing files and renaming work, as on a real full disk;
  creating a directory, writing bytes (``os.write``/``pwrite``/``writev``/``sendfile``) and
  opening a file for writing through ``open()`` fail.

Every Python write path of the project goes through these calls (the ledger and projection
stores through ``ledger.fs.FileSystem``, which calls ``os``; backups, restores and artifacts
through ``open``/``shutil``/``pathlib``, which call ``open`` and ``os``); Arrow writes only to
memory buffers. This module imports nothing of the project, so a child process can install it.
"""

from __future__ import annotations

import builtins
import errno as errno_mod
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["deny_writes"]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_CALLS = ("mkdir", "rmdir", "unlink", "remove", "chmod", "utime", "truncate", "mkfifo")
_TWO_PATH_CALLS = ("rename", "replace", "link", "symlink")
_FD_WRITES = ("write", "pwrite", "writev", "pwritev")


def _fd_path(fd: int) -> str | None:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


@contextmanager
def deny_writes(root: Path | str, err: int) -> Iterator[list[str]]:
    """Within the block, writes under ``root`` raise ``OSError(err)``. Yields the list of the
    refused calls (``"name path"``), so a test can see the refusal was exercised."""
    base = os.path.realpath(root)
    refused: list[str] = []
    saved: dict[tuple[Any, str], Any] = {}

    def under(path: Any, dir_fd: int | None = None) -> bool:
        if isinstance(path, int):
            text = _fd_path(path)
        else:
            try:
                text = os.fsdecode(path)
            except TypeError:
                return False
            if dir_fd is not None and not os.path.isabs(text):
                parent = _fd_path(dir_fd)
                text = os.path.join(parent, text) if parent else text
        if text is None:
            return False
        full = (
            os.path.realpath(os.path.abspath(text))
            if os.path.lexists(text)
            else (
                os.path.join(
                    os.path.realpath(os.path.dirname(os.path.abspath(text))), os.path.basename(text)
                )
            )
        )
        return full == base or full.startswith(base + os.sep)

    def refuse(name: str, path: Any) -> None:
        refused.append(f"{name} {path}")
        raise OSError(
            err,
            os.strerror(err),
            os.fsdecode(path) if not isinstance(path, int) else _fd_path(path),
        )

    def patch(module: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(module, name, None)
        if original is None:
            return
        saved[(module, name)] = original
        setattr(module, name, make(original))

    full_disk = err in (errno_mod.ENOSPC, errno_mod.EDQUOT)
    denied_fds: set[int] = set()

    def wrap_open(original: Any) -> Any:
        def os_open(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
            if flags & _WRITE_FLAGS and under(path, dir_fd):
                creating = flags & os.O_CREAT and not os.path.exists(path)
                if not full_disk or creating:
                    refuse("open", path)
                fd = original(path, flags, mode, dir_fd=dir_fd)
                denied_fds.add(fd)
                return fd
            return original(path, flags, mode, dir_fd=dir_fd)

        return os_open

    def wrap_path_call(name: str) -> Callable[[Any], Any]:
        def make(original: Any) -> Any:
            def call(path: Any, *args: Any, **kwargs: Any) -> Any:
                deny = not full_disk or name == "mkdir"
                if deny and under(path, kwargs.get("dir_fd")):
                    refuse(name, path)
                return original(path, *args, **kwargs)

            return call

        return make

    def wrap_two_paths(name: str) -> Callable[[Any], Any]:
        def make(original: Any) -> Any:
            def call(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
                if not full_disk and (
                    under(src, kwargs.get("src_dir_fd")) or under(dst, kwargs.get("dst_dir_fd"))
                ):
                    refuse(name, dst)
                return original(src, dst, *args, **kwargs)

            return call

        return make

    def wrap_fd_write(name: str) -> Callable[[Any], Any]:
        def make(original: Any) -> Any:
            def call(fd: int, *args: Any, **kwargs: Any) -> Any:
                if fd in denied_fds or (full_disk and under(fd)):
                    refuse(name, fd)
                return original(fd, *args, **kwargs)

            return call

        return make

    def wrap_sendfile(original: Any) -> Any:
        def call(out_fd: int, in_fd: int, *args: Any, **kwargs: Any) -> Any:
            if out_fd in denied_fds or under(out_fd):
                refuse("sendfile", out_fd)
            return original(out_fd, in_fd, *args, **kwargs)

        return call

    def wrap_builtin_open(original: Any) -> Any:
        def call(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            writing = any(flag in mode for flag in "wax+")
            if writing and not isinstance(file, int) and under(file):
                refuse("open", file)
            return original(file, mode, *args, **kwargs)

        return call

    patch(os, "open", wrap_open)
    for name in _PATH_CALLS:
        patch(os, name, wrap_path_call(name))
    for name in _TWO_PATH_CALLS:
        patch(os, name, wrap_two_paths(name))
    for name in _FD_WRITES:
        patch(os, name, wrap_fd_write(name))
    patch(os, "sendfile", wrap_sendfile)
    patch(os, "copy_file_range", wrap_sendfile)
    patch(builtins, "open", wrap_builtin_open)
    patch(io, "open", wrap_builtin_open)
    try:
        yield refused
    finally:
        for (module, name), original in saved.items():
            setattr(module, name, original)
