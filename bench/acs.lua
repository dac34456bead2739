-- wrk script: POST pre-minted ACS bodies (one application/x-www-form-urlencoded form per
-- line of FILE; a line "PATH BODY" posts to PATH instead of the URL's path, e.g. many orgs'
-- ACS), each exactly once, starting at byte START, COUNT of them. When they are all sent,
-- connections send GET /bench-idle (a 404, never counted) until every POST has its answer,
-- then the thread stops (wrk still waits out -d). Counts 302/303 (a login) and anything else
-- but 404 (a refusal); with COOKIES_OUT, appends the first cookie of every login's
-- Set-Cookie there, one per line.
--   wrk -t1 -c16 -d5s -s bench/acs.lua URL -- FILE START COUNT [COOKIES_OUT]
-- Prints one line: "ACS sent=N ok=N refused=N".
local f, left, verified = nil, 0, false
sent, ok, refused, cookie_out = 0, 0, 0, nil
cookies = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  f = assert(io.open(args[1], "rb"))
  f:seek("set", tonumber(args[2]))
  left = tonumber(args[3])
  cookie_out = args[4]
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  -- wrk calls request() once after init() only to check the request parses (thread 0,
  -- and this script is meant for -t1): that one is not sent, so it must not use a body
  if not verified then
    verified = true
    return wrk.format("GET", "/bench-idle")
  end
  if left <= 0 then
    return wrk.format("GET", "/bench-idle")
  end
  left = left - 1
  sent = sent + 1
  local line = f:read("l")
  local path, body = line:match("^(/%S*) (.*)$")
  if path then return wrk.format("POST", path, nil, body) end
  return wrk.format("POST", nil, nil, line)
end

function response(status, headers, body)
  if status == 404 then
    -- an idle request
  elseif status == 303 or status == 302 then
    ok = ok + 1
    if cookie_out then
      local c = headers["Set-Cookie"] or headers["set-cookie"]
      if c then cookies[#cookies + 1] = c:match("^[^;]+") end
    end
  else
    refused = refused + 1
  end
  if left <= 0 and ok + refused >= sent then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local s, o, r = 0, 0, 0
  for _, t in ipairs(threads) do
    s, o, r = s + t:get("sent"), o + t:get("ok"), r + t:get("refused")
    local path = t:get("cookie_out")
    if path then
      local out = assert(io.open(path, "a"))
      for _, c in ipairs(t:get("cookies")) do out:write(c, "\n") end
      out:close()
    end
  end
  io.write(string.format("ACS sent=%d ok=%d refused=%d\n", s, o, r))
end
