-- Put one dead letter back at the queue's tail (claimed next), as one message or as the
-- messages of its requests, moving its events from `dead_lettered` back to `pending` and
-- forgetting its attempts.
-- KEYS[1] dead-letter list, KEYS[2] queue list, KEYS[3] counters hash, KEYS[4] attempts hash
-- ARGV[1] the dead-letter record (as listed), ARGV[2] its event count, ARGV[3] the parked
-- message's id, whose attempts to forget ('' when it has none), ARGV[4..] the messages to
-- queue, in the order they are to be claimed.
-- Returns 1 when replayed, 0 when the record was no longer there.
local n = whole(ARGV[2], 'event count')
if #ARGV < 4 then
  error('ERR replay takes the record, its event count, its id and at least one message')
end
counterOf(KEYS[3], 'dead_lettered')
counterOf(KEYS[3], 'pending')
local queueType = redis.call('TYPE', KEYS[2])['ok']
if queueType ~= 'list' and queueType ~= 'none' then
  error('ERR ' .. KEYS[2] .. ' holds a ' .. queueType .. ', not a list') -- before the letter is taken out
end
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then
  return 0
end
for i = #ARGV, 4, -1 do
  redis.call('RPUSH', KEYS[2], ARGV[i]) -- the tail is claimed first: the first message goes last
end
add(KEYS[3], 'dead_lettered', -n)
add(KEYS[3], 'pending', n)
if ARGV[3] ~= '' then
  redis.call('HDEL', KEYS[4], ARGV[3])
end
return 1
