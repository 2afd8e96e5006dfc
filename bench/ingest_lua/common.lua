-- Shared by the ingest scripts: env options, pacing, a count limit, a JSON summary.
-- wrk runs with this directory as its working directory, so `require "common"` finds it.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]

local M = {}
local ts = ffi.new("bench_timespec")

function M.env(name, default)
  local value = os.getenv(name)
  if value == nil or value == "" then return default end
  return value
end

function M.num(name, default)
  return tonumber(M.env(name, default))
end

local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- RATE (requests/s, per wrk thread) paces requests: each call reserves the next slot.
local rate = M.num("RATE", 0)
if rate > 0 then
  local interval, next_slot = 1000 / rate, nil
  function delay()
    local now = now_ms()
    if next_slot == nil or next_slot < now then next_slot = now end
    local wait = next_slot - now
    next_slot = next_slot + interval
    return math.floor(wait + 0.5)
  end
end

-- LIMIT loads a fixed count: request numbers wrap around after LIMIT, so however
-- long wrk runs, the server ends up holding exactly LIMIT x SIZE distinct alerts
-- (later requests repeat earlier ones). The caller stops wrk once they are all in.
M.limit = M.num("LIMIT", 0)

function M.wrap(n)
  if M.limit > 0 then return (n - 1) % M.limit + 1 end
  return n
end

local thread_count = 0
function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end

-- Every run gets a RUN tag so repeated runs against one server stay distinct.
M.run = M.env("RUN", "r0")

-- 16 lowercase hex digits, distinct for each (run, thread, n).
function M.fingerprint(n)
  local tag = 0
  for i = 1, #M.run do tag = (tag * 31 + M.run:byte(i)) % 65536 end
  return string.format("%04x%02x%010x", tag, (tid or 0) % 256, n)
end

return M
