-- ARGV[1] = now ms, ARGV[2] = my ticket: 1 mine holds the lock, 0 wait, -1 mine expired
return try(tonumber(ARGV[1]), ARGV[2])
