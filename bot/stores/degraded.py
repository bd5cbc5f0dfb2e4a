"""Answering while Redis is away: the conversation continues in memory.

Rasa keeps every conversation (tracker store) and its per-conversation lock
(lock store) in Redis (bot/stores/tracker_store.py, bot/stores/lock_store.py). With Redis
down, the lock store raises ``LockError`` before the message is read, or the
tracker store a ``redis`` ``ConnectionError``: the channel caught it, logged
it and answered nothing, so the customer got an empty reply, 转人工 included.

Both Kefu channels hand every message to :class:`MemoryFallback`. It runs
the message through Rasa as usual; if that fails because Redis is away (and
the bot has not said anything yet), it runs the same message again through
the same model, NLG and action server, but with an in-memory tracker store
and lock for this Rasa process. The customer gets a real answer; the first
one of the outage in a conversation is preceded by ``utter_memory_unavailable``
(domain/reliability.yml), since what was said before cannot be read. 转人工
reaches ``action_handoff``, whose escalation the bridge cannot queue without
Redis: it goes to the durable outbox (handoff/outbox.py), the customer is told
(``utter_handoff_delayed``), and the action server's retry or the bridge's drain
delivers it within seconds of Redis coming back.

What is not kept: the turns answered in memory are not written back to Redis
(a conversation whose history Redis never lost would be merged with one that
started empty). With several Rasa servers, the in-memory lock orders one
customer's messages per server only, for the length of the outage.
"""
from __future__ import annotations

import copy
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Set, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore, LockError
from rasa.core.tracker_store import InMemoryTrackerStore
from redis.exceptions import RedisError

from core.responses import render
from core.text import conversation_script

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
#: conversations kept in memory at most during an outage (the oldest is forgotten first)
MAX_MEMORY_CONVERSATIONS = 5000


def redis_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the tracker or lock store losing Redis."""
    seen: Set[int] = set()
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (LockError, RedisError, ConnectionError)):
            return True
        current = current.__cause__ or current.__context__
    return False


class CountingOutput(OutputChannel):
    """The customer's output channel, counting what the bot sent through it."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> Text:  # type: ignore[override]  # the wrapped channel's name, for the NLG
        return self.inner.name()

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)

    def _delegate(name: str) -> Any:  # type: ignore[misc]  # builds the methods below
        async def send(self: "CountingOutput", *args: Any, **kwargs: Any) -> None:
            self.sent += 1
            await getattr(self.inner, name)(*args, **kwargs)

        send.__name__ = name
        return send

    # callers may skip send_response (the wrapped channel's own methods do the formatting)
    send_text_message = _delegate("send_text_message")
    send_image_url = _delegate("send_image_url")
    send_attachment = _delegate("send_attachment")
    send_text_with_buttons = _delegate("send_text_with_buttons")
    send_quick_replies = _delegate("send_quick_replies")
    send_elements = _delegate("send_elements")
    send_custom_json = _delegate("send_custom_json")
    del _delegate


class MemoryFallback:
    """Run a message through Rasa; while Redis is away, through an in-memory conversation."""

    def __init__(self) -> None:
        self._store: Optional[InMemoryTrackerStore] = None
        self._locks = InMemoryLockStore()
        self._processor: Any = None
        self._source: Any = None

    async def handle(self, app: Any, message: UserMessage, on_new_message: OnNewMessage) -> None:
        counting = CountingOutput(message.output_channel)
        try:
            await on_new_message(_with_output(message, counting))
        except Exception as exc:
            if not redis_failure(exc):
                logger.exception("message failed for %s", message.sender_id)
                return
            if counting.sent:  # answered, only saving failed: running it again would answer twice
                logger.warning("conversation of %s not saved (Redis: %s)", message.sender_id, exc)
                return
            logger.warning("Redis unavailable (%s): answering %s from memory", exc.__class__.__name__,
                           message.sender_id)
            await self._from_memory(app, message)
            return
        if self._store is not None:  # Redis is back for this conversation: a later outage notices again
            self._store.store.pop(message.sender_id, None)

    def _memory_processor(self, agent: Any) -> Any:
        """Rasa's processor (same model, NLG, action endpoint) over in-memory stores."""
        if self._processor is None or self._source is not agent.processor:
            self._store = InMemoryTrackerStore(agent.domain)
            processor = copy.copy(agent.processor)  # shares the loaded model: no second load
            processor.tracker_store = self._store
            processor.lock_store = self._locks
            self._processor, self._source = processor, agent.processor
        return self._processor

    async def _from_memory(self, app: Any, message: UserMessage) -> None:
        agent = getattr(getattr(app, "ctx", None), "agent", None)
        if agent is None or agent.processor is None:
            return
        processor = self._memory_processor(agent)
        assert self._store is not None
        while len(self._store.store) >= MAX_MEMORY_CONVERSATIONS:
            self._store.store.pop(next(iter(self._store.store)))
        try:
            if await self._store.retrieve(message.sender_id) is None:
                traditional = conversation_script([message.text or ""]) == "hant"
                await message.output_channel.send_response(message.sender_id, {
                    "text": render("utter_memory_unavailable", traditional=traditional),
                    "metadata": {"from": "kefu", "kind": "memory_unavailable"},
                })
            async with self._locks.lock(message.sender_id):
                await processor.handle_message(message)
        except Exception:
            logger.exception("in-memory answer failed for %s", message.sender_id)


def _with_output(message: UserMessage, output: OutputChannel) -> UserMessage:
    return UserMessage(message.text, output, message.sender_id, message.parse_data, message.input_channel,
                       message.message_id, message.metadata)
