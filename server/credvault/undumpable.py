"""Keeps the server's memory, which holds Vault tokens and callers' credentials, to itself: no core
dump, and no ptrace or /proc/<pid>/mem reading by other processes of the same user.

prctl(PR_SET_DUMPABLE, 0) covers this process (and forks) but not a new program it starts (workers are
spawned, OpenBao and multiprocessing's helper are other programs); a core-size limit of 0, which every
child inherits, keeps those from dumping core too."""

from __future__ import annotations

import ctypes
import logging
import resource
import sys

log = logging.getLogger(__name__)

_PR_SET_DUMPABLE = 4


def make_undumpable() -> None:
    """prctl(PR_SET_DUMPABLE, 0) on Linux, and no core files for this process or any it starts."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if not sys.platform.startswith("linux"):
        log.warning("could not make the process undumpable: not Linux")
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        log.warning("could not make the process undumpable (errno %d)", ctypes.get_errno())
