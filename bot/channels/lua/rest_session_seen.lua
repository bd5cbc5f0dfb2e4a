-- KEYS: the sender's state key; ARGV: ttl, the state to mark a new sender with. The state before
-- this message (nil for a new sender, which is marked "issued"), read and written in one step.
local state = redis.call('GET', KEYS[1])
if not state then redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[1])) end
return state
