-- Close a ticket (resolved, handback, left). ARGV[3..7]: ticket, actor, outcome, 'owner'|'any', closed ttl.
local tid, actor, outcome, need = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local k = tkey(tid)
local r = redis.call('HMGET', k, 'state', 'owner', 'claimed_ms', 'sender')
if not r[1] then return {'err', 'ticket_not_found'} end
if r[1] == 'closed' then return {'err', 'ticket_closed'} end
if need == 'owner' then
  local err = owner_error(tid, actor)
  if err then return {'err', err} end
end
redis.call('HSET', k, 'state', 'closed', 'outcome', outcome, 'closed_ms', ARGV[2],
           'owner', '', 'last_owner', r[2] or '')
redis.call('ZREM', P .. 'queue', tid)
redis.call('ZREM', P .. 'leases', tid)
if r[2] and r[2] ~= '' then redis.call('SREM', P .. 'agent_chats:' .. r[2], tid) end
local conv = P .. 'conv:' .. r[4]
local cur = redis.call('GET', conv)
if cur and string.sub(cur, -string.len(tid)) == tid then redis.call('DEL', conv) end
if r[1] == 'active' and r[3] and r[3] ~= '' then
  redis.call('LPUSH', P .. 'handle_ms', NOW - tonumber(r[3]))
  redis.call('LTRIM', P .. 'handle_ms', 0, 49)
end
redis.call('EXPIRE', k, tonumber(ARGV[7]))
audit('close', tid, actor, outcome)
event('queue', tid, r[2] or '', outcome)
return {'ok', r[4], r[2] or '', r[1]}
