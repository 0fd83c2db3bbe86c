"""A node's stable storage: one JSON file, replaced atomically, fsynced before anything is sent.

``write(path, data)`` writes a temporary file, fsyncs it, ``os.replace``s the real one and
fsyncs the directory (so the rename itself survives a power cut): a crash at any instant
leaves either the old or the new state, never half of one. The endpoint calls it for a
``Persist`` effect before performing the next effect, which is how an acceptor's promise
reaches the disk before its Ack leaves.

``load(path, ...)`` is how a node (and a controller, before it starts one) reads a state
file: a file that is empty, torn, of the wrong shape or wrongly typed raises ``StateError``
naming the file and the field (``core.stored``), and so does a missing file when one was
``expected`` (a restart of a node that had persisted). Nothing is ever silently forgotten.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..core.stored import StateError, parse_state


def write(path: str, data: dict[str, Any]) -> None:
    """Replace the file at ``path`` with ``data`` as JSON: temp file, fsync, os.replace, fsync dir."""
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(data, separators=(",", ":")).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path) or ".")


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # e.g. a platform that cannot open directories: the file itself is synced
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; nothing more to do there
    finally:
        os.close(fd)


def _text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise StateError(f"{path}: is a directory, not a state file") from None
    except UnicodeDecodeError as exc:
        raise StateError(f"{path}: the state file is damaged (byte {exc.start} is not "
                         "UTF-8 text)") from None
    except OSError as exc:
        raise StateError(f"{path}: cannot read the state file ({exc.strerror or exc})") from None


def read(path: str) -> dict[str, Any] | None:
    """What the file at ``path`` holds, or None if there is none.

    A file that is not a JSON object raises ValueError: starting empty instead would
    silently turn a damaged acceptor into one with amnesia.
    """
    text = _text(path)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateError(f"{path}: stable storage is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise StateError(f"{path}: stable storage is not a JSON object")
    return data


def load(path: str, config: Any = None, expected: bool = False,
         amnesia: bool = False) -> dict[str, Any] | None:
    """The validated state at ``path`` (``core.stored``), or None if there is none.

    A missing file raises StateError when one was ``expected``; a file written under
    another configuration (``config`` given) too. With ``amnesia`` (forgetting on
    purpose) the ``paxos`` fields are not checked, since they will be dropped.
    """
    text = _text(path)
    if text is None:
        if expected:
            raise StateError(f"{path}: the state file is missing, but this node had persisted "
                             "its state (without it, the node would come back with no role); "
                             "restore the file")
        return None
    return parse_state(text, path, config, amnesia)
