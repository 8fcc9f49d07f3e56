//! KV reads and writes, behind an in-isolate cache (fresh 10 s, then served stale for
//! up to 60 s while one background read refreshes it). Writes update the local cache at
//! once, so a change is visible immediately where it was made.

use crate::error::{ApiError, ApiResult};
use dream_core::api_key::ApiKeyHash;
use dream_core::billing::{BillingAccount, PricedTiers, StripeAccountId};
use dream_core::cache::{Freshness, TtlCache};
use dream_core::ids::PlatformId;
use dream_core::platform::PlatformMeta;
use dream_core::storage::{self, KeyRecord};
use dream_core::tier::{Tier, TierConfig};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::hash::Hash;
use std::thread::LocalKey;
use worker::{Context, Date, Env};

const FRESH_MS: i64 = 10_000;
const USABLE_MS: i64 = 60_000;
const CAPACITY: usize = 10_000;

type Cache<K, V> = RefCell<TtlCache<K, V>>;

thread_local! {
    static KEYS: Cache<String, Option<KeyRecord>> = RefCell::new(TtlCache::new(FRESH_MS, USABLE_MS, CAPACITY));
    static METAS: Cache<PlatformId, Option<PlatformMeta>> = RefCell::new(TtlCache::new(FRESH_MS, USABLE_MS, CAPACITY));
    static TIERS: Cache<PlatformId, PricedTiers> = RefCell::new(TtlCache::new(FRESH_MS, USABLE_MS, CAPACITY));
}

pub fn now_ms() -> i64 {
    Date::now().as_millis() as i64
}

/// The stored form of a tier configuration: the tiers, and the Stripe account their
/// prices were created on.
#[derive(Serialize, Deserialize)]
struct StoredTiers {
    tiers: Vec<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prices_account: Option<BillingAccount>,
}

#[derive(Clone)]
pub struct Store {
    env: Env,
}

impl Store {
    pub fn new(env: &Env) -> Self {
        Self { env: env.clone() }
    }

    fn tokens(env: &Env) -> ApiResult<worker::kv::KvStore> {
        env.kv("TOKENS_KV").map_err(|e| ApiError::internal(format!("TOKENS_KV binding: {e}")))
    }

    pub async fn key_record(
        &self,
        ctx: &Context,
        hash: &ApiKeyHash,
    ) -> ApiResult<Option<KeyRecord>> {
        let name = storage::api_key_record(hash);
        read_through(&KEYS, name.clone(), ctx, &self.env, name, parse_json).await
    }

    pub async fn platform_meta(
        &self,
        ctx: &Context,
        platform: &PlatformId,
    ) -> ApiResult<Option<PlatformMeta>> {
        let name = storage::platform_meta(platform);
        read_through(&METAS, platform.clone(), ctx, &self.env, name, parse_json).await
    }

    /// The platform's metadata, which a verified key's platform always has.
    pub async fn existing_platform(
        &self,
        ctx: &Context,
        platform: &PlatformId,
    ) -> ApiResult<PlatformMeta> {
        self.platform_meta(ctx, platform).await?.ok_or_else(|| {
            ApiError::internal(format!("platform {platform} has a key but no metadata"))
        })
    }

    /// The platform's tiers; a platform that never set any has the default.
    pub async fn tier_config(&self, ctx: &Context, platform: &PlatformId) -> ApiResult<TierConfig> {
        Ok(self.priced_tiers(ctx, platform).await?.config)
    }

    /// The platform's tiers and the account their Stripe prices are on.
    pub async fn priced_tiers(
        &self,
        ctx: &Context,
        platform: &PlatformId,
    ) -> ApiResult<PricedTiers> {
        let name = storage::tier_config(platform);
        read_through(&TIERS, platform.clone(), ctx, &self.env, name, parse_tiers).await
    }

    /// The sealed value under `platform:{id}:stripe` (read from KV, not cached).
    pub async fn sealed_stripe(&self, platform: &PlatformId) -> ApiResult<Option<String>> {
        Ok(Self::tokens(&self.env)?.get(&storage::platform_stripe(platform)).text().await?)
    }

    pub async fn put_sealed_stripe(&self, platform: &PlatformId, sealed: String) -> ApiResult<()> {
        Self::tokens(&self.env)?
            .put(&storage::platform_stripe(platform), sealed)?
            .execute()
            .await?;
        Ok(())
    }

    /// The platform connected to `account`, from its hashed index.
    pub async fn connected_platform(
        &self,
        account: &StripeAccountId,
    ) -> ApiResult<Option<PlatformId>> {
        let stored = kv_text(&self.env, &storage::connected_account(account)).await?;
        Ok(stored.and_then(|id| PlatformId::parse(&id).ok()))
    }

    pub async fn put_connected_platform(
        &self,
        account: &StripeAccountId,
        platform: &PlatformId,
    ) -> ApiResult<()> {
        Self::tokens(&self.env)?
            .put(&storage::connected_account(account), platform.as_str())?
            .execute()
            .await?;
        Ok(())
    }

    pub async fn delete_connected_platform(&self, account: &StripeAccountId) -> ApiResult<()> {
        Self::tokens(&self.env)?.delete(&storage::connected_account(account)).await?;
        Ok(())
    }

    pub async fn delete_sealed_stripe(&self, platform: &PlatformId) -> ApiResult<()> {
        Self::tokens(&self.env)?.delete(&storage::platform_stripe(platform)).await?;
        Ok(())
    }

    pub async fn put_key_record(&self, hash: &ApiKeyHash, record: &KeyRecord) -> ApiResult<()> {
        let name = storage::api_key_record(hash);
        Self::tokens(&self.env)?.put(&name, serde_json::to_string(record)?)?.execute().await?;
        KEYS.with(|c| c.borrow_mut().put(name, Some(record.clone()), now_ms()));
        Ok(())
    }

    pub async fn current_key_hash(&self, platform: &PlatformId) -> ApiResult<Option<ApiKeyHash>> {
        let stored =
            Self::tokens(&self.env)?.get(&storage::platform_current_key(platform)).text().await?;
        Ok(stored.as_deref().and_then(ApiKeyHash::from_stored))
    }

    pub async fn put_current_key_hash(
        &self,
        platform: &PlatformId,
        hash: &ApiKeyHash,
    ) -> ApiResult<()> {
        Self::tokens(&self.env)?
            .put(&storage::platform_current_key(platform), hash.as_str())?
            .execute()
            .await?;
        Ok(())
    }

    /// The platform a signed-in developer owns (read from KV, not cached: it changes once).
    pub async fn developer_platform(&self, clerk_user_id: &str) -> ApiResult<Option<PlatformId>> {
        let stored = Self::tokens(&self.env)?
            .get(&storage::developer_platform(clerk_user_id))
            .text()
            .await?;
        Ok(stored.and_then(|id| PlatformId::parse(&id).ok()))
    }

    pub async fn put_developer_platform(
        &self,
        clerk_user_id: &str,
        platform: &PlatformId,
    ) -> ApiResult<()> {
        Self::tokens(&self.env)?
            .put(&storage::developer_platform(clerk_user_id), platform.as_str())?
            .execute()
            .await?;
        Ok(())
    }

    pub async fn put_platform_meta(&self, meta: &PlatformMeta) -> ApiResult<()> {
        let name = storage::platform_meta(&meta.platform_id);
        Self::tokens(&self.env)?.put(&name, serde_json::to_string(meta)?)?.execute().await?;
        METAS.with(|c| c.borrow_mut().put(meta.platform_id.clone(), Some(meta.clone()), now_ms()));
        Ok(())
    }

    pub async fn put_tier_config(
        &self,
        platform: &PlatformId,
        config: &TierConfig,
    ) -> ApiResult<()> {
        let priced = PricedTiers { config: config.clone(), account: None };
        self.put_priced_tiers(platform, &priced).await
    }

    pub async fn put_priced_tiers(
        &self,
        platform: &PlatformId,
        priced: &PricedTiers,
    ) -> ApiResult<()> {
        let stored = StoredTiers {
            tiers: priced.config.tiers().to_vec(),
            prices_account: priced.account.clone(),
        };
        Self::tokens(&self.env)?
            .put(&storage::tier_config(platform), serde_json::to_string(&stored)?)?
            .execute()
            .await?;
        TIERS.with(|c| c.borrow_mut().put(platform.clone(), priced.clone(), now_ms()));
        Ok(())
    }
}

fn parse_json<T: DeserializeOwned>(stored: Option<String>) -> ApiResult<Option<T>> {
    stored.map(|text| serde_json::from_str(&text)).transpose().map_err(ApiError::from)
}

fn parse_tiers(stored: Option<String>) -> ApiResult<PricedTiers> {
    match parse_json::<StoredTiers>(stored)? {
        None => Ok(PricedTiers { config: TierConfig::default_for_new_platform(), account: None }),
        Some(stored) => Ok(PricedTiers {
            config: TierConfig::from_stored(stored.tiers)
                .ok_or_else(|| ApiError::internal("a stored tier configuration is invalid"))?,
            account: stored.prices_account,
        }),
    }
}

/// One TOKENS_KV read (not generic, so each cached kind adds only its parsing).
async fn kv_text(env: &Env, name: &str) -> ApiResult<Option<String>> {
    Ok(Store::tokens(env)?.get(name).text().await?)
}

/// Reads `name` from TOKENS_KV through `cache`: fresh values are returned as they are;
/// stale ones are returned while a read refreshes them after the response; missing
/// ones are read now.
async fn read_through<K, V>(
    cache: &'static LocalKey<Cache<K, V>>,
    key: K,
    ctx: &Context,
    env: &Env,
    name: String,
    parse: fn(Option<String>) -> ApiResult<V>,
) -> ApiResult<V>
where
    K: Hash + Eq + Clone + 'static,
    V: Clone + 'static,
{
    let env = env.clone();
    let load = async move { parse(kv_text(&env, &name).await?) };
    match cache.with(|c| c.borrow().get(&key, now_ms())) {
        Some((value, Freshness::Fresh)) => Ok(value),
        Some((value, Freshness::Stale)) => {
            ctx.wait_until(async move {
                if let Ok(fresh) = load.await {
                    cache.with(|c| c.borrow_mut().put(key, fresh, now_ms()));
                }
            });
            Ok(value)
        }
        None => {
            let value = load.await?;
            cache.with(|c| c.borrow_mut().put(key, value.clone(), now_ms()));
            Ok(value)
        }
    }
}
