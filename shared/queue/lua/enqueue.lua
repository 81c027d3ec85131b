-- Accept one message: push it and count its events in one step, so that
-- `received` can never disagree with what the queue was given.
-- KEYS[1] queue list, KEYS[2] counters hash
-- ARGV[1] message, ARGV[2] its event count, ARGV[3] max pending events
-- Returns the pending count after the push, or -1 when the push would pass the limit.
local n = whole(ARGV[2], 'event count')
local maxPending = whole(ARGV[3], 'max pending')
local pending = admit(KEYS[2], n, maxPending)
if pending >= 0 then
  redis.call('LPUSH', KEYS[1], ARGV[1])
end
return pending
