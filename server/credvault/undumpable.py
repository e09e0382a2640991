"""Keeps the server's memory, which holds Vault tokens and callers' credentials, to itself: no core
dump, and no ptrace or /proc/<pid>/mem reading by other processes of the same user."""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_PR_SET_DUMPABLE = 4


def make_undumpable() -> None:
    """prctl(PR_SET_DUMPABLE, 0) on Linux; elsewhere a warning that it was not done."""
    if not sys.platform.startswith("linux"):
        log.warning("could not make the process undumpable: not Linux")
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        log.warning("could not make the process undumpable (errno %d)", ctypes.get_errno())
