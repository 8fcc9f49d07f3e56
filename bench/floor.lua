-- wrk script for bench/run.sh: POST /floor on the baseline worker (two Durable Object
-- round trips at once, like a track's two meters; see bench/baseline-worker).
wrk.method = "POST"
wrk.path = "/floor"
wrk.body = '{"amount":1}'
wrk.headers["Content-Type"] = "application/json"
