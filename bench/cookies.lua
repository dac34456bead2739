-- wrk script: GET the URL with a different session cookie on each request, cycling through
-- FILE (one "name=value" per line): many users' sessions, not one hot entry. A line
-- "PATH name=value" GETs PATH instead of the URL's (sessions of many orgs).
--   wrk -t1 -c32 -d3s -s bench/cookies.lua URL -- FILE
local list, paths, i = {}, {}, 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      local path, cookie = line:match("^(/%S*) (.*)$")
      list[#list + 1] = cookie or line
      paths[#list] = path
    end
  end
end

function request()
  i = i % #list + 1
  wrk.headers["Cookie"] = list[i]
  return wrk.format(nil, paths[i])
end
