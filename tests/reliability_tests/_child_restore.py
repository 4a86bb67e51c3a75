"""A restore process for the kill tests: restores a backup and SIGKILLs itself right after its
``KILL_AT``-th file-system call (rename, replace, link, unlink, rmdir, mkdir, fsync, or a
directory exchange). ``KILL_AT`` 0: no kill; the number of calls made is printed at the end
(``calls <n>``), and each call's name on stderr (``op <i> <name> <path>``).

Usage: ``python _child_restore.py WORKSPACE BACKUP_DIR TARGET KILL_AT STRATEGY`` where
STRATEGY is ``exchange`` (atomic directory exchange, where the OS has it) or ``renames``
(the three-rename fallback).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

_CALLS = 0
_KILL_AT = 0


def _counted(name: str, func: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _CALLS
        result = func(*args, **kwargs)
        _CALLS += 1
        where = str(args[0]) if args else ""
        sys.stderr.write(f"op {_CALLS} {name} {where}\n")
        if _CALLS == _KILL_AT:
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    return wrapper


def main() -> None:
    global _KILL_AT
    workspace, backup, target, kill_at, strategy = sys.argv[1:6]
    _KILL_AT = int(kill_at)

    from contexta.config import resolve_config
    from contexta.recovery import plan_restore, restore_workspace
    from contexta.recovery import restore as restore_module

    for name in ("rename", "replace", "link", "unlink", "rmdir", "mkdir", "fsync"):
        setattr(os, name, _counted(name, getattr(os, name)))
    if hasattr(restore_module, "exchange"):
        if strategy == "renames":
            restore_module.exchange = lambda a, b: False  # type: ignore[attr-defined]
        else:
            restore_module.exchange = _counted("exchange", restore_module.exchange)  # type: ignore[attr-defined]
    config = resolve_config(None, workspace=workspace)
    plan = plan_restore(config, backup, target_workspace=target)
    restore_workspace(config, plan)
    print(f"calls {_CALLS}", flush=True)


if __name__ == "__main__":
    main()
