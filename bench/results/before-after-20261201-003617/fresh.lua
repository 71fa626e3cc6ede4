
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function init(args) counter = 0 end
function request()
  counter = counter + 1
  return wrk.format(nil, "/api/daily_papers?fresh=" .. tid .. "-" .. counter)
end
