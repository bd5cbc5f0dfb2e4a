"""Per-customer limits (issue 12): what they are and the Redis counter behind them.

The audit showed one client could make 610 escalations in 51 s, flood the bot
until every customer waited 4 s for an answer, and grow a tracker to 63 MB
with three pasted messages. The limits live here, read once from the
environment and validated at start-up (bot/runner/stack.py preflight, the channels,
the bridge's Settings), so a typo stops the stack instead of silently
turning a limit off:

- ``KEFU_MAX_MESSAGE_CHARS``: the longest customer text the channels pass on
  (to Rasa, the tracker and the agent's transcript);
- ``KEFU_MESSAGES_PER_MINUTE``: messages one sender may send the bot per minute;
- ``KEFU_ESCALATIONS_PER_HOUR``: new tickets one sender may open per hour
  (safety is never refused).

The counter is one Lua script (check, INCR and EXPIRE in one atomic step), a
fixed window that starts with the sender's first counted event: a limit
cannot be raced past by parallel requests, and a key never lives without a
TTL. Keys are in core/keys.py.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from handoff.settings import int_setting

DEFAULT_MAX_MESSAGE_CHARS = 2000
DEFAULT_MESSAGES_PER_MINUTE = 30
DEFAULT_ESCALATIONS_PER_HOUR = 5

#: KEYS[1] counter; ARGV[1] window seconds, ARGV[2] limit, ARGV[3] "1" to count even past the limit.
#: Returns the new count, or -1 (nothing written) when the limit is reached and not forced.
_COUNT = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[2]) and ARGV[3] ~= '1' then
  if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
  return -1
end
n = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


@dataclass(frozen=True)
class Limits:
    """The three customer limits; ``from_env`` raises SettingsError on a bad value."""

    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
    messages_per_minute: int = DEFAULT_MESSAGES_PER_MINUTE
    escalations_per_hour: int = DEFAULT_ESCALATIONS_PER_HOUR

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Limits":
        env = os.environ if env is None else env
        return cls(
            max_message_chars=int_setting(env, "KEFU_MAX_MESSAGE_CHARS", DEFAULT_MAX_MESSAGE_CHARS, 50, 100_000),
            messages_per_minute=int_setting(env, "KEFU_MESSAGES_PER_MINUTE", DEFAULT_MESSAGES_PER_MINUTE, 1, 10_000),
            escalations_per_hour=int_setting(env, "KEFU_ESCALATIONS_PER_HOUR", DEFAULT_ESCALATIONS_PER_HOUR, 1, 1_000),
        )


class WindowCounter:
    """A fixed-window counter per key on a redis.asyncio client (decode_responses or not)."""

    def __init__(self, client: Any, window_seconds: int, limit: int) -> None:
        self.window_seconds = window_seconds
        self.limit = limit
        self._script = client.register_script(_COUNT)

    async def take(self, key: str, force: bool = False) -> bool:
        """Count one event; False (and nothing counted) when ``key`` is at the limit.

        ``force`` counts it anyway and returns True: for what must never be
        refused (a safety escalation), which still uses up the allowance.
        """
        result = await self._script(keys=[key], args=[self.window_seconds, self.limit, "1" if force else "0"])
        return int(result) >= 0
