-- KEYS: token hash, customer outbox; ARGV: token sha256, ttl. The token's view
-- starts after the outbox's newest message, read and written in one step.
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then redis.call('DEL', KEYS[1]) end
local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local start = '0'
if newest[1] then start = newest[1][1] end
redis.call('HSET', KEYS[1], ARGV[1], start)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return start
