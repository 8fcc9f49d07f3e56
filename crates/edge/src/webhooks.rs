//! Webhooks to developers, as both the api worker (with the API key) and the dashboard's
//! backend (with the developer's session) serve them: a platform's endpoints and its
//! alert thresholds, held by the platform's object (`dream_core::protocol::webhooks`).
//!
//! An endpoint's secrets (`EndpointSecrets`: the current one, and a rotated-out one for
//! 24 h) are sealed here under `TOKEN_ENCRYPTION_KEY` before the object stores them, as a
//! connected Stripe account is; a secret is shown once, when it is made.

use crate::clock;
use crate::config;
use crate::crypto;
use crate::error::{ApiError, ApiResult};
use crate::http::Incoming;
use crate::http::{json_body, post_status, query_int, Reply};
use crate::objects;
use crate::random::{fill_random, random_source};
use dream_core::command::Auth;
use dream_core::error::ErrorCode;
use dream_core::ids::PlatformId;
use dream_core::protocol::webhooks::{
    AddEndpoint, DeliveryKey, Endpoint, FinishAttempts, GetAlerts, ListDeliveries, ListEndpoints,
    RemoveEndpoint, ReplaceSecrets, SealedSecrets, SendTest, SetAlerts, StartAttempts,
};
use dream_core::time::rfc3339;
use dream_core::webhooks::delivery::TIMEOUT_SECONDS;
use dream_core::webhooks::{
    sign, Attempt, EndpointId, EndpointRequest, EndpointSecrets, EndpointUrl, Loopback, Thresholds,
    WebhookSecret,
};
use futures_util::future::join_all;
use serde_json::{json, Value};
use worker::Env;

/// The longest page of a delivery history.
const MAX_DELIVERIES: u64 = 100;
/// How often a rotation starts again after losing to a simultaneous one.
const ROTATION_ATTEMPTS: usize = 3;

/// A new secret from the CSPRNG.
fn new_secret() -> ApiResult<WebhookSecret> {
    let mut bytes = [0u8; WebhookSecret::KEY_BYTES];
    fill_random(&mut bytes)?;
    Ok(WebhookSecret::generate(bytes))
}

async fn seal(env: &Env, secrets: &EndpointSecrets) -> ApiResult<String> {
    crypto::seal(&config::sealing_key(env)?, &serde_json::to_vec(secrets)?).await
}

async fn open(env: &Env, sealed: &str) -> ApiResult<EndpointSecrets> {
    let opened = crypto::open(&config::sealing_key(env)?, sealed).await?;
    Ok(serde_json::from_slice(&opened)?)
}

/// The `{id}` of a webhook route: anything that is not an endpoint id names no endpoint.
pub fn endpoint_id(raw: &str) -> ApiResult<EndpointId> {
    EndpointId::parse(raw).map_err(|_| ApiError::not_found("The webhook endpoint"))
}

/// `POST …/webhooks {url, events?, description?}` → `201` with the secret, shown once.
pub async fn create(
    req: &mut Incoming,
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
) -> ApiResult<Reply> {
    let body = json_body(req, false).await?;
    let request = EndpointRequest::parse(&body, config::loopback_webhooks(env))?;
    let secret = new_secret()?;
    let sealed_secrets = seal(env, &EndpointSecrets::new(secret.clone())).await?;
    let id = EndpointId::generate(&mut random_source()?);
    let endpoint = Endpoint::new(id, request, rfc3339(clock::now()));
    let answer = endpoint.created_answer(secret.reveal());
    let command = AddEndpoint { endpoint, sealed_secrets };
    let ((), preview) = objects::platform(env, platform, auth, command).await?;
    Ok(Reply::with_status(201, answer)?.previewing(preview))
}

/// `GET …/webhooks` → `{endpoints}`, never a secret.
pub async fn list(env: &Env, platform: &PlatformId, auth: Auth) -> ApiResult<Reply> {
    let (endpoints, preview) = objects::platform_json(env, platform, auth, ListEndpoints).await?;
    Ok(Reply::ok(json!({ "endpoints": endpoints }))?.previewing(preview))
}

/// `DELETE …/webhooks/{id}` → `204`.
pub async fn delete(env: &Env, platform: &PlatformId, auth: Auth, id: &str) -> ApiResult<Reply> {
    let command = RemoveEndpoint { id: endpoint_id(id)? };
    let ((), preview) = objects::platform(env, platform, auth, command).await?;
    Ok(Reply::with_status(204, Value::Null)?.previewing(preview))
}

/// `POST …/webhooks/{id}/rotate-secret` → `{secret}`: the new secret signs from now on,
/// the one it replaces beside it for 24 h. The object stores the rotated secrets only
/// over the ones this rotation opened, so simultaneous rotations each keep theirs in turn.
pub async fn rotate_secret(
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
    id: &str,
) -> ApiResult<Reply> {
    let id = endpoint_id(id)?;
    let secret = new_secret()?;
    for _ in 0..ROTATION_ATTEMPTS {
        let command = SealedSecrets { id: id.clone() };
        let (expected, _) = objects::platform(env, platform, auth.clone(), command).await?;
        let mut secrets = open(env, &expected).await?;
        secrets.rotate(secret.clone(), clock::now());
        let sealed_secrets = seal(env, &secrets).await?;
        let command = ReplaceSecrets { id: id.clone(), expected, sealed_secrets };
        match objects::platform(env, platform, auth.clone(), command).await {
            Ok(((), preview)) => {
                return Ok(Reply::ok(json!({ "secret": secret.reveal() }))?.previewing(preview))
            }
            Err(e) if e.code == ErrorCode::Conflict => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::new(
        ErrorCode::Conflict,
        "The endpoint's secret is being rotated by other requests at the same time; retry.",
    ))
}

/// `POST …/webhooks/{id}/test` → `202 {messageId}`: a `webhook.test` message, queued.
pub async fn send_test(env: &Env, platform: &PlatformId, auth: Auth, id: &str) -> ApiResult<Reply> {
    let command = SendTest { id: endpoint_id(id)? };
    let (message_id, preview) = objects::platform_json(env, platform, auth, command).await?;
    Ok(Reply::with_status(202, json!({ "messageId": message_id }))?.previewing(preview))
}

/// `GET …/webhooks/{id}/deliveries?limit=` → `{deliveries}`, newest first (`limit`
/// 1–100, 100 when absent).
pub async fn deliveries(
    req: &Incoming,
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
    id: &str,
) -> ApiResult<Reply> {
    let limit = query_int(req, "limit", 1, MAX_DELIVERIES)?.unwrap_or(MAX_DELIVERIES);
    let command = ListDeliveries { id: endpoint_id(id)?, limit: limit as usize };
    let (deliveries, preview) = objects::platform_json(env, platform, auth, command).await?;
    Ok(Reply::ok(json!({ "deliveries": deliveries }))?.previewing(preview))
}

/// A batch's deliveries for one platform, as the queue's consumer makes them: asks the
/// platform's object what to send (one call), opens each endpoint's secrets once, signs
/// each message with the secrets as they are now, `POST`s them all at once (15 s at
/// most each, redirects not followed) and reports the answers (one call). Returns, for
/// each delivery in order, the delay before its next attempt, if the object wants one.
pub async fn deliver(
    env: &Env,
    platform: &PlatformId,
    deliveries: Vec<DeliveryKey>,
) -> ApiResult<Vec<Option<u32>>> {
    let start = StartAttempts { deliveries: deliveries.clone() };
    let (attempts, _) = objects::platform(env, platform, Auth::Verified, start).await?;
    let mut opened: Vec<(&str, EndpointSecrets)> = Vec::new();
    for attempt in attempts.iter().flatten() {
        let sealed = attempt.sealed_secrets.as_str();
        if !opened.iter().any(|(s, _)| *s == sealed) {
            opened.push((sealed, open(env, sealed).await?));
        }
    }
    let loopback = config::loopback_webhooks(env);
    let attempted: Vec<(usize, &DeliveryKey, &Attempt)> = deliveries
        .iter()
        .zip(&attempts)
        .enumerate()
        .filter_map(|(i, (key, attempt))| attempt.as_ref().map(|a| (i, key, a)))
        .collect();
    let statuses = join_all(attempted.iter().map(|(_, key, attempt)| {
        let sealed = attempt.sealed_secrets.as_str();
        let secrets = opened.iter().find(|(s, _)| *s == sealed).map(|(_, secrets)| secrets);
        attempt_once(key, attempt, secrets, loopback)
    }))
    .await;
    let results: Vec<(DeliveryKey, Option<u16>)> = attempted
        .iter()
        .zip(statuses)
        .map(|((_, key, _), status)| ((*key).clone(), status))
        .collect();
    let mut retries = vec![None; deliveries.len()];
    if results.is_empty() {
        return Ok(retries);
    }
    let finish = FinishAttempts { results };
    let (answered, _) = objects::platform(env, platform, Auth::Verified, finish).await?;
    for ((i, _, _), retry) in attempted.iter().zip(answered) {
        retries[*i] = retry;
    }
    Ok(retries)
}

/// One attempt: its answer's status, or `None` (no answer in time, or nothing sent).
async fn attempt_once(
    key: &DeliveryKey,
    attempt: &Attempt,
    secrets: Option<&EndpointSecrets>,
    loopback: Loopback,
) -> Option<u16> {
    if let Err(e) = EndpointUrl::parse(&attempt.url, loopback) {
        // An address no longer allowed (such as loopback outside local development) is
        // an attempt without an answer: nothing is sent to it.
        worker::console_error!("webhook {}: {} ({})", key.message_id, e.0, attempt.url);
        return None;
    }
    let now = clock::now();
    let timestamp = now.timestamp();
    let signature =
        sign(&secrets?.signing(now), &key.message_id, timestamp, attempt.body.as_bytes());
    let headers = [
        ("webhook-id", key.message_id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
        ("content-type", "application/json".to_owned()),
        ("user-agent", "dream-api-webhooks/1".to_owned()),
    ];
    post_status(&attempt.url, &headers, attempt.body.clone(), TIMEOUT_SECONDS * 1000).await
}

/// `GET …/alerts` → `{thresholds}` (`[80, 100]` until set).
pub async fn get_alerts(env: &Env, platform: &PlatformId, auth: Auth) -> ApiResult<Reply> {
    let (thresholds, preview) = objects::platform_json(env, platform, auth, GetAlerts).await?;
    Ok(Reply::ok(json!({ "thresholds": thresholds }))?.previewing(preview))
}

/// `PUT …/alerts {thresholds}` → `{thresholds}`, sorted, each once.
pub async fn put_alerts(
    req: &mut Incoming,
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
) -> ApiResult<Reply> {
    let body = json_body(req, false).await?;
    let thresholds = Thresholds::from_request(&body)?;
    let (thresholds, preview) =
        objects::platform_json(env, platform, auth, SetAlerts { thresholds }).await?;
    Ok(Reply::ok(json!({ "thresholds": thresholds }))?.previewing(preview))
}
