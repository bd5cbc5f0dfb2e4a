-- Shared by every queue script (handoff/queue/): ARGV[1] = key prefix, ARGV[2] = now (ms) and,
-- as its last ARGV, the retention (seconds): every write to a ticket, its transcript or its
-- conversation pointer sets that key's expiry.
local P = ARGV[1]
local NOW = tonumber(ARGV[2])
local RETAIN = tonumber(ARGV[#ARGV])
local function retain(key) redis.call('EXPIRE', key, RETAIN) end
local function tkey(id) return P .. 'ticket:' .. id end
local function audit(action, tid, who, detail)
  redis.call('XADD', P .. 'audit', '*', 'action', action, 'ticket_id', tid,
             'by', who, 'at', ARGV[2], 'detail', detail or '')
end
local function event(kind, tid, owner, data)
  return redis.call('XADD', P .. 'events', 'MAXLEN', '~', '10000', '*', 'type', kind,
                    'ticket_id', tid, 'owner', owner or '', 'data', data or '')
end
local function has_skill(csv, skill)
  return string.find(',' .. csv .. ',', ',' .. skill .. ',', 1, true) ~= nil
end
local function eligible(tid, agent, skills, cutoff)
  local r = redis.call('HMGET', tkey(tid), 'reserved_for', 'required_skill')
  local reserved, skill = r[1], r[2]
  if reserved and reserved ~= '' and reserved ~= agent then
    local seen = redis.call('ZSCORE', P .. 'online', reserved)
    if seen and tonumber(seen) >= cutoff then return false end
  end
  if skill and skill ~= '' and not has_skill(skills, skill) then
    if redis.call('ZCOUNT', P .. 'online_skill:' .. skill, cutoff, '+inf') > 0 then return false end
  end
  return true
end
local function take(tid, agent, name, lease_ms)
  local k = tkey(tid)
  -- confirmed = 0 until the console shows it has the chat (renew / read by its holder):
  -- a claim whose reply was lost is not renewed by the WebSocket and goes back to its place
  redis.call('HSET', k, 'state', 'active', 'owner', agent, 'owner_name', name,
             'claimed_ms', ARGV[2], 'reserved_for', '', 'expired_owner', '', 'confirmed', '0')
  redis.call('ZREM', P .. 'queue', tid)
  redis.call('ZADD', P .. 'leases', NOW + lease_ms, tid)
  redis.call('SADD', P .. 'agent_chats:' .. agent, tid)
  local sender = redis.call('HGET', k, 'sender')
  redis.call('SET', P .. 'conv:' .. sender, 'active:' .. tid, 'EX', RETAIN)
  local seq = redis.call('INCR', P .. 'claim_seq')
  redis.call('HSET', k, 'claim_seq', seq)
  retain(k)
  audit('claim', tid, agent, '')
  event('ticket', tid, agent, 'claimed')
  return tostring(seq)
end
-- nil when `agent` holds `tid`, else an error code
local function owner_error(tid, agent)
  local r = redis.call('HMGET', tkey(tid), 'state', 'owner', 'expired_owner')
  if not r[1] then return 'ticket_not_found' end
  if r[1] == 'closed' then return 'ticket_closed' end
  if r[1] == 'active' and r[2] == agent then return nil end
  if r[1] == 'waiting' and r[3] == agent then return 'lease_expired' end
  return 'not_owner'
end
