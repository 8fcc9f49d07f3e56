// The JS side of the entry module of each worker with Durable Objects (the worker's
// entry.mjs, which scripts/build-worker.sh puts in front of worker-build's module as
// build/index.js).
import { DurableObject } from "cloudflare:workers";

// The class to export for a Durable Object's wasm class `Wasm` (one made with
// `dream_edge::rpc_object!`): one whose instances take commands by RPC. The runtime calls
// a class by RPC only if it extends DurableObject, which the classes workers-rs
// generates do not; this one does, and forwards each call to an instance of `Wasm`
// (worker-build's, which also restores it after a panic). `alarm`: whether the object
// sets alarms (then the runtime calls its `alarm`).
export function rpcObject(Wasm, { alarm = false } = {}) {
  class RpcObject extends DurableObject {
    constructor(ctx, env) {
      super(ctx, env);
      this.object = new Wasm(ctx, env);
    }

    // One command: its path and JSON body in, the reply's JSON text out.
    ask(path, body) {
      return this.object.ask(path, body);
    }
  }
  if (alarm) {
    RpcObject.prototype.alarm = function () {
      return this.object.alarm();
    };
  }
  return RpcObject;
}
