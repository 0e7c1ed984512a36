-- Deletes a session record.
-- KEYS[1]: the record hash.
-- Returns false when there was none, otherwise its user ('' for none).
local user = redis.call('HGET', KEYS[1], '_u')
if redis.call('UNLINK', KEYS[1]) == 0 then
  return false
end
return user or ''
