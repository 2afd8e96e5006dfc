-- wrk's own request (method, path, -H headers) unchanged; done() prints one JSON line.
-- No response() callback: defining one makes wrk parse every response into Lua
-- tables, which costs more than nginx takes to answer. wrk still counts answers
-- with a status above 399 (errors.status) and every byte read, which done() reports.
local report = require("report")

done = function(summary, latency, _requests)
  report.summary(summary, latency)
end
