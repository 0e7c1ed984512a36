-- Stores one exchange and enforces the bounds, atomically.
-- KEYS: 1 index (sorted set of ids, all score 0: ids sort by start time),
--       2 summaries (hash id -> JSON), 3 sizes (hash id -> bytes),
--       4 blobs (hash id -> compressed exchange), 5 byte counter.
-- ARGV: 1 id, 2 summary, 3 blob, 4 size, 5 byte budget, 6 count cap,
--       7 TTL in ms, 8 smallest id still within the TTL.
-- Returns {stored (0/1), evicted, bytes, count}: not stored when larger than
-- the budget or already past the TTL.
local evicted = 0
local function drop(id)
  local size = tonumber(redis.call('HGET', KEYS[3], id) or '0')
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('DECRBY', KEYS[5], size)
  evicted = evicted + 1
end
-- Expired exchanges (bounded per call; every insert removes more).
for _, id in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], '-', '(' .. ARGV[8], 'LIMIT', 0, 1000)) do
  drop(id)
end
local size = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
local cap = tonumber(ARGV[6])
local function bytes()
  return tonumber(redis.call('GET', KEYS[5]) or '0')
end
if size > budget or ARGV[1] < ARGV[8] then
  return {0, evicted, bytes(), redis.call('ZCARD', KEYS[1])}
end
while redis.call('ZCARD', KEYS[1]) >= cap or bytes() + size > budget do
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)
  if #oldest == 0 then
    -- Nothing left to evict: the counter can only be off after a manual edit.
    redis.call('SET', KEYS[5], 0)
    break
  end
  drop(oldest[1])
end
if redis.call('ZADD', KEYS[1], 0, ARGV[1]) == 0 then
  redis.call('DECRBY', KEYS[5], tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0'))
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], size)
redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
redis.call('INCRBY', KEYS[5], size)
for i = 1, 5 do
  redis.call('PEXPIRE', KEYS[i], ARGV[7])
end
return {1, evicted, bytes(), redis.call('ZCARD', KEYS[1])}
