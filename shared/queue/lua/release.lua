-- Hand a batch back at once (its worker is stopping or gave up): its messages go
-- back to the queue's tail, claimed next, and no attempt is counted, since no
-- worker died on them.
-- KEYS[1] leases zset, KEYS[2] queue list, KEYS[3] processing list of the batch
-- ARGV[1] batch id
-- Returns the number of messages returned (0 when the batch no longer held its lease).
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local items = redis.call('LRANGE', KEYS[3], 0, -1)
for i = #items, 1, -1 do
  redis.call('RPUSH', KEYS[2], items[i])
end
redis.call('DEL', KEYS[3])
return #items
