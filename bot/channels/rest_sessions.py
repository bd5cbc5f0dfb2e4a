"""Anonymous REST senders bound to a server-issued session key (issue 12).

Rasa's REST protocol names the conversation by a ``sender`` the client
chooses; whoever learns it could continue the chat. Kefu's REST channel
hands the client a session key with the reply to the conversation's first
message (header ``X-Kefu-Session``): an HMAC of the sender under the
customer-identity secret, so nothing needs storing but a state flag. A
client that sends it back once binds the sender: from then on a message for
that sender without the key, or with another, is refused with 401. A client
that never sends it works as before (the key is opt-in, so plain
integrations and test tools keep working); the platform's app should sign
its customers in instead (core/identity.py).

The key is only ever handed out on the first message of a sender, so
someone who learns an id later gets none. With Redis away the check is
skipped (the bot still answers from memory, bot/stores/degraded.py) and logged.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any, Callable, Optional, Tuple

from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from core import keys, lua

logger = logging.getLogger(__name__)

HEADER = "X-Kefu-Session"
ISSUED, BOUND = "issued", "bound"


class RestSessions:
    """Issue and check session keys; ``client`` gives the (async) Redis client, ``secret`` the HMAC key."""

    def __init__(self, client: Callable[[], Any], secret: Callable[[], str], ttl_seconds: int = 30 * 86400) -> None:
        self._client = client
        self._secret = secret
        self.ttl = ttl_seconds
        #: lua/rest_session_seen.lua, registered on first use (the client may not exist yet)
        self._seen: Optional[AsyncScript] = None

    def key_for(self, sender: str) -> str:
        return hmac.new(self._secret().encode(), b"kefu-rest-session:" + sender.encode(), hashlib.sha256).hexdigest()[:32]

    async def check(self, sender: str, presented: Optional[str]) -> Tuple[bool, Optional[str]]:
        """(allowed, key to hand out with this reply or None)."""
        try:
            if presented is not None:
                if not hmac.compare_digest(presented.strip(), self.key_for(sender)):
                    return False, None
                await self._client().set(keys.rest_session(sender), BOUND, ex=self.ttl)
                return True, None
            client = self._client()
            if self._seen is None:
                self._seen = client.register_script(lua.source(__file__, "rest_session_seen"))
            # the client passed each time: the channel may hand out a new one (after a failover)
            state = await self._seen(keys=[keys.rest_session(sender)], args=[self.ttl, ISSUED], client=client)
            if state is None:
                return True, self.key_for(sender)
            return state != BOUND, None
        except (RedisError, OSError) as exc:
            logger.warning("REST session check skipped (Redis: %s)", exc.__class__.__name__)
            return True, None
