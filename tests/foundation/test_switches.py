"""The on/off settings (core/switches.py): one reading for all four, and a typo stops the start."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.dialogue import lean_load, local_actions
from bot.runner import gc_freeze
from bot.runner.stack_process import StackProcess
from core.switches import SWITCHES, SwitchError, switch
from tests.live import refused_start


@pytest.mark.parametrize("raw", ["0", "false", "FALSE", "no", "Off", " off "])
def test_every_spelling_of_off_turns_a_speed_up_off(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SWITCHES:
        monkeypatch.setenv(name, raw)
    assert not gc_freeze.enabled()
    assert not lean_load.enabled()
    assert not local_actions.enabled()
    assert all(not switch(name) for name in SWITCHES)


@pytest.mark.parametrize("raw", ["1", "true", "Yes", "ON", ""])
def test_on_and_unset_keep_it_on(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SWITCHES:
        monkeypatch.setenv(name, raw)
    assert gc_freeze.enabled() and lean_load.enabled() and local_actions.enabled()
    assert switch("KEFU_NOT_SET_ANYWHERE", default=False, environ={}) is False


@pytest.mark.parametrize("raw", ["flase", "2", "disable", "o"])
def test_a_value_that_is_neither_is_refused_with_its_name(raw: str) -> None:
    with pytest.raises(SwitchError, match="KEFU_GC_FREEZE") as caught:
        switch("KEFU_GC_FREEZE", environ={"KEFU_GC_FREEZE": raw})
    assert repr(raw) in str(caught.value)


def test_the_stack_refuses_a_mistyped_switch_in_one_line(tmp_path: Path) -> None:
    line = refused_start(StackProcess.free_env(tmp_path, KEFU_PLAIN_GRAPH_RUNNER="flase"))
    assert "KEFU_PLAIN_GRAPH_RUNNER='flase'" in line
