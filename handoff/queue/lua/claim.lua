-- One agent claims one ticket. ARGV[3..9]: ticket, agent, name, skills (csv), lease ms, max chats, online cutoff.
local tid, agent, name, skills = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local lease_ms, max_chats, cutoff = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local r = redis.call('HMGET', tkey(tid), 'state', 'owner', 'claim_seq')
if not r[1] then return {'err', 'ticket_not_found'} end
if r[1] == 'closed' then return {'err', 'ticket_closed'} end
if r[1] == 'active' then
  if r[2] == agent then return {'ok', tid, r[3]} end
  return {'err', 'already_claimed'}
end
if redis.call('SCARD', P .. 'agent_chats:' .. agent) >= max_chats then return {'err', 'capacity_reached'} end
if not eligible(tid, agent, skills, cutoff) then return {'err', 'not_eligible'} end
return {'ok', tid, take(tid, agent, name, lease_ms)}
