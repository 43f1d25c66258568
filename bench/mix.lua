-- A mix of URLs for one wrk load: the paths come after `--` on wrk's command line, and each
-- connection cycles through them (used by `make bench` for cache-miss traffic over the mix).
local paths = {}
function init(args)
  for _, path in ipairs(args) do table.insert(paths, path) end
  n = math.random(#paths)
end
function request()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end
