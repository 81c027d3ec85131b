-- Renew a claim's lease, only while the claim still holds it.
-- KEYS[1] leases zset
-- ARGV[1] claim id, ARGV[2] lease ms
-- Returns 1 when renewed, 0 when the lease was lost (the claim was reaped).
local leaseMs = whole(ARGV[2], 'lease ms')
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
local now = redis.call('TIME')
local expiry = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + leaseMs
redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[1])
return 1
