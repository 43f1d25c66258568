-- Every request a new URL: the path given after `--` with `_miss=<connection>-<n>` appended, so no
-- cache (the proxy's or a worker's) has seen it. Used by `make bench` to compare cache misses
-- through the proxy with misses on the site direct.
local path, n = "/", 0
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  path = args[1]
  n = 0
end
function request()
  n = n + 1
  local sep = string.find(path, "?", 1, true) and "&" or "?"
  return wrk.format("GET", path .. sep .. "_miss=" .. id .. "-" .. n)
end
