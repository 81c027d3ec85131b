-- Accept one message straight into a batch owned by the caller (the process
-- function's HTTP trigger): counted like an enqueue, leased like a claim, so a
-- crash before the acknowledgement hands it to a poller once the lease runs out.
-- KEYS[1] processing list of the batch, KEYS[2] leases zset, KEYS[3] counters hash
-- ARGV[1] message, ARGV[2] its event count, ARGV[3] lease ms, ARGV[4] batch id
-- Returns 1.
local now = redis.call('TIME')
local expiry = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[3])
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], expiry, ARGV[4])
redis.call('HINCRBY', KEYS[3], 'received', tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[3], 'pending', tonumber(ARGV[2]))
return 1
