-- Deletes a session record.
-- KEYS[1]: the record hash.
-- Returns false when there was none, otherwise its metadata `_m` (''
-- when it had none), from which the caller reads the user.
local meta = redis.call('HGET', KEYS[1], '_m')
if redis.call('UNLINK', KEYS[1]) == 0 then
  return false
end
return meta or ''
