// The JS side of dream_edge::objects: a Durable Object class whose instances take
// commands by RPC. The runtime calls a class by RPC only if it extends DurableObject,
// which the classes workers-rs generates do not; this class does, and forwards each call
// to an instance of the object's wasm class (built by worker-build, which also restores
// it after a panic). scripts/build-worker.sh copies this file beside each worker's build.
import { DurableObject } from "cloudflare:workers";

// The class to export for the wasm class `Wasm` (one made with `dream_edge::rpc_object!`).
// `alarm`: whether the object sets alarms (then the runtime calls its `alarm`).
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
