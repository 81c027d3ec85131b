-- Mark a message as waited on, before it is enqueued: the outcome of a message
-- with a waiter key is told on the channel that key holds.
-- KEYS[1] the message's waiter key, KEYS[2] the "someone may be waiting" flag
-- ARGV[1] the waiter's pub/sub channel, ARGV[2] how long both live, ms
-- Returns 1.
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
-- The flag lives as long as the longest waiter key, so no waiter is missed while the
-- process side skips its script for batches nobody can be waiting on.
if redis.call('PTTL', KEYS[2]) < ttl then
  redis.call('SET', KEYS[2], '1', 'PX', ttl)
end
return 1
