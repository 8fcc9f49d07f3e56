// The objects worker's entry module: worker-build's module (./wasm.js: the queue
// consumer, the objects' wasm classes) behind crates/edge/js/entry.mjs, which exports
// each Durable Object as a class that takes commands by RPC. scripts/build-worker.sh
// puts it in build/ as index.js.
import worker, * as wasm from "./wasm.js";
import { rpcObject } from "./edge.mjs";

export default worker;
export const Platform = rpcObject(wasm.Platform, { alarm: true });
export const Developer = rpcObject(wasm.Developer);
export const RateLimiter = rpcObject(wasm.RateLimiter);
