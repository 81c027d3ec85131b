-- Finish a claim after its commit: drop its processing list and lease, count its
-- events out of `pending`, park its dead letters and clear its attempt counts.
-- When the claim lost its lease, its messages are back in the queue and whoever
-- claims them again acknowledges them; if the lease was lost to the reaper, the
-- attempt the reaper counted is taken back, since this worker did not die on them
-- (it only could not renew the lease, e.g. while Redis was unreachable).
-- KEYS[1] processing list of the claim, KEYS[2] leases zset, KEYS[3] counters hash,
-- KEYS[4] dead-letter list, KEYS[5] attempts hash, KEYS[6] reaped-claims zset
-- ARGV[1] claim id, ARGV[2] events leaving pending (stored, dropped or dead),
-- ARGV[3] events dead-lettered, ARGV[4] number k of dead-letter records,
-- ARGV[5 .. 4+k] dead-letter records, ARGV[5+k ..] message ids to forget attempts of
-- Returns 1 when acknowledged, 0 when the lease was lost.
local leaving = whole(ARGV[2], 'events leaving pending')
local dead = whole(ARGV[3], 'events dead-lettered')
local k = whole(ARGV[4], 'number of dead-letter records')
if 4 + k > #ARGV then
  error('ERR ' .. k .. ' dead-letter records announced, ' .. (#ARGV - 4) .. ' given')
end
local ids = {}
for i = 5 + k, #ARGV do
  ids[#ids + 1] = ARGV[i]
end

if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  if not redis.call('ZSCORE', KEYS[6], ARGV[1]) then
    return 0
  end
  local counts = {}
  for i, id in ipairs(ids) do
    counts[i] = counterOf(KEYS[5], id)
  end
  redis.call('ZREM', KEYS[6], ARGV[1])
  for i, id in ipairs(ids) do
    if counts[i] > 1 then
      add(KEYS[5], id, -1)
    else
      redis.call('HDEL', KEYS[5], id)
    end
  end
  return 0
end
counterOf(KEYS[3], 'pending')
counterOf(KEYS[3], 'dead_lettered')

redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
add(KEYS[3], 'pending', -leaving)
if k > 0 then
  add(KEYS[3], 'dead_lettered', dead)
  redis.call('LPUSH', KEYS[4], unpack(ARGV, 5, 4 + k))
end
if #ids > 0 then
  redis.call('HDEL', KEYS[5], unpack(ids))
end
return 1
