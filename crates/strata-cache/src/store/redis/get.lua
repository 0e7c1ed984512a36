-- One variant of a resource, with the resource's Vary names and soft-purge
-- mark, in one round trip. All keys share the resource's hash tag.
-- KEYS[1] meta hash   <prefix>m:{<digest>}
-- KEYS[2] entry       <prefix>e:{<digest>}:<variant>
-- Returns { vary or false, soft or false, entry bytes or false }.
local meta = redis.call('HMGET', KEYS[1], 'vary', 'soft')
return { meta[1], meta[2], redis.call('GET', KEYS[2]) }
