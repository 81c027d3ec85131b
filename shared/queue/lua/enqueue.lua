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
-- ARGV[1] accepted at (ms since epoch, or empty), then in fours, one for each request:
-- its batch id, its event count, its max pending, its events as a JSON array.
-- With several requests, each has events and an id without | : or , (queue-shard.ts sees to it).
-- Returns, for each request in order, the pending count after it, or -1 when it was refused.
local n = (#ARGV - 1) / 4
if n < 1 or n ~= math.floor(n) then
  error('ERR enqueue takes the accepted-at and one or more fours of batch id, event count, max pending, events; got ' .. #ARGV .. ' arguments')
end
local at = ARGV[1]
if not string.match(at, '^%d*$') then
  error('ERR accepted-at must be digits or empty, got ' .. at)
end
local counts, limits = {}, {}
for i = 1, n do
  local id = ARGV[4 * i - 2]
  counts[i] = whole(ARGV[4 * i - 1], 'event count')
  limits[i] = whole(ARGV[4 * i], 'max pending')
  if id == '' or string.find(id, '|', 1, true) then
    error('ERR a batch id must be non-empty without |, got ' .. id)
  end
  if n > 1 and (counts[i] == 0 or string.find(id, '[:,]')) then
    error('ERR a request sent with others needs events and an id without : or ,; got ' .. id)
  end
end
local results, events = admitted(KEYS[2], counts, limits)
local first, ids, arrays = nil, {}, {}
for i = 1, n do
  if results[i] >= 0 then
    first = first or ARGV[4 * i - 2]
    ids[#ids + 1] = ARGV[4 * i - 2] .. ':' .. counts[i]
    arrays[#arrays + 1] = ARGV[4 * i + 1]
  end
end
if first == nil then
  return results
end
local message
if #ids == 1 then
  message = events .. '|' .. at .. '|' .. first .. '|' .. arrays[1]
else
  for i = 1, #arrays do
    arrays[i] = string.sub(arrays[i], 2, -2) -- `[a,b]` to `a,b`
  end
  message = events .. '|' .. at .. '|' .. first .. '|' .. table.concat(ids, ',') .. '|[' .. table.concat(arrays, ',') .. ']'
end
redis.call('LPUSH', KEYS[1], message)
countIn(KEYS[2], events)
return results
