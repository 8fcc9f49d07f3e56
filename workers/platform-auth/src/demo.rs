//! The demo end-user (`dream_core::ids::DEMO_END_USER`): the developer tries their own
//! pricing page from the dashboard as an end-user of their platform. Its checkout is
//! the api worker's end-user checkout (`dream_edge::billing::end_user_checkout`), through
//! the platform's own billing; the Stripe webhook the api worker handles moves its tier;
//! its tier and usage are read as `GET /v1/usage/{userId}` reads them.

use dream_core::clerk::SessionClaims;
use dream_core::command::Auth;
use dream_core::ids::UserId;
use dream_core::protocol::ReadUser;
use dream_edge::billing::{end_user_checkout, ReturnUrls};
use dream_edge::developer::owned;
use dream_edge::error::ApiResult;
use dream_edge::http::{json_body, Incoming, Reply};
use dream_edge::objects;
use dream_edge::Received;
use worker::Env;

/// `POST /v1/demo/checkout` `{tier, successUrl, cancelUrl}` → `{url, sessionId}`.
pub async fn checkout(
    req: &mut Incoming,
    env: &Env,
    developer: &SessionClaims,
    received: &Received,
) -> ApiResult<Reply> {
    let body = json_body(req, false).await?;
    let tier_id = body.required_str("tier")?;
    let urls = ReturnUrls::from_body(&body)?;
    let platform = owned(env, developer, received).await?;
    let demo = UserId::demo();
    end_user_checkout(env, &platform, Auth::Verified, &demo, tier_id, &urls, None).await
}

/// `GET /v1/demo` → `{userId, plan, usage}`: reads, never counts.
pub async fn usage(env: &Env, developer: &SessionClaims, received: &Received) -> ApiResult<Reply> {
    let platform = owned(env, developer, received).await?;
    let command = ReadUser { user_id: UserId::demo() };
    let (answer, _) = objects::platform(env, &platform, Auth::Verified, command).await?;
    Reply::ok(answer)
}
