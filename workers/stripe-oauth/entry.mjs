// The Connect worker's entry module: worker-build's module (./wasm.js) behind
// crates/edge/js/entry.mjs, which exports its Durable Object as a class that takes
// commands by RPC. scripts/build-worker.sh puts it in build/ as index.js.
import worker, * as wasm from "./wasm.js";
import { rpcObject } from "./edge.mjs";

export default worker;
export const OAuthStates = rpcObject(wasm.OAuthStates);
