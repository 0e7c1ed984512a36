-- Purges (ARGV[2] = 'hard') or soft-purges (ARGV[2] = 'soft') resources.
--
-- With KEYS[1] a resource's meta hash <prefix>m:{<digest>} (and KEYS[2] its
-- variants set <prefix>v:{<digest>}) and ARGV[4] = 'key': that one
-- resource (digest ARGV[6]), atomically.
--
-- With KEYS[1] a tag set <prefix>t:{<tag>} and ARGV[4] = 'batch': one
-- bounded batch of the tag, `SSCAN KEYS[1] ARGV[6] COUNT ARGV[7]`. On a
-- single server (ARGV[5] = 'all') the batch's resources are purged and, for
-- a hard purge, removed from the index; the reply is {next cursor, count}.
-- On a cluster (ARGV[5] = 'members'), where the resources live on other
-- slots, the reply is {next cursor, count, digests...} and the caller
-- purges each resource on its own slot, then removes those members.
-- The caller repeats until the cursor is '0'; no call touches more than
-- one batch, so Redis is never blocked for the whole tag.
--
-- ARGV[1] key prefix, ARGV[3] now (ms, the soft-purge mark).
local prefix, mode, now = ARGV[1], ARGV[2], ARGV[3]

local function purge(digest)
  local meta = prefix .. 'm:{' .. digest .. '}'
  local variants = prefix .. 'v:{' .. digest .. '}'
  if mode == 'soft' then
    if redis.call('EXISTS', meta) == 1 then
      redis.call('HSET', meta, 'soft', now)
    end
    return
  end
  for _, v in ipairs(redis.call('SMEMBERS', variants)) do
    redis.call('DEL', prefix .. 'e:{' .. digest .. '}:' .. v)
  end
  redis.call('DEL', meta, variants)
end

if ARGV[4] ~= 'batch' then
  purge(ARGV[6])
  return 1
end
local scan = redis.call('SSCAN', KEYS[1], ARGV[6], 'COUNT', ARGV[7])
local members = scan[2]
if ARGV[5] == 'members' then
  local reply = {scan[1], #members}
  for i, digest in ipairs(members) do
    reply[i + 2] = digest
  end
  return reply
end
local count = 0
for _, digest in ipairs(members) do
  purge(digest)
  if mode == 'hard' then
    count = count + redis.call('SREM', KEYS[1], digest)
  else
    count = count + 1
  end
end
return {scan[1], count}
