-- Shared by every scenario of bench/pairs.py (wrk runs it after the generated prelude, which
-- sets `params`, and before the scenario's own script, which defines `body(i)` or `path(i)`).
-- Each thread numbers its requests i = offset + n * threads + thread id, so that bodies differ
-- across threads and runs; it counts answers by status; done() prints one JSON line.

threads_seen = {}
function setup(thread)
  thread:set("thread_id", #threads_seen)
  threads_seen[#threads_seen + 1] = thread
end

local n = 0
statuses = {}

function next_index()
  local i = params.offset + n * params.threads + thread_id
  n = n + 1
  return i
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

local function json_table(t)
  local parts = {}
  for k, v in pairs(t) do
    parts[#parts + 1] = string.format("%q:%d", k, v)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads_seen) do
    for k, v in pairs(thread:get("statuses")) do
      total[k] = (total[k] or 0) + v
    end
  end
  io.write(string.format(
    'WRK-JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"socket_errors":%d,"statuses":%s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    json_table(total)))
end

-- Open loop at a fixed rate (params.rate requests/s over all connections), when asked.
if params.rate and params.rate > 0 then
  function delay()
    return 1000 * params.connections / params.rate
  end
end
