-- Accept one message straight into a claim owned by the caller (the process
-- function's HTTP trigger): counted like an enqueue, under the same limit on
-- pending events, and leased like a claim, so a crash before the acknowledgement
-- hands it to a poller once the lease runs out.
-- KEYS[1] processing list of the claim, KEYS[2] leases zset, KEYS[3] counters hash
-- ARGV[1] message, ARGV[2] its event count, ARGV[3] lease ms, ARGV[4] claim id,
-- ARGV[5] max pending events
-- Returns the pending count after the push, or -1 when the push would pass the limit.
local n = whole(ARGV[2], 'event count')
local leaseMs = whole(ARGV[3], 'lease ms')
local maxPending = whole(ARGV[5], 'max pending')
local results, events = admitted(KEYS[3], { n }, { maxPending })
if results[1] >= 0 then
  local now = redis.call('TIME')
  redis.call('RPUSH', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[2], tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + leaseMs, ARGV[4])
  countIn(KEYS[3], events)
end
return results[1]
