-- wrk script: replays pre-built request bodies, each exactly once (bench/load/wrk.ts runs it).
-- Arguments after `--`: a directory holding <thread>.txt (one body a line) for each thread, and the
-- path to POST to. Thread n sends the lines of n.txt; once every one of them is answered it prints
-- "done" and stops. Until then, a connection with no body left asks GET /healthz, which counts for
-- nothing (wrk wants a request from every call). done() prints one JSON line for the bench.

local threads = {}
local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end

local bodies = {}
local path
local sent = 0
accepted = 0
failed = 0

function init(args)
  path = args[2]
  for line in io.lines(args[1] .. "/" .. id .. ".txt") do
    table.insert(bodies, line)
  end
  if #bodies == 0 then
    io.write("done\n")
    io.flush()
  end
end

-- wrk 4.1 calls request() once a thread before it connects and throws that request away:
-- the first call gets the harmless one, so that no body is lost to it.
local primed = false

function request()
  if not primed then
    primed = true
    return wrk.format("GET", "/healthz")
  end
  sent = sent + 1
  if sent <= #bodies then
    return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, bodies[sent])
  end
  return wrk.format("GET", "/healthz")
end

function response(status, headers, body)
  if accepted + failed >= #bodies then return end
  if status == 202 then
    accepted = accepted + 1
  elseif status ~= 200 then
    failed = failed + 1
  end
  if accepted + failed == #bodies then
    io.write("done\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("accepted")
    bad = bad + thread:get("failed")
  end
  io.write(string.format(
    '{"accepted":%d,"failed":%d,"requests":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    ok, bad, summary.requests, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
