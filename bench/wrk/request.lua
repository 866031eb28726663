-- One request shape for wrk, from the environment (bench/lib/wrk.mjs sets it):
--   BENCH_METHOD        GET, POST, …
--   BENCH_BODY_FILE     optional: the request body, sent as is
--   BENCH_HEADERS_FILE  optional: one "name: value" per line
--   BENCH_UNIQUE_HEADER optional: a header given a value of its own on every request
--                       (e.g. a delivery id, so each request is a first delivery)
-- When done, prints one line "BENCH_JSON {…}" with the counts and latency percentiles (µs).

local function read(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  wrk.body = read(body_file)
end
local headers_file = os.getenv("BENCH_HEADERS_FILE")
if headers_file and headers_file ~= "" then
  for line in read(headers_file):gmatch("[^\n]+") do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then
      wrk.headers[name] = value
    end
  end
end

local unique_header = os.getenv("BENCH_UNIQUE_HEADER")
if unique_header and unique_header ~= "" then
  -- This run's prefix (time and a table's address differ between wrk processes), then a counter.
  local prefix = string.format("bench-%x-%s", os.time(), tostring({}):match("0x(%x+)") or "0")
  local counter = 0
  function request()
    counter = counter + 1
    local headers = {}
    for name, value in pairs(wrk.headers) do
      headers[name] = value
    end
    headers[unique_header] = prefix .. "-" .. counter
    return wrk.format(nil, nil, headers, nil)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
