-- Claim the oldest messages as one batch: move them from the queue's tail into
-- the batch's processing list and lease the batch, all at once.
-- The tail is read in growing windows rather than BATCH_MAX_MESSAGES items at
-- once: copying hundreds of large messages into Lua to keep the few that fill
-- the event limit made claims slow under a backlog, and Redis runs nothing else
-- meanwhile (ingest's pushes wait behind a slow claim).
-- KEYS[1] queue list, KEYS[2] processing list of the new batch, KEYS[3] leases zset
-- ARGV[1] max messages, ARGV[2] max events (at least one message is taken),
-- ARGV[3] lease ms, ARGV[4] batch id
-- Returns the claimed messages, oldest first (empty when the queue is empty).
local maxMessages, maxEvents = tonumber(ARGV[1]), tonumber(ARGV[2])
local claimed, events, read, window = {}, 0, 0, 8
while true do
  local items = redis.call('LRANGE', KEYS[1], -(read + window), -(read + 1))
  local full = false
  for i = #items, 1, -1 do
    local count = tonumber(string.match(items[i], '^(%d+)|')) or 0
    if #claimed >= maxMessages or (#claimed > 0 and events + count > maxEvents) then
      full = true
      break
    end
    claimed[#claimed + 1] = items[i]
    events = events + count
  end
  read = read + #items
  if full or #items < window then
    break
  end
  window = math.min(window * 2, maxMessages - #claimed + 1)
end
if #claimed == 0 then
  return {}
end
redis.call('LTRIM', KEYS[1], 0, -#claimed - 1)
redis.call('RPUSH', KEYS[2], unpack(claimed))
local now = redis.call('TIME')
redis.call('ZADD', KEYS[3], tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[3]), ARGV[4])
return claimed
