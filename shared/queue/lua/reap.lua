-- Return the messages of batches whose lease ran out to the queue's tail, so
-- they are claimed next, and count one more attempt for each message.
-- KEYS[1] leases zset, KEYS[2] queue list, KEYS[3] attempts hash
-- ARGV[1] processing list prefix, ARGV[2] max batches to return in one call
-- Returns the number of messages returned.
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', nowMs, 'LIMIT', 0, tonumber(ARGV[2]))
local returned = 0
-- Latest expiry first, so the batch that expired first ends nearest the tail and is claimed first.
for b = #expired, 1, -1 do
  local batch = expired[b]
  local key = ARGV[1] .. batch
  local items = redis.call('LRANGE', key, 0, -1)
  -- Newest first, so that the oldest ends at the tail, where claims take from.
  for i = #items, 1, -1 do
    redis.call('RPUSH', KEYS[2], items[i])
    local id = string.match(items[i], '^%d+|{"id":"([^"]+)"')
    if id then
      redis.call('HINCRBY', KEYS[3], id, 1)
    end
  end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], batch)
  returned = returned + #items
end
return returned
