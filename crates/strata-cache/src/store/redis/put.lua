-- Stores one variant and records it in its resource (same hash tag).
-- KEYS[1] entry       <prefix>e:{<digest>}:<variant>
-- KEYS[2] meta hash   <prefix>m:{<digest>}   fields: vary, soft
-- KEYS[3] variants    <prefix>v:{<digest>}   set of variant ids
-- ARGV[1] entry bytes, ARGV[2] ttl (ms), ARGV[3] Vary names (comma-separated),
-- ARGV[4] variant id
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('HSET', KEYS[2], 'vary', ARGV[3])
-- A response stored after a soft purge supersedes it.
redis.call('HDEL', KEYS[2], 'soft')
redis.call('SADD', KEYS[3], ARGV[4])
-- The resource lives as long as its longest-lived variant.
for i = 2, 3 do
  if redis.call('PTTL', KEYS[i]) < ttl then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1
