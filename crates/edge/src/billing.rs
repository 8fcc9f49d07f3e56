//! End-user billing around `dream_core::billing`: the platform's connected Stripe
//! account (sealed under `TOKEN_ENCRYPTION_KEY` in `platform:{id}:stripe`), the account
//! its end-users pay through, and its paid tiers' Stripe products and prices.

use crate::config;
use crate::crypto;
use crate::error::{ApiError, ApiResult};
use crate::store::Store;
use crate::stripe;
use dream_core::billing::{plan_prices, with_price, BillingAccount, ConnectRecord, PricedTiers};
use dream_core::ids::PlatformId;
use dream_core::platform::{Mode, PlatformMeta};
use dream_core::tier::TierConfig;
use serde_json::json;
use worker::{Context, Env};

/// The platform's connected account, opened; `None` when it has none.
pub async fn connect_record(
    env: &Env,
    store: &Store,
    platform: &PlatformId,
) -> ApiResult<Option<ConnectRecord>> {
    let Some(sealed) = store.sealed_stripe(platform).await? else {
        return Ok(None);
    };
    let opened = crypto::open(&config::sealing_key(env)?, &sealed).await?;
    Ok(Some(serde_json::from_slice(&opened)?))
}

/// Seals and stores the platform's connected account (a fresh nonce every write).
pub async fn put_connect_record(
    env: &Env,
    store: &Store,
    platform: &PlatformId,
    record: &ConnectRecord,
) -> ApiResult<()> {
    let sealed = crypto::seal(&config::sealing_key(env)?, &serde_json::to_vec(record)?).await?;
    store.put_sealed_stripe(platform, sealed).await?;
    store.put_connected_platform(&record.stripe_user_id, platform).await
}

/// The account the platform's end-users pay through: ours in preview, the connected
/// one in production.
pub async fn billing_account(
    env: &Env,
    store: &Store,
    meta: &PlatformMeta,
) -> ApiResult<BillingAccount> {
    if meta.mode == Mode::Preview {
        return Ok(BillingAccount::Ours);
    }
    match connect_record(env, store, &meta.platform_id).await? {
        Some(record) if record.ready => Ok(BillingAccount::Connected(record.stripe_user_id)),
        _ => Err(ApiError::internal(format!(
            "platform {} is in production without a connected account",
            meta.platform_id
        ))),
    }
}

/// Stores `next` as the platform's tiers, each paid tier with a Stripe product and
/// monthly price on `account`: kept from before when the tier and account are the same,
/// created otherwise (with idempotency keys, so a retry creates nothing twice). If
/// Stripe fails, nothing is stored and the call can be retried.
pub async fn price_tiers(
    env: &Env,
    ctx: &Context,
    store: &Store,
    platform: &PlatformId,
    next: &TierConfig,
    account: &BillingAccount,
) -> ApiResult<TierConfig> {
    let previous = store.priced_tiers(ctx, platform).await?;
    let (mut config, to_create) = plan_prices(platform, &previous, next, account);
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
    let priced = PricedTiers { config: config.clone(), account: Some(account.clone()) };
    store.put_priced_tiers(platform, &priced).await?;
    Ok(config)
}

/// The platform's tiers with prices on the account its end-users pay through now,
/// creating them first if the platform changed account since they were priced.
pub async fn current_prices(
    env: &Env,
    ctx: &Context,
    store: &Store,
    meta: &PlatformMeta,
    account: &BillingAccount,
) -> ApiResult<TierConfig> {
    let priced = store.priced_tiers(ctx, &meta.platform_id).await?;
    let has_paid = priced.config.tiers().iter().any(|t| !t.is_free());
    if !has_paid || priced.account.as_ref() == Some(account) {
        return Ok(priced.config);
    }
    price_tiers(env, ctx, store, &meta.platform_id, &priced.config, account).await
}

/// Forgets the platform's connected account and returns it to preview, its tiers priced
/// on our account again (best effort: checkout does it too).
pub async fn disconnect(
    env: &Env,
    ctx: &Context,
    store: &Store,
    mut meta: PlatformMeta,
    record: Option<&ConnectRecord>,
) -> ApiResult<()> {
    if let Some(record) = record {
        store.delete_sealed_stripe(&meta.platform_id).await?;
        store.delete_connected_platform(&record.stripe_user_id).await?;
    }
    if meta.mode != Mode::Preview {
        meta.mode = Mode::Preview;
        store.put_platform_meta(&meta).await?;
        reprice(env, ctx, store, &meta).await;
    }
    Ok(())
}

/// Prices the platform's tiers on the account its end-users now pay through; a
/// failure is logged (checkout prices them again when needed).
pub async fn reprice(env: &Env, ctx: &Context, store: &Store, meta: &PlatformMeta) {
    let priced = async {
        let account = billing_account(env, store, meta).await?;
        current_prices(env, ctx, store, meta, &account).await
    };
    if let Err(e) = priced.await {
        worker::console_error!(
            "pricing {}'s tiers after a change of account: {}",
            meta.platform_id,
            e.message
        );
    }
}
