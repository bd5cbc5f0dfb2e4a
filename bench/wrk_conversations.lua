-- wrk script for bench/wrk_load.py: the same simulated customers as bench/locustfile.py, from C.
--
-- wrk is run with as many threads as connections (-t N -c N), so each thread is one customer
-- on one connection: it sends a turn, waits for the answer, sends the next. The conversations
-- come from bench/conversations.py, written by bench/wrk_load.py into the Lua file named by
-- BENCH_CONVERSATIONS: CONVERSATIONS[thread] is that thread's list, each a list of JSON-encoded
-- customer messages. A conversation's last turn asks the server to close the connection, and
-- before the next conversation the customer waits 0-50 ms, as locust's customers do.
-- A turn fails on a non-200 answer or an empty reply list; done() prints one JSON line.

CONVERSATIONS = dofile(os.getenv("BENCH_CONVERSATIONS"))
local PATH = os.getenv("BENCH_PATH") or "/webhooks/kefu/webhook"
-- each run's own: a sender id is never reused by a later run (its tracker would be extended)
local RUN = os.getenv("BENCH_RUN") or tostring(os.time())

local threads = {}
local started = 0

function setup(thread)
  started = started + 1
  thread:set("thread_number", started)
  table.insert(threads, thread)
end

-- per thread (each wrk thread has its own Lua state)
failures = 0
conversations_started = 0
local mine, conversation_index, turn_index, sender

local function begin(index)
  conversation_index, turn_index = index, 1
  conversations_started = conversations_started + 1
  sender = string.format("bench-wrk-%s-%d-%d", RUN, thread_number, conversations_started)
end

function init(args)
  mine = CONVERSATIONS[thread_number]
  math.randomseed(thread_number)
  begin(1)
end

-- request() builds the turn that is due and response() moves on: wrk also calls request() once
-- to check the script (thread 1), and again to resend after a broken connection
function request()
  local turns = mine[conversation_index]
  local body = '{"sender":"' .. sender .. '","message":' .. turns[turn_index] .. '}'
  local headers = { ["Content-Type"] = "application/json" }
  if turn_index == #turns then
    headers["Connection"] = "close"
  end
  return wrk.format("POST", PATH, headers, body)
end

function delay()
  -- called before each turn but a connection's first: a pause only before a new conversation
  if turn_index == 1 then
    return math.random(0, 50)
  end
  return 0
end

function response(status, headers, body)
  local failed = status ~= 200 or not body or not string.find(body, "^%s*%[%s*{")
  if failed then
    failures = failures + 1
  end
  -- a failed turn ends its conversation, as in bench/locustfile.py
  if failed or turn_index == #mine[conversation_index] then
    begin(conversation_index % #mine + 1)
  else
    turn_index = turn_index + 1
  end
end

function done(summary, latency, requests)
  local failed, begun = 0, 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
    begun = begun + thread:get("conversations_started")
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "microseconds": %d, "failures": %d, "socket_errors": %d, "conversations": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, failed,
    errors.connect + errors.read + errors.write + errors.timeout, begun,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
