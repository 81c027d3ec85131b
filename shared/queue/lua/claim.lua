-- Claim the oldest messages as one batch (a claim): move them from the queue's
-- tail into the claim's processing list and lease it, all at once.
-- A message that was claimed before without an acknowledgement (attempts > 0) is
-- claimed alone: if it is what kills workers, only it climbs towards MAX_ATTEMPTS,
-- and its innocent neighbours of the first claim are not parked with it.
-- The tail is read in growing windows rather than BATCH_MAX_MESSAGES items at
-- once: copying hundreds of large messages into Lua to keep the few that fill
-- the event limit made claims slow under a backlog, and Redis runs nothing else
-- meanwhile (ingest's pushes wait behind a slow claim).
-- KEYS[1] queue list, KEYS[2] processing list of the new claim, KEYS[3] leases zset,
-- KEYS[4] attempts hash
-- ARGV[1] max messages, ARGV[2] max events (at least one message is taken),
-- ARGV[3] lease ms, ARGV[4] claim id
-- Returns the attempts of the first claimed message (the only one that can have any), the
-- claimed messages, oldest first, and how many messages the queue still holds, as
-- {attempts, {messages}, left}; empty when the queue is empty.
local maxMessages = whole(ARGV[1], 'max messages')
local maxEvents = whole(ARGV[2], 'max events')
local leaseMs = whole(ARGV[3], 'lease ms')
local claimed, events, read, window, attempts = {}, 0, 0, 8, 0
while true do
  local items = redis.call('LRANGE', KEYS[1], -(read + window), -(read + 1))
  local full = false
  for i = #items, 1, -1 do
    local count, id = headerOf(items[i])
    count = count or 0
    local retried = id ~= nil and redis.call('HEXISTS', KEYS[4], id) == 1
    if #claimed >= maxMessages or (#claimed > 0 and (retried or events + count > maxEvents)) then
      full = true
      break
    end
    claimed[#claimed + 1] = items[i]
    events = events + count
    if retried then
      attempts = tonumber(redis.call('HGET', KEYS[4], id)) or 0
      full = true
      break
    end
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
redis.call('ZADD', KEYS[3], tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + leaseMs, ARGV[4])
return {attempts, claimed, redis.call('LLEN', KEYS[1])}
