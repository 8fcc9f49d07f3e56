//! End-user billing around `dream_core::billing`: the platform's connected Stripe
//! account (kept sealed under `TOKEN_ENCRYPTION_KEY` by the platform's object), the
//! account its end-users pay through, and its paid tiers' Stripe products and prices.
//! Stripe is called here, never from inside an object's decision: the object is asked
//! again afterwards, and refuses a result that no longer fits (`SetTiers`).

use crate::config;
use crate::crypto;
use crate::error::{ApiError, ApiResult};
use crate::http::Reply;
use crate::objects;
use crate::stripe;
use dream_core::billing::{
    account_hash, checkout_tier, plan_prices, return_url, with_price, BillingAccount,
    CheckoutRequest, ConnectRecord, PricedTiers, PREVIEW_END_USERS,
};
use dream_core::command::Auth;
use dream_core::error::ErrorCode;
use dream_core::ids::{Email, PlatformId, UserId};
use dream_core::json::JsonObject;
use dream_core::platform::{paying_account, Connection, Mode};
use dream_core::protocol::{
    AdmitEndUser, BillingState, Disconnect, GetBilling, GetEndUserBilling, SetTiers,
};
use dream_core::stripe_form::checkout_idempotency_key;
use dream_core::tier::{Tier, TierConfig};
use serde_json::json;
use worker::Env;

/// The platform's billing state, as its object holds it now.
pub async fn state(env: &Env, platform: &PlatformId) -> ApiResult<BillingState> {
    Ok(objects::platform(env, platform, Auth::Verified, GetBilling).await?.0)
}

/// The platform's connected account, opened; `None` when it has none.
pub async fn connect_record(
    env: &Env,
    connection: Option<&Connection>,
) -> ApiResult<Option<ConnectRecord>> {
    let Some(connection) = connection else {
        return Ok(None);
    };
    let opened = crypto::open(&config::sealing_key(env)?, &connection.sealed).await?;
    Ok(Some(serde_json::from_slice(&opened)?))
}

/// Seals a connected account for the platform's object (a fresh nonce every time).
pub async fn seal(env: &Env, record: &ConnectRecord) -> ApiResult<Connection> {
    let sealed = crypto::seal(&config::sealing_key(env)?, &serde_json::to_vec(record)?).await?;
    Ok(Connection {
        sealed,
        account_hash: account_hash(&record.stripe_user_id),
        ready: record.ready,
    })
}

/// The account the platform's end-users pay through: ours in preview, the connected
/// one in production.
pub async fn billing_account(env: &Env, state: &BillingState) -> ApiResult<BillingAccount> {
    let connected = match state.mode {
        Mode::Preview => None,
        Mode::Production => connect_record(env, state.connection.as_ref()).await?,
    };
    paying_account(state.mode, connected.as_ref()).ok_or_else(|| {
        ApiError::internal(format!(
            "platform {} is in production without a ready connected account",
            state.platform_id
        ))
    })
}

fn priced(state: &BillingState) -> ApiResult<PricedTiers> {
    let config = TierConfig::from_stored(state.tiers.clone())
        .ok_or_else(|| ApiError::internal("a stored tier configuration is invalid"))?;
    Ok(PricedTiers { config, account: state.prices_account.clone() })
}

/// Stores `next` as the platform's tiers, each paid tier with a Stripe product and
/// monthly price on `account`: kept from before when the tier and account are the same,
/// created otherwise (with idempotency keys, so a retry creates nothing twice). If
/// Stripe fails, nothing is stored and the call can be retried; if the platform changed
/// account meanwhile, its object refuses the tiers (`409`, retry).
pub async fn price_tiers(
    env: &Env,
    state: &BillingState,
    next: &TierConfig,
    account: &BillingAccount,
) -> ApiResult<Vec<Tier>> {
    let platform = &state.platform_id;
    let (mut config, to_create) = plan_prices(platform, &priced(state)?, next, account);
    for item in to_create {
        let product =
            stripe::post_as(env, account, "/v1/products", &item.product, Some(&item.product_key))
                .await?;
        let mut params = item.price.clone();
        params["product"] = json!(product["id"]);
        let price =
            stripe::post_as(env, account, "/v1/prices", &params, Some(&item.price_key)).await?;
        let price_id = price["id"]
            .as_str()
            .ok_or_else(|| ApiError::internal("Stripe returned a price without an id"))?;
        config = with_price(&config, &item.tier_id, price_id);
    }
    let command = SetTiers { tiers: config.tiers().to_vec(), account: account.clone() };
    Ok(objects::platform(env, platform, Auth::Verified, command).await?.0)
}

/// The platform's tiers with prices on the account its end-users pay through now,
/// creating them first if the platform changed account since they were priced.
pub async fn current_prices(
    env: &Env,
    state: &BillingState,
    account: &BillingAccount,
) -> ApiResult<TierConfig> {
    let priced = priced(state)?;
    if priced.priced_on(account) {
        return Ok(priced.config);
    }
    let tiers = price_tiers(env, state, &priced.config, account).await?;
    TierConfig::from_stored(tiers).ok_or_else(|| ApiError::internal("priced tiers are invalid"))
}

/// Forgets the platform's connected account (only `account_hash`, when given) and
/// returns it to preview, its tiers priced on our account again (best effort: checkout
/// does it too). Returns the connection it removed.
pub async fn disconnect(
    env: &Env,
    platform: &PlatformId,
    account_hash: Option<String>,
) -> ApiResult<Option<Connection>> {
    let (removed, _) =
        objects::platform(env, platform, Auth::Verified, Disconnect { account_hash }).await?;
    if removed.is_some() {
        reprice(env, platform).await;
    }
    Ok(removed)
}

/// Prices the platform's tiers on the account its end-users now pay through; a
/// failure is logged (checkout prices them again when needed).
pub async fn reprice(env: &Env, platform: &PlatformId) {
    let priced = async {
        let state = state(env, platform).await?;
        let account = billing_account(env, &state).await?;
        current_prices(env, &state, &account).await
    };
    if let Err(e) = priced.await {
        worker::console_error!(
            "pricing {platform}'s tiers after a change of account: {}",
            e.message
        );
    }
}

/// Where Stripe Checkout sends an end-user back: `successUrl` and `cancelUrl` of a
/// request body, each an absolute http(s) URL (`400` otherwise).
pub struct ReturnUrls {
    pub success: String,
    pub cancel: String,
}

impl ReturnUrls {
    pub fn from_body(body: &JsonObject) -> ApiResult<Self> {
        Ok(Self {
            success: return_url("successUrl", body.required_str("successUrl")?)?,
            cancel: return_url("cancelUrl", body.required_str("cancelUrl")?)?,
        })
    }
}

/// `403 forbidden` for an end-user beyond the preview's limit.
fn preview_full() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        format!(
            "This platform is in preview, which serves at most {PREVIEW_END_USERS} end-users; connect Stripe in the dashboard to serve more."
        ),
    )
}

/// Stripe Checkout for an end-user buying the platform's paid tier `tier_id`, through
/// the account its end-users pay through now (ours in preview, the connected one in
/// production): `{url, sessionId}`, marked with whether the platform is in preview.
/// `auth` is how the caller asks the platform's object. A tier that does not exist or
/// is free is a `400`; an end-user beyond the preview's limit a `403`. The session and
/// its subscription name the platform and the end-user, so the webhook moves them to
/// the tier once it is paid.
pub async fn end_user_checkout(
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
    user: &UserId,
    tier_id: &str,
    urls: &ReturnUrls,
    email: Option<&Email>,
) -> ApiResult<Reply> {
    let (state, preview) = objects::platform(env, platform, auth, GetBilling).await?;
    let result = async {
        let account = billing_account(env, &state).await?;
        let tiers = current_prices(env, &state, &account).await?;
        let tier = checkout_tier(&tiers, tier_id)?;
        let price_id = tier.stripe_price_id.as_deref().ok_or_else(|| {
            ApiError::internal(format!("paid tier {} has no Stripe price", tier.id))
        })?;
        let command = GetEndUserBilling { user_id: user.clone() };
        let (billing, _) = objects::platform(env, platform, Auth::Verified, command).await?;
        let params = CheckoutRequest {
            platform,
            user,
            tier,
            price_id,
            success_url: &urls.success,
            cancel_url: &urls.cancel,
            email: email.map(Email::as_str),
            customer: billing.customer_on(&account),
        }
        .params();
        let buyer = format!("{platform}:{user}");
        let key = checkout_idempotency_key(&buyer, &params, crate::clock::now_secs());
        let session =
            stripe::post_as(env, &account, "/v1/checkout/sessions", &params, Some(&key)).await?;
        // A checkout that started takes one of the preview's end-user seats; one refused
        // here is never handed out (an unused session expires by itself).
        let admit = AdmitEndUser { user_id: user.clone() };
        let (admitted, _) = objects::platform(env, platform, Auth::Verified, admit).await?;
        if !admitted {
            return Err(preview_full());
        }
        Reply::ok(json!({ "url": session["url"], "sessionId": session["id"] }))
    }
    .await;
    result.map(|r| r.previewing(preview)).map_err(|e| e.previewing(preview))
}

/// Stripe Checkout for the platform's own paid plan (`STRIPE_PRICE_ID`); `409` once it
/// is subscribed. The session and the subscription name the platform, which is what
/// the plan events are applied to.
pub async fn plan_checkout(
    env: &Env,
    platform: &PlatformId,
    auth: dream_core::command::Auth,
    success_url: &str,
    cancel_url: &str,
) -> ApiResult<crate::http::Reply> {
    let (view, preview) =
        objects::platform(env, platform, auth, dream_core::protocol::GetPlatform).await?;
    if view.subscribed {
        return Err(ApiError::new(
            dream_core::error::ErrorCode::Conflict,
            "This platform is already subscribed; manage it in the portal.",
        )
        .previewing(preview));
    }
    let price = config::required(env, "STRIPE_PRICE_ID")?;
    let params = dream_core::platform::plan_checkout_params(
        platform,
        &price,
        success_url,
        cancel_url,
        Some(&view.info.email),
    );
    let key = dream_core::stripe_form::checkout_idempotency_key(
        platform.as_str(),
        &params,
        crate::clock::now_secs(),
    );
    let session = stripe::post(env, "/v1/checkout/sessions", &params, Some(&key)).await?;
    Ok(crate::http::Reply::ok(json!({ "url": session["url"], "sessionId": session["id"] }))?
        .previewing(preview))
}

/// The Stripe customer portal for the platform's own plan; `409` before it subscribed.
pub async fn plan_portal(
    env: &Env,
    platform: &PlatformId,
    auth: dream_core::command::Auth,
    return_url: &str,
) -> ApiResult<crate::http::Reply> {
    let (view, preview) =
        objects::platform(env, platform, auth, dream_core::protocol::GetPlatform).await?;
    let customer = view.customer_id.ok_or_else(|| {
        ApiError::new(
            dream_core::error::ErrorCode::Conflict,
            "There is no subscription to manage yet: upgrade first.",
        )
        .previewing(preview)
    })?;
    let params = json!({ "customer": customer, "return_url": return_url });
    let session = stripe::post(env, "/v1/billing_portal/sessions", &params, None).await?;
    Ok(crate::http::Reply::ok(json!({ "url": session["url"] }))?.previewing(preview))
}
