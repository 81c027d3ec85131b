-- Hand the outcomes of committed messages to the processes waiting on them,
-- and to nobody else: a message without a waiter key costs one GET.
-- KEYS: per message, its waiter key then its outcome key (KEYS[2i-1], KEYS[2i])
-- ARGV: per message, its id then its outcome (ARGV[2i-1], ARGV[2i])
-- Returns how many messages had a waiter.
local told = 0
for i = 1, #KEYS, 2 do
  local channel = redis.call('GET', KEYS[i])
  if channel then
    -- The outcome lives as long as the waiter key: whoever waits takes it, else both expire.
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl > 0 then
      redis.call('SET', KEYS[i + 1], ARGV[i + 1], 'PX', ttl)
      redis.call('PUBLISH', channel, ARGV[i])
      told = told + 1
    end
  end
end
return told
