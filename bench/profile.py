#!/usr/bin/env python3
"""Records a V8 CPU profile of each dream-api isolate of one `wrangler dev` session
while a command runs, and prints where their time went.

    python3 bench/profile.py PORT OUT_DIR -- COMMAND…

PORT is the session's runtime inspector (workerd's own, which lists every worker of the
session: `GET /json/list`), not wrangler's `--inspector-port`, which reaches only the
primary worker. Profiled: the workers whose title names `core:user:dream…` (the api
worker, its objects worker) and `core:entry` (wrangler's entry worker, in front of every
request). Each profile is written to OUT_DIR/<worker>.cpuprofile (open it in Chrome
DevTools' Performance panel, or `summarize` it again with `--summarize FILE`).

The report gives, per isolate, the share of the sampled time spent in each function
itself (self) and under it (inclusive); Rust names lose their hash suffix. The shares
are of the profile's wall time: `(idle)` and `(program)` are the isolate waiting and the
runtime's own work outside JavaScript and wasm. Wasm functions have names only in a
build that keeps the names section (`DREAM_KEEP_NAMES=1 scripts/build-worker.sh`,
which bench/profile.sh uses).
"""

import json
import pathlib
import re
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict

import websocket

PROFILED = re.compile(r"core:(user:dream|entry)")
SAMPLING_INTERVAL_US = 250
TOP = 25


def call(ws: websocket.WebSocket, ident: int, method: str, params: dict | None = None) -> dict:
    """One inspector command; workerd answers some with no `result`, so match on the id."""
    ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
    while True:
        raw = ws.recv()
        if not raw:
            continue
        message = json.loads(raw)
        if message.get("id") == ident:
            if "error" in message:
                raise RuntimeError(f"{method}: {message['error']}")
            return message


def start(url: str) -> websocket.WebSocket:
    """Connects to one isolate and starts its profiler. workerd sometimes resets an
    inspector connection made while the isolate is still settling after load; a second
    connection a moment later works."""
    for attempt in range(1, 4):
        try:
            ws = websocket.create_connection(url, timeout=120)
            call(ws, 1, "Profiler.enable")
            call(ws, 2, "Profiler.setSamplingInterval", {"interval": SAMPLING_INTERVAL_US})
            call(ws, 3, "Profiler.start")
            return ws
        except (OSError, websocket.WebSocketException) as e:
            if attempt == 3:
                raise SystemExit(f"bench/profile.py: the inspector at {url} failed: {e}")
            time.sleep(1)
    raise AssertionError("unreachable")


def record(port: str, out_dir: pathlib.Path, command: list[str]) -> list[pathlib.Path]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
        targets = [t for t in json.load(answer) if PROFILED.search(t["title"])]
    if not targets:
        raise SystemExit(f"bench/profile.py: no dream-api worker on the inspector at {port}")
    sessions = [(target, start(target["webSocketDebuggerUrl"])) for target in targets]
    try:
        ran = subprocess.run(command, check=False)
    finally:
        written = []
        for target, ws in sessions:
            profile = call(ws, 4, "Profiler.stop")["result"]["profile"]
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", target["title"].split()[-1])
            path = out_dir / f"{name}.cpuprofile"
            path.write_text(json.dumps(profile))
            written.append(path)
            ws.close()
    if ran.returncode != 0:
        raise SystemExit(f"bench/profile.py: {command[0]} exited with {ran.returncode}")
    return written


def frame_name(node: dict) -> str:
    frame = node["callFrame"]
    name = re.sub(r"::h[0-9a-f]{16}$", "", frame["functionName"]) or "(anonymous)"
    url = frame["url"]
    if url and not url.startswith("wasm://"):
        name += f" ({url.rsplit('/', 1)[-1]}:{frame['lineNumber'] + 1})"
    return name


def summarize(path: pathlib.Path) -> str:
    profile = json.loads(path.read_text())
    nodes = {n["id"]: n for n in profile["nodes"]}
    parent = {c: n["id"] for n in profile["nodes"] for c in n.get("children", [])}
    spent: dict[int, int] = defaultdict(int)
    for sample, delta in zip(profile["samples"], profile["timeDeltas"]):
        spent[sample] += delta
    total = sum(spent.values()) or 1
    self_time: dict[str, int] = defaultdict(int)
    inclusive: dict[str, int] = defaultdict(int)
    for node_id, micros in spent.items():
        self_time[frame_name(nodes[node_id])] += micros
        seen = set()
        while node_id is not None:
            name = frame_name(nodes[node_id])
            if name not in seen:
                seen.add(name)
                inclusive[name] += micros
            node_id = parent.get(node_id)
    lines = [f"{path.stem}: {total / 1e6:.1f} s sampled"]
    for title, table in (("self", self_time), ("inclusive", inclusive)):
        lines.append(f"  {title}:")
        for name, micros in sorted(table.items(), key=lambda kv: -kv[1])[:TOP]:
            lines.append(f"    {100 * micros / total:5.1f} %  {name[:150]}")
    return "\n".join(lines)


def main() -> int:
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--summarize":
        print(summarize(pathlib.Path(args[1])))
        return 0
    if len(args) < 4 or args[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = pathlib.Path(args[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in record(args[0], out_dir, args[3:]):
        print(summarize(path))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
