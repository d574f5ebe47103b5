-- wrk script for bench/proxy-bench: POSTs the JSON body named by $BENCH_BODY to the URL's path and, when done,
-- prints one machine-readable line:
--   RESULT <requests> <req/s> <p50 ms> <p99 ms> <non-2xx/3xx responses> <socket errors>
-- Latency percentiles come from wrk's own histogram (latency:percentile, microseconds).
local path = os.getenv("BENCH_BODY") or "body.json"
local file = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
-- The caller's gateway key ($BENCH_KEY): both proxies drop it and send the provider key instead.
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_KEY") or "none")

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT %d %.1f %.3f %.3f %d %d\n",
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
