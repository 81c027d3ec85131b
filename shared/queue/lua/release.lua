-- Hand a claim back at once: its messages go back to the queue's tail, claimed
-- next. A worker that is stopping counts no attempt, since nothing went wrong with
-- the messages; a worker that gave up on them (its retries ran out) counts one, so
-- that they are claimed alone next and a message that always fails is parked.
-- KEYS[1] leases zset, KEYS[2] queue list, KEYS[3] processing list of the claim, KEYS[4] attempts hash
-- ARGV[1] claim id, ARGV[2] 1 to count an attempt for each message, 0 not to
-- Returns the number of messages returned (0 when the claim no longer held its lease).
local countAttempt = whole(ARGV[2], 'count attempt') == 1
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
local items = redis.call('LRANGE', KEYS[3], 0, -1)
local ids = {}
if countAttempt then
  for _, item in ipairs(items) do
    local _, id = headerOf(item)
    if id then
      counterOf(KEYS[4], id)
      ids[#ids + 1] = id
    end
  end
end

redis.call('ZREM', KEYS[1], ARGV[1])
for i = #items, 1, -1 do
  redis.call('RPUSH', KEYS[2], items[i])
end
for _, id in ipairs(ids) do
  add(KEYS[4], id, 1)
end
redis.call('DEL', KEYS[3])
return #items
