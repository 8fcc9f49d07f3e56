-- wrk script for bench/run.sh: POST /floor on the baseline worker (one Durable Object
-- round trip adding one to an end-user's row, like a track's one call to its
-- platform's object; see bench/baseline-worker).
wrk.method = "POST"
wrk.path = "/floor"
wrk.body = '{"amount":1}'
wrk.headers["Content-Type"] = "application/json"
