"""A node's stable storage: one JSON file, replaced atomically, fsynced before anything is sent.

``write(path, data)`` writes a temporary file, fsyncs it and ``os.replace``s the real
one, so a crash at any instant leaves either the old or the new state, never half of
one. The endpoint calls it for a ``Persist`` effect before performing the next
effect, which is how an acceptor's promise reaches the disk before its Ack leaves.
"""

from __future__ import annotations

import json
import os
from typing import Any


def write(path: str, data: dict[str, Any]) -> None:
    """Replace the file at ``path`` with ``data`` as JSON: temp file, fsync, os.replace."""
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(data, separators=(",", ":")).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read(path: str) -> dict[str, Any] | None:
    """What the file at ``path`` holds, or None if there is none.

    A file that is not a JSON object raises ValueError: starting empty instead would
    silently turn a damaged acceptor into one with amnesia.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: stable storage is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: stable storage is not a JSON object")
    return data
