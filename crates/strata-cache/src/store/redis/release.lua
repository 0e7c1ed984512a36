-- Gives back a fill lease and wakes the instances waiting on it.
-- KEYS[1] lease       <prefix>l:{<digest>}:<variant>
-- ARGV[1] token, ARGV[2] channel, ARGV[3] message (<digest>:<variant>)
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
