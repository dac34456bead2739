-- wrk script for bench/load/run_load.py: GET the URL with a different session cookie on each
-- request (cycling through FILE, one "name=value" per line, read again every 2000 requests),
-- count the answers per status, and print them at the end as one line "STATUS 200=n ..."
-- (all threads added up).
--   wrk -t2 -c32 -d180s -s bench/load/session_get.lua URL -- FILE
local cookies, i = {}, 0
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

local file, n = nil, 0

local function load()
  local fresh = {}
  for line in io.lines(file) do
    if #line > 0 then fresh[#fresh + 1] = line end
  end
  if #fresh > 0 then cookies = fresh end
end

function init(args)
  file = args[1]
  load()
  i = math.random(#cookies)
  statuses = {}
end

function request()
  n = n + 1
  if n % 2000 == 0 then load() end -- run_load.py keeps the file at the newest sessions
  i = i % #cookies + 1
  wrk.headers["Cookie"] = cookies[i]
  return wrk.format()
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do parts[#parts + 1] = status .. "=" .. n end
  table.sort(parts)
  io.write("STATUS " .. table.concat(parts, " ") .. "\n")
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
  io.write(string.format("LATENCY_US p50=%d p99=%d max=%d\n",
    latency:percentile(50), latency:percentile(99), latency.max))
end
