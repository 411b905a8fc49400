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
  local total, late_sends = {}, 0
  for _, thread in ipairs(threads_seen) do
    for k, v in pairs(thread:get("statuses")) do
      total[k] = (total[k] or 0) + v
    end
    late_sends = late_sends + thread:get("late")
  end
  io.write(string.format(
    'WRK-JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"socket_errors":%d,"late":%d,"statuses":%s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    late_sends, json_table(total)))
end

-- At a fixed rate (params.rate requests/s over all connections), when asked: each thread sends on
-- its own schedule, one request every `interval` ms, its threads offset by a fraction of it. wrk
-- calls delay() when a connection is ready to send; the connection takes the thread's next free
-- time, so the requests go out evenly spaced at the rate whatever the answers take (a fixed pause
-- after each answer instead would send every connection's request at once, in bursts, and slow
-- down with the server). A send more than 5 ms behind its time means no connection was free: the
-- run was then no longer open loop, and `late` counts such sends.
late = 0
if params.rate and params.rate > 0 then
  local ffi = require("ffi")
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock_id, bench_timespec *tp);
  ]]
  local clock = ffi.new("bench_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
    return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
  end
  local interval = 1000 * params.threads / params.rate
  local next_at = nil

  function delay()
    local now = now_ms()
    next_at = next_at and next_at + interval or now + thread_id * interval / params.threads
    if next_at < now - 5 then
      late = late + 1
    end
    return math.max(0, next_at - now)
  end
end
