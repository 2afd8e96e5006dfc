-- Alertmanager's own API: POST /api/v2/alerts with SIZE alerts per request.
-- SIZE=1: every 10th request repeats a label set (a duplicate), as pagerduty.lua does.
-- SIZE>1: every alert distinct. LIMIT: stop after that many answers.
local common = require("common")
local size = common.num("SIZE", 1)
local counter = 0

local function alert(instance, n)
  return '{"labels":{"alertname":"DiskFull","instance":"' .. instance ..
    '","severity":"critical","job":"node"},"annotations":{"summary":"Disk almost full on ' ..
    instance .. '","description":"/var is ' .. (90 + n % 10) .. '% full"},' ..
    '"generatorURL":"http://prometheus.example/graph"}'
end

request = function()
  counter = counter + 1
  local alerts = {}
  if size == 1 then
    local instance = "host-" .. common.run .. "-" .. tid .. "-" .. counter
    if counter % 10 == 0 then instance = "dup-" .. common.run .. "-" .. tid end
    alerts[1] = alert(instance, counter)
  else
    local batch = common.wrap(counter)
    for i = 1, size do
      local n = (batch - 1) * size + i
      alerts[i] = alert("host-" .. common.run .. "-" .. tid .. "-" .. n, n)
    end
  end
  local body = "[" .. table.concat(alerts, ",") .. "]"
  return wrk.format("POST", "/api/v2/alerts", {["Content-Type"] = "application/json"}, body)
end
