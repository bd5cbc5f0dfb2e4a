-- '1' / '0' per ticket id (ARGV[6..]): may this agent claim it now (the claim's own rule).
-- ARGV[3..5]: agent, skills, online cutoff.
local agent, skills, cutoff = ARGV[3], ARGV[4], tonumber(ARGV[5])
local out = {}
for i = 6, #ARGV - 1 do
  table.insert(out, eligible(ARGV[i], agent, skills, cutoff) and '1' or '0')
end
return out
