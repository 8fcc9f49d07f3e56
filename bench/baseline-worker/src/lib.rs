//! The benchmark's baseline: the smallest useful workers-rs worker, answering every
//! request with a fixed JSON body. The api worker's latency is reported relative to it.

use worker::{event, Context, Env, Request, Response};

#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> worker::Result<Response> {
    Response::from_json(&serde_json::json!({ "ok": true }))
}
