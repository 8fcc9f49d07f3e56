//! What the workers keep in KV, and under which names (API.md "Storage layout").

use crate::api_key::ApiKeyHash;
use crate::billing::StripeAccountId;
use crate::ids::{PlatformId, UserId};
use crate::time::Instant;
use serde::{Deserialize, Serialize};

/// `apikey:{sha256}`: the one read that turns a key into its platform.
pub fn api_key_record(hash: &ApiKeyHash) -> String {
    format!("apikey:{}", hash.as_str())
}

/// `platform:{id}:apiKey`: the hash of the platform's current key.
pub fn platform_current_key(platform: &PlatformId) -> String {
    format!("platform:{platform}:apiKey")
}

pub fn platform_meta(platform: &PlatformId) -> String {
    format!("platform:{platform}:meta")
}

pub fn tier_config(platform: &PlatformId) -> String {
    format!("user:{platform}:tierConfig")
}

/// `platform:{id}:stripe`: the connected Stripe account, sealed.
pub fn platform_stripe(platform: &PlatformId) -> String {
    format!("platform:{platform}:stripe")
}

/// `connected-account:{sha256(acct_…)}` → platformId: which platform a Connect event
/// about an account concerns, without keeping the account id in clear.
pub fn connected_account(account: &StripeAccountId) -> String {
    use sha2::{Digest, Sha256};
    format!("connected-account:{}", hex::encode(Sha256::digest(account.as_str().as_bytes())))
}

/// `developer:{clerkUserId}`: the platform a signed-in developer owns.
pub fn developer_platform(clerk_user_id: &str) -> String {
    format!("developer:{clerk_user_id}")
}

/// `usage:{platformId}:{userId}` in `USAGE_KV`.
pub fn usage_snapshot(platform: &PlatformId, user: &UserId) -> String {
    format!("{}{user}", usage_snapshot_prefix(platform))
}

pub fn usage_snapshot_prefix(platform: &PlatformId) -> String {
    format!("usage:{platform}:")
}

/// The Durable Object that meters one end-user of one platform.
pub fn usage_meter_name(platform: &PlatformId, user: &UserId) -> String {
    format!("{platform}:{user}")
}

/// The value under `apikey:{sha256}`. `expires_at` is set on a rotated-out key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRecord {
    pub platform_id: PlatformId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Instant>,
}

impl KeyRecord {
    pub fn is_valid_at(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connected_account_is_indexed_by_its_hash_never_in_clear() {
        let account = StripeAccountId::parse("acct_1Secret").expect("valid");
        let name = connected_account(&account);
        assert!(name.starts_with("connected-account:"));
        assert!(!name.contains("1Secret"));
        assert_eq!(name, connected_account(&account));
    }

    #[test]
    fn a_rotated_key_is_valid_until_the_second_it_expires() {
        let at: Instant = "2026-11-25T12:00:00Z".parse().expect("valid");
        let record = KeyRecord {
            platform_id: PlatformId::parse("plt_0123456789ab").expect("valid"),
            expires_at: Some(at),
        };
        assert!(record.is_valid_at(at - chrono::Duration::milliseconds(1)));
        assert!(!record.is_valid_at(at));
        assert!(KeyRecord { expires_at: None, ..record }.is_valid_at(at));
    }

    #[test]
    fn key_records_are_stored_with_rfc3339_expiry_and_without_it_when_unset() {
        let record = KeyRecord {
            platform_id: PlatformId::parse("plt_0123456789ab").expect("valid"),
            expires_at: Some("2026-11-25T12:00:00Z".parse().expect("valid")),
        };
        let json = serde_json::to_string(&record).expect("json");
        assert_eq!(json, r#"{"platformId":"plt_0123456789ab","expiresAt":"2026-11-25T12:00:00Z"}"#);
        let fresh = KeyRecord { expires_at: None, ..record };
        assert_eq!(
            serde_json::to_string(&fresh).expect("json"),
            r#"{"platformId":"plt_0123456789ab"}"#
        );
    }
}
