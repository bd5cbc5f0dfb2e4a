-- issue and try at once: the usual case (nobody else is handling this customer) is one round trip.
-- ARGV[1] = now ms, ARGV[2] = lifetime ms; returns {ticket, try's answer}
local n = issue(tonumber(ARGV[1]), tonumber(ARGV[2]))
return {n, try(tonumber(ARGV[1]), tostring(n))}
