-- Creates a session record unless its key exists.
-- KEYS[1]: the record hash.
-- ARGV[1]: time to live in milliseconds; ARGV[2..]: field, value pairs.
-- Returns 1 when created, 0 when the key was taken.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
