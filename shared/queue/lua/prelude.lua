-- Prepended to every script (see queue.ts). Redis does not undo what a script
-- wrote before an error, so each script checks all of its arguments and every
-- value it will add to with these helpers first, and only then changes anything.

-- A whole number >= 0 from an argument, or an error naming it.
local function whole(value, what)
  local n = tonumber(value)
  if n == nil or n < 0 or n ~= math.floor(n) then
    error('ERR ' .. what .. ' must be a whole number >= 0, got ' .. tostring(value))
  end
  return n
end

-- The integer a hash field holds (0 when absent), or an error: HINCRBY would
-- fail on it only after the script had written other keys.
local function counterOf(key, field)
  local value = redis.call('HGET', key, field)
  if value == false then
    return 0
  end
  local n = tonumber(value)
  if n == nil or n ~= math.floor(n) then
    error('ERR ' .. key .. ' ' .. field .. ' holds ' .. tostring(value) .. ', not an integer')
  end
  return n
end

-- HINCRBY by a non-zero amount, written as an integer: Lua prints -0 as "-0"
-- and large numbers as "1e+15", both of which HINCRBY refuses.
local function add(key, field, n)
  if n ~= 0 then
    redis.call('HINCRBY', key, field, string.format('%d', n))
  end
end

-- A message's event count and id from its header, `<count>|<accepted at>|<id>|<events>`
-- (message.ts). Messages queued before the header had explicit fields read
-- `<count>|{"id":"<id>",...}`. Garbage gives nil.
local function headerOf(raw)
  local count, id = string.match(raw, '^(%d+)|%d*|([^|]+)|')
  if count == nil then
    count, id = string.match(raw, '^(%d+)|{"id":"([^"\\]+)"')
  end
  if count == nil then
    return nil, nil
  end
  return tonumber(count), id
end

-- Whether n more events keep `pending` within maxPending (checking both counters
-- an accepted message adds to), and counts them in when they do: -1 when they do
-- not, else the pending count after. Call it last, once everything else is checked.
local function admit(counters, n, maxPending)
  local pending = counterOf(counters, 'pending')
  counterOf(counters, 'received')
  if pending + n > maxPending then
    return -1
  end
  add(counters, 'received', n)
  add(counters, 'pending', n)
  return pending + n
end
