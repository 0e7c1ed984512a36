-- Applies one request's changes to a session record, atomically, only if
-- the record exists, has not reached its absolute end, and the presented
-- secret is its current one or the previous one inside the grace window.
-- A record deleted or rotated away is never written back.
-- KEYS[1]: the record hash.
-- ARGV: 1 presented secret hash, 2 now (ms), 3 time to live (ms),
--       4 last seen (ms), 5 new secret hash or '', 6 grace end (ms),
--       7 the metadata tail of a sign-in or '', 8 number of fields to
--       set, then field, value pairs, then fields to delete.
-- Returns the record's absolute end (ms) when applied, 0 otherwise.
-- The metadata field `_m` is `1 <secret> <previous or -> <grace end>
-- <created> <end> <last seen>\n<tail>` (see meta.rs).
local meta = redis.call('HGET', KEYS[1], '_m')
if not meta then
  return 0
end
local current, previous, grace_end, created, ends, tail =
  string.match(meta, '^1 (%S+) (%S+) (%d+) (%d+) (%d+) %d+\n(.*)$')
if not current then
  return redis.error_reply('malformed session record')
end
local now = tonumber(ARGV[2])
if tonumber(ends) <= now then
  return 0
end
if current ~= ARGV[1] then
  if previous ~= ARGV[1] or now >= tonumber(grace_end) then
    return 0
  end
end
if ARGV[5] ~= '' then
  previous, grace_end, current = current, ARGV[6], ARGV[5]
end
if ARGV[7] ~= '' then
  tail = ARGV[7]
end
meta = '1 ' .. current .. ' ' .. previous .. ' ' .. grace_end .. ' ' .. created
  .. ' ' .. ends .. ' ' .. ARGV[4] .. '\n' .. tail
-- Arguments go to HSET/HDEL in chunks: unpack has a stack limit.
local set_end = 8 + 2 * tonumber(ARGV[8])
local last = math.min(set_end, 8 + 400)
redis.call('HSET', KEYS[1], '_m', meta, unpack(ARGV, 9, last))
for first = last + 1, set_end, 400 do
  redis.call('HSET', KEYS[1], unpack(ARGV, first, math.min(set_end, first + 399)))
end
for first = set_end + 1, #ARGV, 400 do
  redis.call('HDEL', KEYS[1], unpack(ARGV, first, math.min(#ARGV, first + 399)))
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return tonumber(ends)
