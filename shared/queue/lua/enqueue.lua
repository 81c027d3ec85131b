-- Accept messages, each on its own and in order, as if they came one call each: a
-- message's events either all count (pushed, received and pending raised) or, when
-- they would take the shard's pending events past that message's limit, nothing of it
-- is done. Pushing and counting happen in one step, so that `received` can never
-- disagree with what the queue was given. Ingest sends the enqueues of one turn of
-- its event loop together (queue-shard.ts).
-- KEYS[1] queue list, KEYS[2] counters hash
-- ARGV in threes, one for each message: the message, its event count, its max pending
-- Returns, for each message in order, the pending count after its push, or -1 when it
-- was refused.
local n = #ARGV / 3
if n < 1 or n ~= math.floor(n) then
  error('ERR enqueue takes one or more threes of message, event count, max pending; got ' .. #ARGV .. ' arguments')
end
local counts, limits = {}, {}
for i = 1, n do
  counts[i] = whole(ARGV[3 * i - 1], 'event count')
  limits[i] = whole(ARGV[3 * i], 'max pending')
end
local results, events = admitted(KEYS[2], counts, limits)
local pushed = {}
for i = 1, n do
  if results[i] >= 0 then
    pushed[#pushed + 1] = ARGV[3 * i - 2]
  end
end
if #pushed > 0 then
  redis.call('LPUSH', KEYS[1], unpack(pushed)) -- one after another: the last ends at the head
  countIn(KEYS[2], events)
end
return results
