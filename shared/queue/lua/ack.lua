-- Finish a batch after its commit: drop its processing list and lease, count its
-- events out of `pending`, park its dead letters and clear its attempt counts.
-- Does nothing when the batch lost its lease: the messages are back in the queue
-- and whoever claims them again acknowledges them.
-- KEYS[1] processing list of the batch, KEYS[2] leases zset, KEYS[3] counters hash,
-- KEYS[4] dead-letter list, KEYS[5] attempts hash
-- ARGV[1] batch id, ARGV[2] events leaving pending (stored, dropped or dead),
-- ARGV[3] events dead-lettered, ARGV[4] number k of dead-letter records,
-- ARGV[5 .. 4+k] dead-letter records, ARGV[5+k ..] message ids to forget attempts of
-- Returns 1 when acknowledged, 0 when the lease was lost.
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HINCRBY', KEYS[3], 'pending', -tonumber(ARGV[2]))
local k = tonumber(ARGV[4])
if k > 0 then
  redis.call('HINCRBY', KEYS[3], 'dead_lettered', tonumber(ARGV[3]))
  redis.call('LPUSH', KEYS[4], unpack(ARGV, 5, 4 + k))
end
if #ARGV >= 5 + k then
  redis.call('HDEL', KEYS[5], unpack(ARGV, 5 + k, #ARGV))
end
return 1
