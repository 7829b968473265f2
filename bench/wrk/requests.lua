-- Request generator and machine-readable summary for wrk, used by bench/run.
--   wrk ... -s requests.lua <url> -- id ROWS          GET /users/{random 1..ROWS}
--   wrk ... -s requests.lua <url> -- page ROWS LIMIT  GET /users?limit=LIMIT&after={random 0..ROWS-LIMIT}
--   wrk ... -s requests.lua <url> -- path PATH        GET PATH every time
--   wrk ... -s requests.lua <url> -- idauth ROWS FILE  GET /users/{random 1..ROWS} with
--                                                     Authorization: Bearer {a random line of FILE}
--   wrk ... -s requests.lua <url> -- insert PATH      POST PATH, one random row as a JSON object
--   wrk ... -s requests.lua <url> -- embed ROWS LIMIT GET /teams?select=id,name,members(id,name)
--                                                     &limit=LIMIT&after={random 0..ROWS-LIMIT}
--   wrk ... -s requests.lua <url> -- zipf ROWS LIMIT S ITEMS
--                                                     ITEMS percent GET /users/{id}, the rest
--                                                     GET /users?limit=LIMIT&after={k*LIMIT}; ids
--                                                     and pages k drawn by Zipf with exponent S
-- done() prints one line "bench-json {...}" with the exact counts and latency
-- percentiles (microseconds) that bench/run reads.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

local mode, rows, limit, path
local tokens = {}
local zipf_s, item_share, item_cdf, page_cdf

-- Cumulative weights of ranks 1..n under Zipf (weight 1/k^s), normalized.
local function zipf_cdf(n, s)
  local cdf, total = {}, 0
  for k = 1, n do
    total = total + 1 / k ^ s
    cdf[k] = total
  end
  for k = 1, n do
    cdf[k] = cdf[k] / total
  end
  return cdf
end

-- The rank whose cumulative weight first reaches a uniform draw (binary search).
local function zipf_draw(cdf)
  local u, lo, hi = math.random(), 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end

-- Random requests are drawn and formatted once, at start: formatting one per
-- request would cost the load generator CPU that the server under test and
-- the database share with it. Each thread cycles through its own draw.
local DRAWN = 65536

local function draw()
  if mode == "id" then
    return wrk.format("GET", "/users/" .. math.random(1, rows))
  end
  if mode == "idauth" then
    local token = tokens[math.random(1, #tokens)]
    return wrk.format("GET", "/users/" .. math.random(1, rows),
                      { Authorization = "Bearer " .. token })
  end
  if mode == "insert" then
    -- Row i's values as bench/write_cases.py and bench/db_writes.c write them.
    local i = math.random(1, 1000000000)
    local floor = math.floor
    local score, second = i * 7919 % 10000000, i % 86400
    local body = string.format(
      '{"name":"name-%d","email":"user%d@example.com","score":%d.%02d,' ..
      '"created":"2024-01-%02d %02d:%02d:%02d"}',
      i, i, floor(score / 100), score % 100, 1 + floor(i / 86400) % 28,
      floor(second / 3600), floor(second / 60) % 60, second % 60)
    return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
  end
  if mode == "zipf" then
    if math.random(1, 100) <= item_share then
      return wrk.format("GET", "/users/" .. zipf_draw(item_cdf))
    end
    return wrk.format("GET", "/users?limit=" .. limit .. "&after=" ..
                      (zipf_draw(page_cdf) - 1) * limit)
  end
  if mode == "embed" then
    return wrk.format("GET", "/teams?select=id,name,members(id,name)&limit=" .. limit ..
                      "&after=" .. math.random(0, rows - limit))
  end
  return wrk.format("GET", "/users?limit=" .. limit .. "&after=" .. math.random(0, rows - limit))
end

local drawn, next_index = {}, 0

function init(args)
  mode = args[1] or "path"
  rows = tonumber(args[2] or "0")
  limit = tonumber(args[3] or "100")
  path = args[2] or "/"
  if mode == "idauth" then
    -- One token a line; every request carries one of them, drawn with its id.
    local f = assert(io.open(args[3] or "", "r"))
    for line in f:lines() do
      if line ~= "" then
        table.insert(tokens, line)
      end
    end
    f:close()
    assert(#tokens > 0, "idauth: no token in " .. args[3])
  end
  if mode == "zipf" then
    zipf_s = tonumber(args[4] or "1.1")
    item_share = tonumber(args[5] or "80")
    item_cdf = zipf_cdf(rows, zipf_s)
    page_cdf = zipf_cdf(math.floor(rows / limit), zipf_s)
  end
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919 + math.floor(os.clock() * 1e6))
  if mode == "path" then
    -- A fixed request is formatted once, as wrk does without a script.
    local fixed = wrk.format("GET", path)
    request = function() return fixed end
  else
    for i = 1, DRAWN do
      drawn[i] = draw()
    end
  end
end

function request()
  next_index = next_index % DRAWN + 1
  return drawn[next_index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'bench-json {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,' ..
    '"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
