-- One chunk of a query: ids newest first between two lex bounds, with
-- their summaries.
-- KEYS: 1 index, 2 summaries. ARGV: 1 max bound, 2 min bound, 3 count.
-- Returns the summaries (JSON), in order; an id whose summary is gone
-- gives false.
local ids = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
if #ids == 0 then
  return {}
end
local sums = redis.call('HMGET', KEYS[2], unpack(ids))
local out = {}
for i, id in ipairs(ids) do
  out[i] = {id, sums[i]}
end
return out
