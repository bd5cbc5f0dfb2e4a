-- Write a tracker only if nobody wrote it since this process read it (check-then-write, atomic).
-- KEYS[1] = the tracker (Rasa's format), KEYS[2] = its version counter
-- ARGV[1] = the version the tracker was read at, ARGV[2] = the serialised tracker,
-- ARGV[3] = expiry in seconds (0: none)
-- Returns the new version, or false when the stored version moved on (the caller merges instead).
if redis.call('GET', KEYS[2]) ~= ARGV[1] or redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
local version = redis.call('INCR', KEYS[2])
if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) else redis.call('PERSIST', KEYS[2]) end
return version
