-- Add a transcript line; the agent holding the ticket gets it as a live event.
-- ARGV[3..7]: sender, role, text, masked text, agent name. Returns {message id, ticket id, owner}.
local sender, role, text, masked, agent_name = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local id = redis.call('XADD', P .. 'transcript:' .. sender, '*', 'role', role, 'text', text,
                      'masked', masked, 'ts', ARGV[2], 'agent_name', agent_name)
retain(P .. 'transcript:' .. sender)
local cur = redis.call('GET', P .. 'conv:' .. sender)
local tid, owner = '', ''
if cur then
  tid = string.sub(cur, string.find(cur, ':', 1, true) + 1)
  retain(P .. 'conv:' .. sender)  -- an open chat stays as long as it is written to
  if redis.call('EXISTS', tkey(tid)) == 1 then retain(tkey(tid)) end
  owner = redis.call('HGET', tkey(tid), 'owner') or ''
  if owner ~= '' then
    event('message', tid, owner, cjson.encode({id = id, role = role, text = masked,
          ts = NOW, agent_name = agent_name}))
  end
end
return {id, tid, owner}
