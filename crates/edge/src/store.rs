//! KV: the read-side copies that the platform's and the developer's objects write, and
//! the hot path reads behind an in-isolate cache (fresh 10 s, then served stale for up
//! to 60 s while one background read refreshes it). Nothing decides from a copy: the
//! objects check every change themselves. Writes update the local cache at once.

use crate::clock::now_ms;
use crate::error::{ApiError, ApiResult};
use dream_core::api_key::ApiKeyHash;
use dream_core::cache::{Freshness, TtlCache};
use dream_core::ids::PlatformId;
use dream_core::storage::{self, KeyRecord};
use dream_core::tier::Tier;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::hash::Hash;
use std::thread::LocalKey;
use worker::{Context, Env};

const FRESH_MS: i64 = 10_000;
const USABLE_MS: i64 = 60_000;
const CAPACITY: usize = 10_000;

type Cache<K, V> = RefCell<TtlCache<K, V>>;

thread_local! {
    static KEYS: Cache<String, Option<KeyRecord>> = RefCell::new(TtlCache::new(FRESH_MS, USABLE_MS, CAPACITY));
    static TIERS: Cache<PlatformId, Option<Vec<Tier>>> = RefCell::new(TtlCache::new(FRESH_MS, USABLE_MS, CAPACITY));
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

    /// Which platform a key belongs to (cached). The platform's object still checks the
    /// key on every call.
    pub async fn key_record(
        &self,
        ctx: &Context,
        hash: &ApiKeyHash,
    ) -> ApiResult<Option<KeyRecord>> {
        let name = storage::api_key_record(hash);
        read_through(&KEYS, name.clone(), ctx, &self.env, name, parse_json).await
    }

    pub async fn put_key_record(&self, hash: &ApiKeyHash, record: &KeyRecord) -> ApiResult<()> {
        let name = storage::api_key_record(hash);
        put_text(&self.env, &name, &serde_json::to_string(record)?).await?;
        KEYS.with(|c| c.borrow_mut().put(name, Some(record.clone()), now_ms()));
        Ok(())
    }

    pub async fn delete_key_record(&self, hash: &ApiKeyHash) -> ApiResult<()> {
        let name = storage::api_key_record(hash);
        Self::tokens(&self.env)?.delete(&name).await?;
        KEYS.with(|c| c.borrow_mut().put(name, None, now_ms()));
        Ok(())
    }

    /// The platform's tiers as its public pricing page shows them (cached); `None` for
    /// a platform that does not exist.
    pub async fn public_tiers(
        &self,
        ctx: &Context,
        platform: &PlatformId,
    ) -> ApiResult<Option<Vec<Tier>>> {
        let name = storage::tier_config(platform);
        read_through(&TIERS, platform.clone(), ctx, &self.env, name, parse_json).await
    }

    pub async fn put_public_tiers(&self, platform: &PlatformId, tiers: &[Tier]) -> ApiResult<()> {
        put_text(&self.env, &storage::tier_config(platform), &serde_json::to_string(tiers)?)
            .await?;
        TIERS.with(|c| c.borrow_mut().put(platform.clone(), Some(tiers.to_vec()), now_ms()));
        Ok(())
    }

    /// The platform connected to the account whose hash is `account_hash`.
    pub async fn connected_platform(&self, account_hash: &str) -> ApiResult<Option<PlatformId>> {
        let stored = kv_text(&self.env, &storage::connected_account(account_hash)).await?;
        Ok(stored.and_then(|id| PlatformId::parse(&id).ok()))
    }

    pub async fn put_connected_platform(
        &self,
        account_hash: &str,
        platform: &PlatformId,
    ) -> ApiResult<()> {
        put_text(&self.env, &storage::connected_account(account_hash), platform.as_str()).await
    }

    pub async fn delete_connected_platform(&self, account_hash: &str) -> ApiResult<()> {
        Self::tokens(&self.env)?.delete(&storage::connected_account(account_hash)).await?;
        Ok(())
    }

    /// The platform a signed-in developer owns, as its copy in KV says (not cached).
    pub async fn developer_platform(&self, clerk_user_id: &str) -> ApiResult<Option<PlatformId>> {
        let stored = kv_text(&self.env, &storage::developer_platform(clerk_user_id)).await?;
        Ok(stored.and_then(|id| PlatformId::parse(&id).ok()))
    }

    pub async fn put_developer_platform(
        &self,
        clerk_user_id: &str,
        platform: &PlatformId,
    ) -> ApiResult<()> {
        put_text(&self.env, &storage::developer_platform(clerk_user_id), platform.as_str()).await
    }
}

fn parse_json<T: DeserializeOwned>(stored: Option<String>) -> ApiResult<Option<T>> {
    stored.map(|text| serde_json::from_str(&text)).transpose().map_err(ApiError::from)
}

/// One TOKENS_KV read (not generic, so each cached kind adds only its parsing).
async fn kv_text(env: &Env, name: &str) -> ApiResult<Option<String>> {
    Ok(Store::tokens(env)?.get(name).text().await?)
}

/// Writes `text` as the value of `name`: as its UTF-8 bytes, which [`kv_text`] reads back
/// as the same text. `KvStore::put` would take the text through `serde_wasm_bindgen` and
/// link float formatting into the worker for nothing (~4 KiB gzipped).
async fn put_text(env: &Env, name: &str, text: &str) -> ApiResult<()> {
    Ok(Store::tokens(env)?.put_bytes(name, text.as_bytes())?.execute().await?)
}

/// Reads `name` from TOKENS_KV through `cache`: fresh values are returned as they are;
/// stale ones are returned while one read (the one core's cache picks) refreshes them
/// after its response; missing ones are read now.
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
    match cache.with(|c| c.borrow_mut().get(&key, now_ms())) {
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
