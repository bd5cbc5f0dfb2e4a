-- ARGV[1] = now ms, ARGV[2] = lifetime ms: the next ticket number
return issue(tonumber(ARGV[1]), tonumber(ARGV[2]))
