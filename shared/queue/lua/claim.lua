-- Claim the oldest messages as one batch: move them from the queue's tail into
-- the batch's processing list and lease the batch, all at once.
-- KEYS[1] queue list, KEYS[2] processing list of the new batch, KEYS[3] leases zset
-- ARGV[1] max messages, ARGV[2] max events (at least one message is taken),
-- ARGV[3] lease ms, ARGV[4] batch id
-- Returns the claimed messages, oldest first (empty when the queue is empty).
local items = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[1]), -1)
local n = #items
if n == 0 then
  return {}
end
local maxEvents = tonumber(ARGV[2])
local claimed, events = {}, 0
for i = n, 1, -1 do
  local count = tonumber(string.match(items[i], '^(%d+)|')) or 0
  if #claimed > 0 and events + count > maxEvents then
    break
  end
  claimed[#claimed + 1] = items[i]
  events = events + count
end
redis.call('LTRIM', KEYS[1], 0, -#claimed - 1)
redis.call('RPUSH', KEYS[2], unpack(claimed))
local now = redis.call('TIME')
local expiry = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[3])
redis.call('ZADD', KEYS[3], expiry, ARGV[4])
return claimed
