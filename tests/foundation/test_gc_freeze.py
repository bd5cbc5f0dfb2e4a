"""bot/runner/gc_freeze.py: the loaded model is frozen out of full collections,
and a model swap (``make reload``) does not keep the old model alive."""
from __future__ import annotations

import gc
import json
import subprocess
import sys
from typing import Any, Dict, Iterator

import pytest

from bot.runner import gc_freeze
from core.paths import ROOT

#: a Rasa server's life in miniature, in its own process (clean collector, honest object counts):
#: the model loaded on the event loop, then a second one loaded while the first is still
#: held (what PUT /model does), then the first dropped (the swap)
SWAP = """
import asyncio, gc, json, types, weakref
from bot.runner import gc_freeze
from tests.model import load

gc_freeze.RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)
gc_freeze.install()

def objects():
    gc.collect()
    return len(gc.get_objects()) + gc.get_freeze_count()

async def main():
    out = {"thresholds": list(gc.get_threshold())}
    base = objects()
    # the agent lives where Rasa keeps it (app.ctx.agent), not in a local of this long-lived frame
    # (frames inspected by TensorFlow keep a copy of their locals)
    ctx = types.SimpleNamespace(agent=load())
    await asyncio.sleep(1.0)
    out["frozen_after_first_load"] = gc.get_freeze_count()
    out["one_model"] = objects() - base
    gone = weakref.ref(ctx.agent.processor)
    new_agent = load()  # the old agent still in ctx while the new one loads
    await asyncio.sleep(0.8)
    out["frozen_while_two_models"] = gc.get_freeze_count()
    ctx.agent = new_agent
    del new_agent
    await asyncio.sleep(2.5)
    out["frozen_after_swap"] = gc.get_freeze_count()
    out["old_model_collected"] = gone() is None
    out["after_swap"] = objects() - base
    return out

print("RESULT " + json.dumps(asyncio.run(main())))
"""


@pytest.fixture(scope="module")
def swap() -> Dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", SWAP], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    line = [row for row in done.stdout.splitlines() if row.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def test_the_loaded_model_is_frozen_out_of_collections(swap: Dict[str, Any]) -> None:
    assert swap["frozen_after_first_load"] > 0.8 * swap["one_model"] > 100_000
    assert swap["thresholds"] == list(gc_freeze.THRESHOLDS)


def test_nothing_is_frozen_while_rasa_still_holds_the_model_it_replaces(swap: Dict[str, Any]) -> None:
    assert swap["frozen_while_two_models"] == 0


def test_a_swapped_out_model_is_collected_and_the_new_one_frozen(swap: Dict[str, Any]) -> None:
    assert swap["old_model_collected"]
    # one model's objects alive, not two (a leaked model would double them)
    assert swap["after_swap"] < 1.3 * swap["one_model"]
    assert swap["frozen_after_swap"] > 0.8 * swap["one_model"]


@pytest.fixture()
def restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc_freeze.uninstall()
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_off_leaves_rasa_and_python_alone(monkeypatch: pytest.MonkeyPatch, restored: None) -> None:
    from rasa.core.agent import Agent  # here, not at the top: it imports TensorFlow, which the swap test runs apart

    monkeypatch.setenv(gc_freeze.ENV, "0")
    rasa_load_model = Agent.load_model
    thresholds = gc.get_threshold()
    gc_freeze.install()
    assert Agent.load_model is rasa_load_model
    assert gc.get_threshold() == thresholds


def test_uninstall_gives_back_rasas_load_and_pythons_thresholds(monkeypatch: pytest.MonkeyPatch, restored: None) -> None:
    from rasa.core.agent import Agent  # here, not at the top: see test_off_leaves_rasa_and_python_alone

    monkeypatch.delenv(gc_freeze.ENV, raising=False)
    rasa_load_model = Agent.load_model
    thresholds = gc.get_threshold()
    gc_freeze.install()
    gc_freeze.install()  # idempotent
    assert Agent.load_model is not rasa_load_model
    assert gc.get_threshold() == gc_freeze.THRESHOLDS
    gc_freeze.uninstall()
    assert Agent.load_model is rasa_load_model
    assert gc.get_threshold() == thresholds
