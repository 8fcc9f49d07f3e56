-- wrk script for bench/run.sh: POST /v1/usage/track as one platform, spreading the
-- calls over a fixed set of end users (rows of the platform's object), like real traffic.
--
--   wrk ... -s bench/track.lua http://127.0.0.1:18900 -- <apiKey> [users] [prefix]
--
-- Every wrk thread walks the userIds <prefix>000 .. <prefix>NNN round-robin, each
-- thread starting at a different offset so that threads do not hit the same user
-- at the same moment. The requests are built once per thread in init(), so the
-- per-request cost inside wrk is a table lookup.

local next_thread_id = 0

function setup(thread)
   thread:set("thread_id", next_thread_id)
   next_thread_id = next_thread_id + 1
end

local requests = {}
local n = 0
local i = 0

function init(args)
   local key = args[1]
   if key == nil or key == "" then
      error("track.lua: pass the api key after --")
   end
   local users = tonumber(args[2] or "100")
   local prefix = args[3] or "bench-user-"
   local headers = {
      ["Authorization"] = "Bearer " .. key,
      ["Content-Type"] = "application/json",
   }
   for u = 0, users - 1 do
      local body = string.format('{"userId":"%s%03d"}', prefix, u)
      requests[u + 1] = wrk.format("POST", "/v1/usage/track", headers, body)
   end
   n = users
   -- thread_id is set by setup(); spread the starting points over the user set.
   i = ((thread_id or 0) * 37) % n
end

function request()
   i = i % n + 1
   return requests[i]
end
