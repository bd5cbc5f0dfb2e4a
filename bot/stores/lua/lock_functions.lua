-- Shared by the lock scripts (bot/stores/lock_store.py): KEYS[1] = ticket numbers (sorted set,
-- score = number), KEYS[2] = expiries (hash number -> ms, plus the counter field "last").
-- the next ticket, valid for lifetime ms; the keys outlive the last ticket by a minute
local function issue(now, lifetime)
  local n = redis.call('HINCRBY', KEYS[2], 'last', 1)
  redis.call('ZADD', KEYS[1], n, n)
  redis.call('HSET', KEYS[2], tostring(n), string.format('%.0f', now + lifetime))
  redis.call('PEXPIRE', KEYS[1], lifetime + 60000)
  redis.call('PEXPIRE', KEYS[2], lifetime + 60000)
  return n
end
-- 1: mine holds the lock; 0: wait; -1: mine expired (expired tickets ahead are dropped)
local function try(now, mine)
  local mine_expires = tonumber(redis.call('HGET', KEYS[2], mine) or '0')
  if mine_expires <= now then
    redis.call('ZREM', KEYS[1], mine)
    redis.call('HDEL', KEYS[2], mine)
    return -1
  end
  while true do
    local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
    if not head then return -1 end
    local expires = tonumber(redis.call('HGET', KEYS[2], head) or '0')
    if expires > now then
      if head == mine then return 1 end
      if redis.call('ZSCORE', KEYS[1], mine) then return 0 end
      return -1
    end
    redis.call('ZREM', KEYS[1], head)
    redis.call('HDEL', KEYS[2], head)
  end
end
