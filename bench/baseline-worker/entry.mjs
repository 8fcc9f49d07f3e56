// The baseline worker's entry module: worker-build's module (./wasm.js) behind
// crates/edge/js/entry.mjs, as the api worker's is, with the floor's Durable Object
// exported as a class that takes commands by RPC. scripts/build-worker.sh puts it in
// build/ as index.js.
import worker, * as wasm from "./wasm.js";
import { rpcObject } from "./edge.mjs";

export default worker;
export const FloorCounter = rpcObject(wasm.FloorCounter);
