-- Endpoint mix for `make soak`: public pages and feeds with hostile queries mixed in.
-- Each wrk thread counts statuses; done() adds them up across threads.
local paths = {
  "/drugbeleid/caseload.json",
  "/drugbeleid/caseload.csv",
  "/drugbeleid/passages.json?_search=drugbehandelingskamer",
  "/drugbeleid/caseload.json?_facet=justice_house_id",
  "/drugbeleid/staffing/antwerpen,2022-10-14.json",
  "/drugbeleid/caseload_by_year.json",
  "/drugbeleid.json?sql=select+year%2C+sum(dossiers)+from+caseload+group+by+year",
  "/drugbeleid/statistics",
  "/datapackage.json",
  "/drugbeleid.json?sql=select+printf('%25.*c'%2C+2147483647%2C+'x')",
  "/drugbeleid.json?sql=with+recursive+c(x)+as+(select+1+union+all+select+x%2B1+from+c)+select+count(*)+from+c",
  "/drugbeleid.json?sql=select+randomblob(100000000)",
  "/drugbeleid/caseload.json?_sort=nope",
  "/%5Cexample.com",
}
-- The costly requests of the hostile suite (bench/hostile.py, written one a line by bench/soak.py).
local hostile = os.getenv("SOAK_HOSTILE_PATHS")
if hostile then
  for line in io.lines(hostile) do
    if #line > 0 then table.insert(paths, line) end
  end
end
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  counts = {s2 = 0, s3 = 0, s4 = 0, s5 = 0}
  n = 0
end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
function response(status, headers, body)
  local key = "s" .. math.floor(status / 100)
  counts[key] = (counts[key] or 0) + 1
end
function done(summary, latency, requests)
  local total = {s2 = 0, s3 = 0, s4 = 0, s5 = 0}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  io.write(string.format("SOAK requests=%d duration_s=%.1f rps=%.1f p50_ms=%.1f p99_ms=%.1f status_2xx=%d status_3xx=%d status_4xx=%d status_5xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    total.s2, total.s3, total.s4, total.s5,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
