-- Adds a resource to a tag's index; the index lives as long as its
-- longest-lived member could.
-- KEYS[1] tag set     <prefix>t:{<tag>}   members: resource digests
-- ARGV[1] digest, ARGV[2] ttl (ms)
local ttl = tonumber(ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
