-- KEYS as in lock_functions.lua; ARGV[1] = my ticket: drop it, and both keys once no ticket is left
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
return 1
