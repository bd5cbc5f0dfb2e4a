"""The loaded model kept out of Python's full garbage collections (``gc.freeze``).

A Rasa worker holds about 700,000 Python objects once its model is loaded
(TensorFlow and Keras, spaCy's vocabulary, the domain). Every full
(generation 2) collection walks all of them with the event loop stopped:
about 0.2 s, every 8 to 10 s at 10 customers (the caches of trackers,
states and parses keep adding long-lived objects), so every turn waiting then
takes a fifth of a second longer, and the collections cost about 3% of the
worker's CPU (bench/RESULTS.md).

After a model is loaded, :func:`refreeze` collects the garbage of the load
and moves every object still alive to the permanent generation
(``gc.freeze``), which collections skip. Objects made later (trackers,
replies) are collected as before; frozen objects are still freed by
reference counting, only their cycles wait for the next :func:`unfreeze`.

Why the freeze waits: ``PUT /model`` (``make reload``) loads the new model
while Rasa still holds the old agent, and swaps them afterwards. Freezing at
that moment would freeze the old model too, and its cycles (Keras layers
point at their models and back) would never be collected: a leaked model per
reload. So every load first unfreezes, and the freeze happens only once the
model just loaded is the only one alive in the process. The check runs a few
times after the load (:data:`RETRY_DELAYS`), on the event loop; if another
model is still alive after the last try (a process that keeps two on purpose),
nothing is frozen and collections simply walk everything, as in stock Rasa.

``KEFU_GC_FREEZE=0`` turns it off. Installed by bot/runner/rasa_main.py, so
only the Rasa server process has it (tests and scripts that load a model
keep Python's usual collections).
"""
from __future__ import annotations

import asyncio
import gc
import logging
import weakref
from typing import Any, Callable, List, Optional, Sequence

from core.switches import switch

logger = logging.getLogger(__name__)

ENV = "KEFU_GC_FREEZE"
#: collection thresholds while installed (Python's are 700, 10, 10). A young-generation collection every
#: 50,000 net allocations instead of 700: most objects of a turn die by reference counting before it
#: comes, so far fewer survive into the older generations, and the full collections that still
#: walk every tracker and parse kept in the caches become rare
THRESHOLDS = (50_000, 20, 100)
#: seconds after a load at which the freeze is tried, each try waiting for the previous model to be gone
RETRY_DELAYS: Sequence[float] = (0.5, 2.0, 8.0, 30.0)

_rasa_load_model: Optional[Callable[..., None]] = None
_python_thresholds: Optional[tuple] = None
#: the processors (loaded models) of this process, newest last; dead references are dropped as found
_processors: List["weakref.ReferenceType[Any]"] = []


def enabled() -> bool:
    return switch(ENV)


def models_alive() -> int:
    """How many of the models loaded in this process are still referenced."""
    _processors[:] = [ref for ref in _processors if ref() is not None]
    return len(_processors)


def unfreeze() -> None:
    """Everything frozen goes back to the oldest generation, to be collected as usual."""
    gc.unfreeze()


def refreeze() -> bool:
    """Collect, then freeze what is alive, if at most one loaded model is; True if frozen.

    The collection comes first so the garbage of the load (and any model
    dropped since) is freed, not frozen.
    """
    gc.collect()
    if models_alive() > 1:
        return False
    gc.freeze()
    return True


def _try_freeze(loop: asyncio.AbstractEventLoop, delays: Sequence[float]) -> None:
    if refreeze():
        logger.debug("model frozen out of garbage collection: %d objects", gc.get_freeze_count())
        return
    if delays:
        loop.call_later(delays[0], _try_freeze, loop, delays[1:])
    else:
        logger.info("an earlier model is still referenced: objects stay in Python's usual collections")


def after_load(processor: Any) -> None:
    """Record ``processor`` and freeze once it is the only model alive (soon, on the event loop, if one runs)."""
    _processors.append(weakref.ref(processor))
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no event loop (a script): the caller holds no other agent it is about to drop
        refreeze()
        return
    loop.call_later(RETRY_DELAYS[0], _try_freeze, loop, RETRY_DELAYS[1:])


def _load_model(self: Any, model_path: Any, fingerprint: Optional[str] = None) -> None:
    unfreeze()  # so the model being replaced can be collected once Rasa drops it
    assert _rasa_load_model is not None
    _rasa_load_model(self, model_path, fingerprint)
    after_load(self.processor)


def install() -> None:
    """Every model loaded from now on by ``Agent.load_model`` is frozen after its load (idempotent)."""
    global _rasa_load_model, _python_thresholds
    if _rasa_load_model is not None or not enabled():
        return
    # here, not at the top: rasa.core.agent imports TensorFlow (seconds); only the Rasa server installs this
    from rasa.core.agent import Agent

    _rasa_load_model = Agent.load_model
    Agent.load_model = _load_model  # type: ignore[method-assign]
    _python_thresholds = gc.get_threshold()
    gc.set_threshold(*THRESHOLDS)


def uninstall() -> None:
    """Back to Rasa's own ``load_model``, nothing frozen (tests)."""
    global _rasa_load_model, _python_thresholds
    if _rasa_load_model is None:
        return
    from rasa.core.agent import Agent  # here, not at the top: see install()

    Agent.load_model = _rasa_load_model  # type: ignore[method-assign]
    _rasa_load_model = None
    if _python_thresholds is not None:
        gc.set_threshold(*_python_thresholds)
        _python_thresholds = None
    _processors.clear()
    gc.unfreeze()
