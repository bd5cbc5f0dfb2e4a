"""Custom actions that survive a restarting action server: retry within the turn, then apologise.

Rasa 3.6's ``RemoteAction.run`` raises when the action server cannot be
reached; the processor logs it, drops the action's events and predicts on,
so a customer whose message was in flight got the fallback
("可能我没理解清楚") while the supervisor (bot/runner/supervisor.py) was bringing
the action server back.

:func:`install` wraps ``RemoteAction.run``: while the action server is
unreachable (connection refused or dropped, 502/503/504), the call is
retried with a short back-off (0.25 s doubling to 2 s) for up to
``KEFU_ACTION_RETRY_SECONDS`` (default 20; the action server restarts in a
few seconds). Nothing was uttered by a call that failed, so a retry cannot
answer twice. If it is still away, the customer reads
``utter_service_recovering`` (domain/reliability.yml) and the turn ends
(``action_listen``), instead of a fallback. Any other failure is Rasa's as before.

A call dropped *after* the action server did its work (killed mid-request)
is sent again to the new server, so that one action may run twice: the
price of answering the message at all (README, "Reliability").
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, List, Optional, Set

import aiohttp
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, FollowupAction
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

RETRY_ENV = "KEFU_ACTION_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 20.0
FIRST_WAIT = 0.25
MAX_WAIT = 2.0
#: answers of a proxy or a server that is starting or stopping
UNAVAILABLE_STATUS = {502, 503, 504}
APOLOGY = "utter_service_recovering"


def retry_seconds() -> float:
    raw = os.environ.get(RETRY_ENV, "")
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_RETRY_SECONDS
    except ValueError:
        return DEFAULT_RETRY_SECONDS


def unreachable(exc: BaseException) -> bool:
    """Whether a failed action call means the action server is away (not that the action failed)."""
    seen: Set[int] = set()
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, aiohttp.ClientConnectionError):
            return True
        if isinstance(current, aiohttp.ClientResponseError) and current.status in UNAVAILABLE_STATUS:
            return True
        current = current.__cause__ or current.__context__
    return False


_original_run = RemoteAction.run


async def _run_with_retry(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                          domain: Any) -> List[Event]:
    deadline = time.monotonic() + retry_seconds()
    wait = FIRST_WAIT
    attempts = 0
    while True:
        attempts += 1
        try:
            events: List[Event] = await _original_run(self, output_channel, nlg, tracker, domain)
        except RasaException as exc:
            if not unreachable(exc):
                raise
            if time.monotonic() + wait > deadline:
                break
            await asyncio.sleep(wait)
            wait = min(wait * 2, MAX_WAIT)
            continue
        if attempts > 1:
            logger.info("action %s ran after %d attempts", self.name(), attempts)
        return events
    logger.warning("action server unreachable for %s after %d attempts: apologising", self.name(), attempts)
    uttered = await self._utter_responses([{"response": APOLOGY}], output_channel, nlg, tracker)
    return [*uttered, FollowupAction("action_listen")]


def install() -> None:
    """Make every custom action call retry (idempotent; called by bot/runner/rasa_main.py)."""
    RemoteAction.run = _run_with_retry  # type: ignore[method-assign]
