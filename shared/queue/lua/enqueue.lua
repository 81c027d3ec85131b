-- Accept one message: push it and count its events in one step, so that
-- `received` can never disagree with what the queue was given.
-- KEYS[1] queue list, KEYS[2] counters hash
-- ARGV[1] message, ARGV[2] its event count, ARGV[3] max pending events
-- Returns the pending count after the push, or -1 when the push would pass the limit.
local n = tonumber(ARGV[2])
local pending = tonumber(redis.call('HGET', KEYS[2], 'pending') or '0')
if pending + n > tonumber(ARGV[3]) then
  return -1
end
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[2], 'received', n)
return redis.call('HINCRBY', KEYS[2], 'pending', n)
