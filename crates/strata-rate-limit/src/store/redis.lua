local format = string.format
local time = redis.call('TIME')
local now = time[1] * 1000000 + time[2]
local stored = redis.call('MGET', unpack(KEYS))
if ARGV[5] == 'u' then
  local t, cost = tonumber(ARGV[3]), tonumber(ARGV[6])
  local limit, step = t * tonumber(ARGV[4]), cost * t
  local reply, tats = {}, {}
  for i = 1, #KEYS do
    local key = KEYS[i]
    local tat = tats[key]
    if tat == nil then
      tat = tonumber(stored[i]) or now
      if tat < now then tat = now end
    end
    reply[2 * i] = tat - now
    if tat - now + step > limit then
      reply[2 * i - 1] = 0
    else
      reply[2 * i - 1] = 1
      if cost > 0 then tats[key] = tat + step end
    end
  end
  for key, tat in pairs(tats) do
    local ttl = math.max(1, math.ceil((tat - now) / 1000))
    redis.call('SET', key, format('%d', tat), 'PX', format('%d', ttl))
  end
  return reply
end
local rules, a = {}, 2
for s = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[a])
  local rule = {}
  for i = 1, 2 * n do rule[i] = tonumber(ARGV[a + i]) end
  rules[s] = rule
  a = a + 1 + 2 * n
end
local tats, written, order = {}, {}, {}
local reply, r, k = {}, 0, 0
local nargs = #ARGV
while a <= nargs do
  local rule, cost = rules[tonumber(ARGV[a])], tonumber(ARGV[a + 1])
  a = a + 2
  local n = #rule / 2
  local allowed = 1
  for i = 1, n do
    local key = KEYS[k + i]
    local tat = tats[key]
    if tat == nil then
      tat = tonumber(stored[k + i]) or now
      if tat < now then tat = now end
      tats[key] = tat
    end
    local t = rule[2 * i - 1]
    reply[r + 1 + i] = tat - now
    if tat - now + cost * t > t * rule[2 * i] then allowed = 0 end
  end
  reply[r + 1] = allowed
  if allowed == 1 and cost > 0 then
    for i = 1, n do
      local key = KEYS[k + i]
      tats[key] = tats[key] + cost * rule[2 * i - 1]
      if not written[key] then
        written[key] = true
        order[#order + 1] = key
      end
    end
  end
  r = r + 1 + n
  k = k + n
end
for _, key in ipairs(order) do
  local tat = tats[key]
  local ttl = math.max(1, math.ceil((tat - now) / 1000))
  redis.call('SET', key, format('%d', tat), 'PX', format('%d', ttl))
end
return reply
