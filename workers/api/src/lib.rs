//! The multi-tenant dream-api worker: developers' servers call it with a `pk_live_` key
//! to define tiers and meter their end-users. Thin by design: requests are parsed into
//! `dream_core` types, core decides, and the Durable Objects of the objects worker
//! (`workers/objects`: one per platform, one per developer, bound here by `script_name`)
//! are the only writers of everything that can change. What other workers share with
//! this one is in `dream_edge`.

mod auth;
mod billing;
mod call;
mod routes;

use dream_edge::http::RuntimeRequest;
use worker::{event, Context, Env, Response};

#[event(fetch)]
async fn fetch(req: RuntimeRequest, env: Env, ctx: Context) -> worker::Result<Response> {
    dream_edge::serve(req, &env, &routes::SERVICE, |id, req, params, received| {
        let call = call::Call { req, env: &env, ctx: &ctx, params, received };
        routes::handle(id, call)
    })
    .await
}
