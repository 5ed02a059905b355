-- wrk script for scripts/bench --appliance: POSTs a 2-line chat request (system + user) and
-- counts answers that are not a signed 200, so a fast run of errors cannot pass for throughput.
-- With BENCH_BODIES (a file of hex lines, from ohttp_bodies.py) it POSTs those encapsulated
-- requests to /v1/ohttp in turn instead, and counts answers that are not a 200
-- message/ohttp-res (their signature is sealed; ohttp_bodies.py verified one per suite).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
  or '{"model":"local","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello"}]}'
local marker = os.getenv("BENCH_MARKER") or "tee_signature"
local bodies_file = os.getenv("BENCH_BODIES")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local requests = nil -- the encapsulated requests, formatted once
local next_index = 0

function init(args)
  bad = 0
  if bodies_file then
    requests = {}
    local headers = { ["Content-Type"] = "message/ohttp-req" }
    for line in io.lines(bodies_file) do
      local body = line:gsub("..", function(pair) return string.char(tonumber(pair, 16)) end)
      table.insert(requests, wrk.format("POST", nil, headers, body))
    end
    next_index = math.random(#requests)
  end
end

if bodies_file then
  function request()
    next_index = next_index % #requests + 1
    return requests[next_index]
  end
end

local function header(headers, name)
  for key, value in pairs(headers) do
    if string.lower(key) == name then return value end
  end
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  elseif bodies_file then
    if header(headers, "content-type") ~= "message/ohttp-res" then bad = bad + 1 end
  elseif not string.find(body, marker, 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
  end
  io.write(string.format("BENCH unsigned=%d\n", total))
  for _, p in ipairs({50, 99}) do
    io.write(string.format("BENCH p%d_us=%d\n", p, latency:percentile(p)))
  end
  io.write(string.format("BENCH requests=%d duration_us=%d errors=%d\n", summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end
