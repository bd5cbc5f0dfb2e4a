"""The process-level rules on their own, without a stack (seconds, not minutes):
CORS origins, data dir modes, the Rasa launcher, the action server's check."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import List

import pytest

from actions.server import bearer, token_check
from bot.runner.hardening import UnsafeSetting, cors_origins, make_private, open_modes
from bot.runner.rasa_main import LaunchError, argv_with_token
from bot.runner.stack_process import StackProcess
from core.secrets import private_write, stored_secret
from tests.live import refused_start


# ---- CORS origins ----------------------------------------------------------------------------

def test_default_origin_is_the_bridge_in_both_loopback_spellings() -> None:
    assert cors_origins("", "127.0.0.1", 5006) == ("http://127.0.0.1:5006", "http://localhost:5006")
    assert cors_origins("  ", "localhost", 7000) == ("http://127.0.0.1:7000", "http://localhost:7000")
    assert cors_origins("", "10.1.2.3", 5006) == ("http://10.1.2.3:5006",)


def test_configured_origins_are_taken_as_given() -> None:
    raw = " https://kefu.example.com , http://127.0.0.1:8080/ ,"
    assert cors_origins(raw, "127.0.0.1", 5006) == ("https://kefu.example.com", "http://127.0.0.1:8080")


@pytest.mark.parametrize("raw", ["*", "http://*.example.com", "kefu.example.com", "ftp://x", "http://x/path",
                                 "http://x:notaport", "http://user@x", "https://ok.example,*"])
def test_anything_but_plain_origins_is_refused(raw: str) -> None:
    with pytest.raises(UnsafeSetting, match="KEFU_CORS_ORIGINS"):
        cors_origins(raw, "127.0.0.1", 5006)


def test_stack_refuses_a_wildcard_origin_in_one_line(tmp_path: Path) -> None:
    assert "KEFU_CORS_ORIGINS" in refused_start(StackProcess.free_env(tmp_path, KEFU_CORS_ORIGINS="*"))


# ---- data dir modes --------------------------------------------------------------------------

def test_make_private_closes_what_an_older_run_left_open(tmp_path: Path) -> None:
    data = tmp_path / "var"
    (data / "redis").mkdir(parents=True)
    (data / "redis" / "appendonly.aof").write_text("*1\r\n")
    (data / "orders.sqlite3").write_text("")
    for path, mode in ((data, 0o755), (data / "redis", 0o755), (data / "redis" / "appendonly.aof", 0o644),
                       (data / "orders.sqlite3", 0o664)):
        path.chmod(mode)
    outside = tmp_path / "shared.txt"
    outside.write_text("not ours to change")
    outside.chmod(0o644)
    (data / "link").symlink_to(outside)
    elsewhere_db = tmp_path / "orders-elsewhere.sqlite3"
    elsewhere_db.write_text("")
    elsewhere_db.chmod(0o644)

    make_private(data, [elsewhere_db, tmp_path / "missing.sqlite3"])

    assert open_modes(data) == []
    assert stat.S_IMODE((data / "redis" / "appendonly.aof").stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "orders.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE(elsewhere_db.stat().st_mode) == 0o600
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644  # a symlink is not followed


def test_a_shared_sticky_dir_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(UnsafeSetting, match="KEFU_DATA_DIR"):
        make_private(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777


def test_secrets_are_created_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        token = stored_secret(tmp_path / "fresh", "action_token")
        private_write(tmp_path / "demo.txt", "demo1: x\n")
    finally:
        os.umask(old)
    assert token and stat.S_IMODE((tmp_path / "fresh" / "action_token.secret").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "demo.txt").stat().st_mode) == 0o600


# ---- the Rasa launcher -----------------------------------------------------------------------

def test_launcher_adds_the_token_as_one_item() -> None:
    argv = ["run", "--enable-api", "--port", "5005"]
    assert argv_with_token(argv, "-starts-with-dash") == [*argv, "--auth-token=-starts-with-dash"]


@pytest.mark.parametrize("argv", [["run", "--auth-token", "x"], ["run", "--auth-token=x"]])
def test_launcher_refuses_a_token_on_the_command_line(argv: List[str]) -> None:
    with pytest.raises(LaunchError, match="KEFU_RASA_TOKEN"):
        argv_with_token(argv, "t")


def test_launcher_refuses_an_open_api() -> None:
    with pytest.raises(LaunchError, match="KEFU_RASA_TOKEN"):
        argv_with_token(["run", "--enable-api"], "")
    assert argv_with_token(["run"], "") == ["run"]


# ---- the action server's check ---------------------------------------------------------------

def test_bearer_reads_only_bearer_headers() -> None:
    assert bearer("Bearer abc") == "abc"
    assert bearer("bearer  abc ") == "abc"
    assert bearer("Basic abc") == ""
    assert bearer("") == ""


def test_an_empty_action_token_is_refused() -> None:
    with pytest.raises(ValueError, match="KEFU_ACTION_TOKEN"):
        token_check("")
