-- wrk script for scripts/bench --appliance: POSTs a 2-line chat request (system + user) and
-- counts answers that are not a signed 200, so a fast run of errors cannot pass for throughput.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
  or '{"model":"local","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say hello"}]}'
local marker = os.getenv("BENCH_MARKER") or "tee_signature"

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, marker, 1, true) then
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
