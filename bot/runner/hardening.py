"""Process-level protections `make run` applies (README, "Security model").

Kept apart from bot/runner/stack.py so each rule is small, typed and tested on its
own (tests/security/test_hardening.py): which browser origins may call Rasa
with credentials, and who may read the data dir (secrets, logs, Redis AOF,
the orders DB).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable, List, Tuple
from urllib.parse import urlparse

#: what the stack and its children create is theirs alone (files 0600, dirs 0700)
PRIVATE_UMASK = 0o077
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


class UnsafeSetting(ValueError):
    """A setting that would open something up; the message says what to fix."""


def _origin(item: str) -> str:
    """``item`` if it is a bare ``http(s)://host[:port]`` origin, else UnsafeSetting."""
    parsed = urlparse(item)
    try:
        _ = parsed.port  # raises ValueError for a port that is not one
        valid = (
            parsed.scheme in ("http", "https") and bool(parsed.hostname) and "*" not in item
            and not (parsed.path or parsed.query or parsed.fragment or parsed.username)
        )
    except ValueError:
        valid = False
    if not valid:
        raise UnsafeSetting(
            f"KEFU_CORS_ORIGINS 中的 {item!r} 不是来源 (origin): 应为 http(s)://host[:port], 逗号分隔, 不允许 *"
        )
    return item


def cors_origins(raw: str, host: str, handoff_port: int) -> Tuple[str, ...]:
    """The origins Rasa's CORS allows: KEFU_CORS_ORIGINS, else the bridge's own.

    Rasa's CORS always sends ``Access-Control-Allow-Credentials: true``, so
    ``*`` (which sanic_cors turns into reflecting any origin) is refused, not
    passed on. The default is the origin of the chat page the bridge serves
    (http://KEFU_HOST:KEFU_HANDOFF_PORT), in both loopback spellings.
    """
    items = [part.strip().rstrip("/") for part in raw.split(",")]
    origins = [_origin(item) for item in items if item]
    if origins:
        return tuple(origins)
    names: List[str] = list(LOOPBACK_NAMES) if host in LOOPBACK_NAMES else [host]
    return tuple(f"http://{name}:{handoff_port}" for name in names)


def make_private(data: Path, extra: Iterable[Path] = ()) -> None:
    """The data dir 0700, and nothing in it (or in ``extra``) open to group or others.

    The umask covers what is created from now on; this fixes what an earlier
    run, ``make seed`` or an older version left behind. Symlinks are left
    alone (chmod would follow them out of the data dir). A shared sticky
    directory such as /tmp is refused: making it 0700 would break the machine.
    """
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    if data.stat().st_mode & stat.S_ISVTX:
        raise UnsafeSetting(f"KEFU_DATA_DIR={data} 是共享目录 (sticky, e.g. /tmp): 请用专用目录")
    data.chmod(0o700)
    inside = [Path(root) / name for root, dirs, files in os.walk(data) for name in dirs + files]
    for path in [*inside, *extra]:
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o077:
            path.chmod(stat.S_IMODE(info.st_mode) & 0o700)


def open_modes(data: Path) -> List[str]:
    """Everything under ``data`` (itself included) that group or others can access."""
    paths = [data, *(Path(root) / n for root, dirs, files in os.walk(data) for n in dirs + files)]
    found = []
    for path in paths:
        info = path.lstat()
        if not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o077:
            found.append(f"{path} {stat.filemode(info.st_mode)}")
    return found
