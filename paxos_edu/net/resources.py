"""What a cluster holds outside Python, and how it is released (controller side).

Its key (bytes, or derived from a passphrase), its work directory (on /dev/shm when
there is one, so an fsync costs microseconds), the address each node binds (from a
parsed hosts.txt, one machine only for now) and the shutdown that stops every process
by pid, closes the switch and removes a temporary work directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..core.codec import key_from_passphrase, new_key
from .process import ProcessSet
from .switch import Switch


def cluster_key(key: bytes | str | None) -> bytes:
    """The cluster key: ``key`` itself (16 bytes or more), a passphrase's, or a random one."""
    if key is None:
        return new_key()
    if isinstance(key, str):
        return key_from_passphrase(key)
    if isinstance(key, (bytes, bytearray)) and len(key) >= 16:
        return bytes(key)
    raise ValueError("key: must be bytes (16 or more) or a passphrase string")


def make_workdir(workdir: str | os.PathLike | None) -> tuple[Path, bool]:
    """The directory for storage files and logs, and whether it is kept (named by the user)."""
    keep = workdir is not None
    path = Path(workdir) if keep else Path(tempfile.mkdtemp(prefix="paxos-edu-",
                                                            dir=_fast_tmp()))
    path.mkdir(parents=True, exist_ok=True)
    return path, keep


def _fast_tmp() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def bind_address(hosts: Any, uid: int) -> tuple[str, int]:
    """Where node ``uid`` listens: its ``hosts`` line if there is one, else 127.0.0.1 port 0."""
    if hosts is None:
        return ("127.0.0.1", 0)
    try:
        host, port = hosts.address(uid)
    except ValueError:
        return ("127.0.0.1", 0)  # a client proposed beyond the hosts file's 'cli' lines
    host = "127.0.0.1" if host == "localhost" else host
    if not host.startswith("127."):
        raise NotImplementedError(
            f"hosts: node {uid} is on {host}; nodes on other machines are not supported "
            "yet (every host must be 127.x.x.x or localhost)")
    return (host, port)


def shutdown(switch: Switch, procs: ProcessSet, workdir: Path, remove: bool) -> None:
    """Stop every process (by pid) and the switch; remove ``workdir`` if ``remove``."""
    # A weakref.finalize callback: it must not refer to the Cluster itself.
    procs.stop_all()
    switch.close()
    if remove:
        shutil.rmtree(workdir, ignore_errors=True)
