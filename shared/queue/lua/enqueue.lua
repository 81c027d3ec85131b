-- Accept requests, each on its own and in order, as if they came one call each: a
-- request's events either all count (queued, received and pending raised) or, when
-- they would take the shard's pending events past that request's limit, nothing of
-- it is done. The accepted requests go into the queue as ONE message (message.ts):
-- alone, `<count>|<at>|<id>|<events>`; several, `<count>|<at>|<first id>|<id>:<count>,...|<events>`,
-- their event arrays joined in order. One message for a turn's requests is what
-- makes one-event requests cheap downstream: one claim entry, one processed id, one
-- acknowledgement for all of them. Pushing and counting happen in one step, so that
-- `received` can never disagree with what the queue was given. Ingest sends the
-- requests of one turn of its event loop together (queue-shard.ts).
-- KEYS[1] queue list, KEYS[2] counters hash
-- ARGV[1] accepted at (ms since epoch, or empty), ARGV[2] 'join' (the accepted requests
-- share one message) or 'apart' (one message each, as before QUEUE_MESSAGE_MAX_REQUESTS),
-- then in fours, one for each request: its batch id, its event count, its max pending,
-- its events as a JSON array. To join, each request has events and an id that a batch
-- list can hold: none of | : , and no leading [ (queue-shard.ts sees to it).
-- Returns, for each request in order, the pending count after it, or -1 when it was refused.
local n = (#ARGV - 2) / 4
if n < 1 or n ~= math.floor(n) then
  error('ERR enqueue takes the accepted-at, join or apart, and one or more fours of batch id, event count, max pending, events; got ' .. #ARGV .. ' arguments')
end
local at, join = ARGV[1], ARGV[2] == 'join'
if not string.match(at, '^%d*$') then
  error('ERR accepted-at must be digits or empty, got ' .. at)
end
if not join and ARGV[2] ~= 'apart' then
  error('ERR the second argument must be join or apart, got ' .. ARGV[2])
end
local LEFT_BRACKET, RIGHT_BRACKET = string.byte('[]', 1, 2)
local counts, limits = {}, {}
for i = 1, n do
  local id = ARGV[4 * i - 1]
  counts[i] = whole(ARGV[4 * i], 'event count')
  limits[i] = whole(ARGV[4 * i + 1], 'max pending')
  if id == '' or string.find(id, '|', 1, true) then
    error('ERR a batch id must be non-empty without |, got ' .. id)
  end
  -- Plain finds and byte tests rather than patterns: `[:,]` is tried at every position of the id,
  -- and `^%[.*%]$` reads the whole array; together they were half of what the script cost a request.
  if join and n > 1 and (counts[i] == 0 or string.byte(id) == LEFT_BRACKET or string.find(id, ':', 1, true) or string.find(id, ',', 1, true)) then
    error('ERR a request joined with others needs events and an id without : or , or a leading [; got ' .. id)
  end
  local array = ARGV[4 * i + 2]
  if string.byte(array) ~= LEFT_BRACKET or string.byte(array, -1) ~= RIGHT_BRACKET then
    error('ERR the events of ' .. id .. ' must be a JSON array')
  end
end
local results, events = admitted(KEYS[2], counts, limits)
local accepted = {}
for i = 1, n do
  if results[i] >= 0 then
    accepted[#accepted + 1] = i
  end
end
if #accepted == 0 then
  return results
end
local messages = {}
if join and #accepted > 1 then
  local list, arrays = {}, {}
  for k, i in ipairs(accepted) do
    list[k] = ARGV[4 * i - 1] .. ':' .. counts[i]
    arrays[k] = string.sub(ARGV[4 * i + 2], 2, -2) -- `[a,b]` to `a,b`
  end
  messages[1] = events .. '|' .. at .. '|' .. ARGV[4 * accepted[1] - 1] .. '|' .. table.concat(list, ',') .. '|[' .. table.concat(arrays, ',') .. ']'
else
  for k, i in ipairs(accepted) do
    messages[k] = counts[i] .. '|' .. at .. '|' .. ARGV[4 * i - 1] .. '|' .. ARGV[4 * i + 2]
  end
end
redis.call('LPUSH', KEYS[1], unpack(messages)) -- one after another: the last ends at the head
countIn(KEYS[2], events)
return results
