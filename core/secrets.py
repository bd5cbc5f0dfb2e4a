"""Secrets kept on disk: generated once, readable by their owner only.

The stack's shared tokens (internal, action server, Rasa API, customer JWT key,
the embedded Redis's password) are files under the data dir
(``KEFU_DATA_DIR``), never environment variables on a command line and never logs.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def private_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600).

    Created with mode 0600 by ``os.open``, not chmod-ed afterwards: no moment
    where another local user could read it. An existing file is truncated
    and its mode tightened too.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)


def stored_secret(directory: Path, name: str) -> str:
    """A random token kept under the data dir (same files as bot/runner/stack.py)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{name}.secret"
    if not path.exists():
        private_write(path, secrets.token_urlsafe(24))
    return path.read_text().strip()


def demo_tokens_path(directory: Path) -> Path:
    """Where the bridge leaves the demo agents' tokens for `make run` to print.

    A 0600 file in the data dir, never a log: logs get copied and shared.
    """
    return directory / "demo_agents.txt"
