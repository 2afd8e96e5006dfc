-- PagerDuty Events v2 triggers, one per request; every 10th reuses a dedup key.
-- KEY: the integration's routing key. RATE / LIMIT: see common.lua.
local common = require("common")
local key = common.env("KEY", "missing")
local source = common.env("SOURCE", "bench")
local counter = 0

request = function()
  counter = counter + 1
  local dedup, host
  if counter % 10 == 0 then
    dedup = "dup-" .. common.run .. "-" .. tid
    host = "dup-" .. tid
  else
    dedup = "k-" .. common.run .. "-" .. tid .. "-" .. counter
    host = "host-" .. counter
  end
  local body = '{"routing_key":"' .. key .. '","event_action":"trigger","dedup_key":"' ..
    dedup .. '","payload":{"summary":"Disk almost full on ' .. host ..
    '","source":"' .. source .. '-' .. host .. '","severity":"critical","custom_details":' ..
    '{"used_percent":' .. (90 + counter % 10) .. ',"mount":"/var"}}}'
  return wrk.format("POST", "/v2/enqueue", {["Content-Type"] = "application/json"}, body)
end
