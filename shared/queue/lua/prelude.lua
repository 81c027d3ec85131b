-- Prepended to every script (see queue.ts). Redis does not undo what a script
-- wrote before an error, so each script checks all of its arguments and every
-- value it will add to with these helpers first, and only then changes anything.

-- A whole number >= 0 from an argument, or an error naming it.
local function whole(value, what)
  local n = tonumber(value)
  if n == nil or n < 0 or n ~= math.floor(n) then
    error('ERR ' .. what .. ' must be a whole number >= 0, got ' .. tostring(value))
  end
  return n + 0 -- "-0" passes the checks; + 0 makes it 0, which prints as "0" in a message
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

-- Which messages may come in, given their event counts and limits in order: each
-- is let in when the shard's pending events, with those let in before it, stay
-- within its limit. Checks both counters an accepted message adds to, and writes
-- nothing. Returns, for each message, the pending count after it or -1, and the
-- events let in: count those in (countIn) once the messages are where they belong.
local function admitted(counters, counts, limits)
  local pending = counterOf(counters, 'pending')
  counterOf(counters, 'received')
  local results, events = {}, 0
  for i = 1, #counts do
    if pending + counts[i] > limits[i] then
      results[i] = -1
    else
      pending = pending + counts[i]
      events = events + counts[i]
      results[i] = pending
    end
  end
  return results, events
end

-- Counts accepted events in as received and pending. Last: after the writes that
-- can still fail (a push onto a key of the wrong type), so that a failure counts nothing.
local function countIn(counters, events)
  add(counters, 'received', events)
  add(counters, 'pending', events)
end
