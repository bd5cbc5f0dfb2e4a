-- Back to the queue, reserved for an agent and/or needing a skill. ARGV[3..6]: ticket, agent, to agent, skill.
local tid, agent, to_agent, skill = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local err = owner_error(tid, agent)
if err then return {'err', err} end
local k = tkey(tid)
local r = redis.call('HMGET', k, 'score', 'sender')
redis.call('HSET', k, 'state', 'waiting', 'owner', '', 'owner_name', '', 'last_owner', agent,
           'reserved_for', to_agent)
if skill ~= '' then redis.call('HSET', k, 'required_skill', skill) end
retain(k)
redis.call('ZADD', P .. 'queue', r[1], tid)
redis.call('ZREM', P .. 'leases', tid)
redis.call('SREM', P .. 'agent_chats:' .. agent, tid)
redis.call('SET', P .. 'conv:' .. r[2], 'waiting:' .. tid, 'EX', RETAIN)
audit('transfer', tid, agent, 'to_agent=' .. to_agent .. ';skill=' .. skill)
event('queue', tid, to_agent, 'transferred')
return {'ok', r[2]}
