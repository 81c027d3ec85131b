-- Renew a batch's lease, only while the batch still holds it.
-- KEYS[1] leases zset
-- ARGV[1] batch id, ARGV[2] lease ms
-- Returns 1 when renewed, 0 when the lease was lost (the batch was reaped).
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
local now = redis.call('TIME')
local expiry = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[1])
return 1
