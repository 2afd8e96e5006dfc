-- Shared by summary.lua and statuses.lua: one WRKJSON line from done()'s arguments.
-- (A script given to wrk -s must return nothing: a value it returns stays on the
-- Lua stack and shifts the tables wrk builds for done().)
local M = {}

function M.summary(summary, latency)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end

return M
