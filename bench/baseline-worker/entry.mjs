// The baseline worker's entry module: worker-build's module (./wasm.js) with the floor's
// Durable Object exported as a class that takes commands by RPC, as the api worker's are
// (crates/edge/js/objects.mjs). scripts/build-worker.sh puts it in build/ as index.js.
import worker, * as wasm from "./wasm.js";
import { rpcObject } from "./objects.mjs";

export default worker;
export const FloorCounter = rpcObject(wasm.FloorCounter);
