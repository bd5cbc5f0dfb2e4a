-- The first waiting ticket this agent may take, in queue order. ARGV[3..8]: agent, name, skills, lease ms,
-- max chats, online cutoff.
local agent, name, skills = ARGV[3], ARGV[4], ARGV[5]
local lease_ms, max_chats, cutoff = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
if redis.call('SCARD', P .. 'agent_chats:' .. agent) >= max_chats then return {'err', 'capacity_reached'} end
local offset = 0
while true do
  local ids = redis.call('ZRANGE', P .. 'queue', offset, offset + 99)
  if #ids == 0 then return {'err', 'queue_empty'} end
  local gone = 0
  for _, tid in ipairs(ids) do
    if redis.call('EXISTS', tkey(tid)) == 0 then
      redis.call('ZREM', P .. 'queue', tid)  -- expired after the retention: not a ticket any more
      gone = gone + 1
    elseif eligible(tid, agent, skills, cutoff) then
      return {'ok', tid, take(tid, agent, name, lease_ms)}
    end
  end
  offset = offset + 100 - gone
end
