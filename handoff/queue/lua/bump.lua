-- Raise a ticket to a more urgent class, keeping its enqueue time. ARGV[3..6]: ticket, class, priority, skill.
local tid, klass, priority, skill = ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
local k = tkey(tid)
local r = redis.call('HMGET', k, 'state', 'klass', 'enqueue_ms', 'owner', 'created_ms')
if not r[1] then return {'err', 'ticket_not_found'} end
if r[1] == 'closed' then return {'err', 'ticket_closed'} end
if klass >= tonumber(r[2]) then return {'ok', 'unchanged'} end
local score = string.format('%.0f', klass * 1e13 + tonumber(r[3] or r[5]))
redis.call('HSET', k, 'klass', tostring(klass), 'priority', priority, 'score', score)
retain(k)
if skill ~= '' then redis.call('HSET', k, 'required_skill', skill) end
if r[1] == 'waiting' then redis.call('ZADD', P .. 'queue', score, tid) end
audit('bump', tid, 'bot', priority)
event('queue', tid, r[4] or '', 'bumped')
return {'ok', 'bumped'}
