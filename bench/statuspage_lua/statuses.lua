-- summary.lua's line plus every status code seen, counted per wrk thread
-- (STATUSJSON {"200": n, ...}). Slower: wrk parses each response for response().
local report = require("report")
local threads = {}

setup = function(thread)
  threads[#threads + 1] = thread
end

counts = {}
response = function(status, _headers, _body)
  counts[status] = (counts[status] or 0) + 1
end

done = function(summary, latency, _requests)
  report.summary(summary, latency)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do parts[#parts + 1] = string.format('"%d": %d', status, n) end
  io.write("STATUSJSON {" .. table.concat(parts, ", ") .. "}\n")
end
