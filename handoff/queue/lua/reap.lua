-- Tickets whose lease ran out go back to their old place in the queue. ARGV[3]: at most this many.
local ids = redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[3]))
local back = {}
for _, tid in ipairs(ids) do
  redis.call('ZREM', P .. 'leases', tid)
  local k = tkey(tid)
  local r = redis.call('HMGET', k, 'state', 'owner', 'score', 'sender')
  if r[1] == 'active' then
    redis.call('HSET', k, 'state', 'waiting', 'owner', '', 'owner_name', '', 'last_owner', r[2],
               'expired_owner', r[2])
    retain(k)
    redis.call('ZADD', P .. 'queue', r[3], tid)
    redis.call('SREM', P .. 'agent_chats:' .. r[2], tid)
    redis.call('SET', P .. 'conv:' .. r[4], 'waiting:' .. tid, 'EX', RETAIN)
    audit('lease_expired', tid, r[2], '')
    event('queue', tid, r[2], 'lease_expired')
    table.insert(back, tid)
  end
end
return back
