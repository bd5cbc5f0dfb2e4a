"""A per-conversation FIFO lock for Rasa in three Lua scripts.

Rasa holds a conversation's lock while it handles one of its messages, so two
messages of one customer are answered in order, also across Sanic workers.
Rasa 3.6's ``RedisLockStore`` keeps the ticket lock as a JSON string and
changes it with GET / modify / SET from Python: about seven synchronous round
trips and four JSON (de)serialisations per message (17% of the Rasa server's
CPU under load, bench/RESULTS.md), and, between two workers, a window where
both read the same lock and issue the same ticket number.

Here each step is one atomic script: *issue* a ticket (the next number,
with an expiry) and *try* it at once (drop expired tickets at the head; the
lowest remaining ticket holds the lock), *try* again while waiting,
*release* it (and drop the keys when no one waits): two round trips per
message when nobody else is handling that customer. The semantics are Rasa's: first come, first served per
conversation; a holder that dies lets the next one in after the ticket's
lifetime; a ticket that expired before its turn raises ``LockError``. A
waiting ticket polls with a short back-off, at most 50 ms (Rasa sleeps a whole second).

endpoints.yml::

    lock_store:
      type: bot.stores.lock_store.KefuRedisLockStore
      url: ${KEFU_REDIS_HOST}
      port: ${KEFU_REDIS_PORT}
      ...
"""
from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from core import lua
from core.redis_url import RedisSettings

#: the Lua functions the lock's scripts share (bot/stores/lua/lock_functions.lua)
_FUNCTIONS = "lock_functions"

#: first wait between two tries of a waiting ticket (s); doubles up to MAX_WAIT
FIRST_WAIT = 0.005
#: a customer's second message should not wait a whole second (Rasa's fixed poll) for the first
MAX_WAIT = 0.05


class KefuRedisLockStore(RedisLockStore):
    """Rasa's ticket lock, one Redis script per step."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        # REDIS_URL when set (TLS, ACL user, Sentinel: core/redis_url.py), else endpoints.yml's values
        self.red = RedisSettings.from_env(
            host=kwargs.get("host"), port=int(kwargs.get("port") or 6379), db=int(kwargs.get("db", 1) or 0),
            password=kwargs.get("password") or None,
        ).client(socket_timeout=kwargs.get("socket_timeout", DEFAULT_SOCKET_TIMEOUT_IN_SECONDS))
        # bot/stores/lua/: issue, try and both at once share lock_functions.lua; release stands alone
        self._issue = self.red.register_script(lua.source(__file__, "lock_issue", prelude=_FUNCTIONS))
        self._try = self.red.register_script(lua.source(__file__, "lock_try", prelude=_FUNCTIONS))
        self._issue_and_try = self.red.register_script(lua.source(__file__, "lock_issue_and_try", prelude=_FUNCTIONS))
        self._release = self.red.register_script(lua.source(__file__, "lock_release"))

    def _keys(self, conversation_id: Text) -> list:
        base = self.key_prefix + conversation_id
        return [base + ":tickets", base + ":expiry"]

    @staticmethod
    def _now_ms() -> int:
        return int(time.time() * 1000)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return int(self._issue(keys=self._keys(conversation_id), args=[self._now_ms(), int(lock_lifetime * 1000)]))
        except Exception as exc:
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        self._release(keys=self._keys(conversation_id), args=[ticket_number])

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        keys = self._keys(conversation_id)
        try:
            ticket, state = (int(x) for x in self._issue_and_try(keys=keys, args=[self._now_ms(), int(lock_lifetime * 1000)]))
        except Exception as exc:
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc
        try:
            wait = FIRST_WAIT
            while True:
                if state == 1:
                    break
                if state < 0:
                    raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
                await asyncio.sleep(wait)
                wait = min(wait * 2, MAX_WAIT, wait_time_in_seconds)
                state = int(self._try(keys=keys, args=[self._now_ms(), ticket]))
            yield TicketLock(conversation_id)
        finally:
            self.cleanup(conversation_id, ticket)
