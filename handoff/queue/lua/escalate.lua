-- Put a conversation in the queue. ARGV[3] ticket fields (JSON), ARGV[4] transcript (JSON),
-- ARGV[5] escalation id. {'dup', tid} for a known escalation or a conversation already in handoff.
local f = cjson.decode(ARGV[3])
local transcript = cjson.decode(ARGV[4])
local eid = ARGV[5]
if eid ~= '' then
  local existing = redis.call('GET', P .. 'escalation:' .. eid)
  if existing then return {'dup', existing} end
end
local conv = P .. 'conv:' .. f.sender
local cur = redis.call('GET', conv)
if cur then
  local tid = string.sub(cur, string.find(cur, ':', 1, true) + 1)
  if redis.call('EXISTS', tkey(tid)) == 1 then return {'dup', tid} end
end
local k = tkey(f.id)
-- Enqueue order: strictly increasing across tickets, so two escalations in the
-- same millisecond still keep their arrival order (a tie would fall back to
-- the random ticket id).
local last = tonumber(redis.call('GET', P .. 'enqueue_ms') or '0')
local enq = math.max(NOW, last + 1)
redis.call('SET', P .. 'enqueue_ms', string.format('%.0f', enq))
f.enqueue_ms = string.format('%.0f', enq)
f.score = string.format('%.0f', tonumber(f.klass) * 1e13 + enq)
for name, value in pairs(f) do redis.call('HSET', k, name, tostring(value)) end
redis.call('HSET', k, 'state', 'waiting', 'owner', '', 'owner_name', '')
retain(k)
for _, m in ipairs(transcript) do
  redis.call('XADD', P .. 'transcript:' .. f.sender, '*', 'role', m.role, 'text', m.text,
             'masked', m.masked, 'ts', tostring(m.ts), 'agent_name', m.agent_name or '')
end
if #transcript > 0 then retain(P .. 'transcript:' .. f.sender) end
redis.call('ZADD', P .. 'queue', f.score, f.id)
redis.call('SET', conv, 'waiting:' .. f.id, 'EX', RETAIN)
if eid ~= '' then redis.call('SET', P .. 'escalation:' .. eid, f.id, 'EX', 604800) end
audit('escalate', f.id, 'bot', f.reason)
event('queue', f.id, '', 'escalated')
return {'ok', f.id}
