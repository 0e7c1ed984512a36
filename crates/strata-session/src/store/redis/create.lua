-- Creates a session record unless its key exists.
-- KEYS[1]: the record hash.
-- ARGV[1]: time to live in milliseconds; ARGV[2..]: field, value pairs
-- (the metadata `_m` first).
-- Returns 1 when created, 0 when the key was taken.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
-- In chunks: unpack has a stack limit.
for first = 2, #ARGV, 400 do
  redis.call('HSET', KEYS[1], unpack(ARGV, first, math.min(#ARGV, first + 399)))
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
