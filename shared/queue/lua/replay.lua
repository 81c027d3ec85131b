-- Put one dead letter back at the queue's tail (claimed next), moving its events
-- from `dead_lettered` back to `pending` and forgetting its attempts.
-- KEYS[1] dead-letter list, KEYS[2] queue list, KEYS[3] counters hash, KEYS[4] attempts hash
-- ARGV[1] the dead-letter record (as listed), ARGV[2] the message to queue, ARGV[3] its event count,
-- ARGV[4] the parked message's id, whose attempts to forget ('' when it has none)
-- Returns 1 when replayed, 0 when the record was no longer there.
local n = whole(ARGV[3], 'event count')
counterOf(KEYS[3], 'dead_lettered')
counterOf(KEYS[3], 'pending')
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then
  return 0
end
redis.call('RPUSH', KEYS[2], ARGV[2])
add(KEYS[3], 'dead_lettered', -n)
add(KEYS[3], 'pending', n)
if ARGV[4] ~= '' then
  redis.call('HDEL', KEYS[4], ARGV[4])
end
return 1
