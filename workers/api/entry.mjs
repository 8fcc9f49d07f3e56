// The api worker's entry module: worker-build's module (./wasm.js: the fetch and queue
// handlers and the objects' wasm classes), with each Durable Object exported as a class
// that takes commands by RPC (crates/edge/js/objects.mjs). scripts/build-worker.sh puts
// it in build/ as index.js.
import worker, * as wasm from "./wasm.js";
import { rpcObject } from "./objects.mjs";

export default worker;
export const Platform = rpcObject(wasm.Platform, { alarm: true });
export const Developer = rpcObject(wasm.Developer);
export const RateLimiter = rpcObject(wasm.RateLimiter);
