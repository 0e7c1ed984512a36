-- Purges (ARGV[2] = 'hard') or soft-purges (ARGV[2] = 'soft') resources.
--
-- With KEYS[1] a resource's meta hash <prefix>m:{<digest>} (and KEYS[2] its
-- variants set <prefix>v:{<digest>}): that one resource, atomically.
--
-- With KEYS[1] a tag set <prefix>t:{<tag>} and ARGV[4] = 'tag': on a single
-- server (ARGV[5] = 'all') every tagged resource and the index entry, in
-- one atomic step; on a cluster (ARGV[5] = 'members'), where the resources
-- live on other slots, only the members are returned (the caller purges
-- each resource on its own slot, then removes those members).
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

if ARGV[4] ~= 'tag' then
  purge(ARGV[6])
  return 1
end
local members = redis.call('SMEMBERS', KEYS[1])
if ARGV[5] == 'all' then
  for _, digest in ipairs(members) do
    purge(digest)
  end
  if mode == 'hard' then
    redis.call('DEL', KEYS[1])
  end
end
return members
