-- Renew what the agent holds and has confirmed (the WebSocket's heartbeat): an unconfirmed claim
-- is left to expire back to its old place. ARGV[3..4]: agent, lease ms.
local agent, lease_ms = ARGV[3], tonumber(ARGV[4])
local out = {}
for _, tid in ipairs(redis.call('SMEMBERS', P .. 'agent_chats:' .. agent)) do
  if not owner_error(tid, agent) and redis.call('HGET', tkey(tid), 'confirmed') ~= '0' then
    redis.call('ZADD', P .. 'leases', NOW + lease_ms, tid)
    table.insert(out, tid)
  end
end
return out
