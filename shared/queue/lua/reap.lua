-- Return the messages of claims whose lease ran out to the queue's tail, so
-- they are claimed next (each alone, see claim.lua), and count one more attempt
-- for each message. The claim is remembered as reaped for a while: if its worker
-- was alive after all and acknowledges late, ack.lua takes the attempt back.
-- KEYS[1] leases zset, KEYS[2] queue list, KEYS[3] attempts hash, KEYS[4] reaped-claims zset
-- ARGV[1] processing list prefix, ARGV[2] max claims to return in one call,
-- ARGV[3] how long (ms) a reaped claim is remembered
-- Returns the number of messages returned.
local maxClaims = whole(ARGV[2], 'max claims')
local rememberMs = whole(ARGV[3], 'remember ms')
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', nowMs, 'LIMIT', 0, maxClaims)
-- Read and check everything first. Latest expiry first, so the claim that expired
-- first ends nearest the tail and is claimed first; within a claim newest first,
-- so that the oldest ends at the tail, where claims take from.
local returning, ids = {}, {}
for c = #expired, 1, -1 do
  local items = redis.call('LRANGE', ARGV[1] .. expired[c], 0, -1)
  for i = #items, 1, -1 do
    returning[#returning + 1] = items[i]
    local _, id = headerOf(items[i])
    if id then
      counterOf(KEYS[3], id)
      ids[#ids + 1] = id
    end
  end
end

for _, item in ipairs(returning) do
  redis.call('RPUSH', KEYS[2], item)
end
for _, id in ipairs(ids) do
  add(KEYS[3], id, 1)
end
for _, claim in ipairs(expired) do
  redis.call('DEL', ARGV[1] .. claim)
  redis.call('ZREM', KEYS[1], claim)
  redis.call('ZADD', KEYS[4], nowMs, claim)
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', nowMs - rememberMs)
return #returning
