-- Adds a record to its user's index and keeps the index alive at least as
-- long as that record can live.
-- KEYS[1]: the user's index set. ARGV[1]: record id; ARGV[2]: ms to live.
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
