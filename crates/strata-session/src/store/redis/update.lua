-- Applies one request's changes to a session record, atomically, only if
-- the record exists, has not reached its absolute end, and the presented
-- secret is its current one or the previous one inside the grace window.
-- A record deleted or rotated away is never written back.
-- KEYS[1]: the record hash.
-- ARGV: 1 presented secret hash, 2 now (ms), 3 time to live (ms),
--       4 last seen (ms), 5 new secret hash or '', 6 grace end (ms),
--       7 '1' to sign in, 8 user, 9 user agent, 10 client IP,
--       11 number of fields to set, then field, value pairs, then
--       fields to delete.
-- Returns the record's absolute end (ms) when applied, 0 otherwise.
local meta = redis.call('HMGET', KEYS[1], '_k', '_pk', '_pu', '_x')
local current, previous, grace_end, ends = meta[1], meta[2], meta[3], meta[4]
if not current or not ends then
  return 0
end
local now = tonumber(ARGV[2])
if tonumber(ends) <= now then
  return 0
end
if current ~= ARGV[1] then
  if not previous or previous ~= ARGV[1] or now >= tonumber(grace_end) then
    return 0
  end
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], '_pk', current, '_pu', ARGV[6], '_k', ARGV[5])
end
if ARGV[7] == '1' then
  redis.call('HSET', KEYS[1], '_u', ARGV[8])
  for i, field in ipairs({'_ua', '_ip'}) do
    local value = ARGV[8 + i]
    if value == '' then
      redis.call('HDEL', KEYS[1], field)
    else
      redis.call('HSET', KEYS[1], field, value)
    end
  end
end
local set_end = 11 + 2 * tonumber(ARGV[11])
for i = 12, set_end, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
for i = set_end + 1, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
end
redis.call('HSET', KEYS[1], '_t', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return tonumber(ends)
