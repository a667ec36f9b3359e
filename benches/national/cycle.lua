-- wrk script of the national benchmark (run.sh).
--
--   wrk -t2 -c64 -d10s --latency -s cycle.lua http://127.0.0.1:PORT/graphql -- BODIES_FILE
--
-- With a bodies file (one request body per line), every request is a POST of the next body with
-- `Content-Type: application/json`; the requests are formatted once, in init. Each thread starts at
-- its own offset in the file and cycles through every line. Without a bodies file every request is
-- wrk's own (GET of the URL), through the same request() so that both cases pay the same Lua cost.
--
-- done() prints one line `WRK_JSON {...}` (latencies in microseconds) that run.sh records.

local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local prepared = nil
local count, position = 0, 0

function init(args)
  local path = args[1]
  if path == nil or path == "" then
    return
  end
  prepared = {}
  local headers = { ["Content-Type"] = "application/json" }
  local file = io.open(path, "r")
  if file == nil then
    error("cycle.lua: cannot open bodies file " .. path)
  end
  for line in file:lines() do
    if line ~= "" then
      prepared[#prepared + 1] = wrk.format("POST", nil, headers, line)
    end
  end
  file:close()
  count = #prepared
  if count == 0 then
    error("cycle.lua: no request bodies in " .. path)
  end
  -- Threads start spread over the file (golden-ratio spacing), so they do not send the same
  -- sequence in step.
  position = math.floor((thread_index or 0) * count * 0.6180339887) % count
end

function request()
  if prepared == nil then
    return wrk.request()
  end
  position = position + 1
  if position > count then
    position = 1
  end
  return prepared[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us":%.0f,"requests":%.0f,"bytes":%.0f,' ..
    '"connect_errors":%.0f,"read_errors":%.0f,"write_errors":%.0f,"timeouts":%.0f,"non2xx":%.0f,' ..
    '"latency_mean_us":%.1f,"latency_max_us":%.1f,"p50_us":%.1f,"p90_us":%.1f,"p99_us":%.1f}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
