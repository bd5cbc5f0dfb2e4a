-- Renew the lease on a held ticket and mark the claim confirmed. ARGV[3..5]: ticket, agent, lease ms.
local tid, agent, lease_ms = ARGV[3], ARGV[4], tonumber(ARGV[5])
local err = owner_error(tid, agent)
if err then return {'err', err} end
redis.call('ZADD', P .. 'leases', NOW + lease_ms, tid)
redis.call('HSET', tkey(tid), 'confirmed', '1')
return {'ok', tid}
