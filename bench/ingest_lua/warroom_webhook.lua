-- Alertmanager webhook notifications (version 4) of SIZE distinct firing alerts.
-- KEY: the integration key. LIMIT: stop after that many answers (distinct batches).
local common = require("common")
local key = common.env("KEY", "missing")
local size = common.num("SIZE", 100)
local path = "/integrations/alertmanager/" .. key
local batch = 0

local function alert(n)
  local instance = "host-" .. common.run .. "-" .. tid .. "-" .. n
  return '{"status":"firing","labels":{"alertname":"DiskFull","instance":"' .. instance ..
    '","severity":"critical","job":"node"},"annotations":{"summary":"Disk almost full on ' ..
    instance .. '","description":"/var is ' .. (90 + n % 10) .. '% full"},' ..
    '"startsAt":"2026-11-27T06:20:23Z","endsAt":"0001-01-01T00:00:00Z",' ..
    '"generatorURL":"http://prometheus.example/graph","fingerprint":"' ..
    common.fingerprint(n) .. '"}'
end

request = function()
  batch = batch + 1
  local n = common.wrap(batch)
  local alerts = {}
  for i = 1, size do alerts[i] = alert((n - 1) * size + i) end
  local body = '{"version":"4","groupKey":"{}:{alertname=\\"DiskFull\\", batch=\\"' .. n ..
    '\\"}","truncatedAlerts":0,"status":"firing","receiver":"warroom",' ..
    '"groupLabels":{"alertname":"DiskFull"},"commonLabels":{"alertname":"DiskFull",' ..
    '"severity":"critical","job":"node"},"commonAnnotations":{},' ..
    '"externalURL":"http://alertmanager.example:9093","alerts":[' ..
    table.concat(alerts, ",") .. ']}'
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end
