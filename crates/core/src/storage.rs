//! What the workers keep in KV, and under which names: read-side copies that the
//! platform's and the developer's Durable Objects write (API.md "One writer per piece of
//! platform state"); nothing decides from them.

use crate::api_key::ApiKeyHash;
use crate::ids::PlatformId;
use crate::time::Instant;
use serde::{Deserialize, Serialize};

/// `apikey:{sha256}`: the one read that turns a key into its platform.
pub fn api_key_record(hash: &ApiKeyHash) -> String {
    format!("apikey:{}", hash.as_str())
}

pub fn tier_config(platform: &PlatformId) -> String {
    format!("user:{platform}:tierConfig")
}

/// `connected-account:{sha256(acct_…)}` → platformId: which platform a Connect event
/// about an account concerns, without keeping the account id in clear (the hash is
/// `billing::account_hash`).
pub fn connected_account(account_hash: &str) -> String {
    format!("connected-account:{account_hash}")
}

/// `developer:{clerkUserId}`: the platform a signed-in developer owns.
pub fn developer_platform(clerk_user_id: &str) -> String {
    format!("developer:{clerk_user_id}")
}

/// The value under `apikey:{sha256}`. `expires_at` is set on a rotated-out key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRecord {
    pub platform_id: PlatformId,
    /// Milliseconds since the epoch: reading them back needs no date parser in the wasm.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "chrono::serde::ts_milliseconds_option"
    )]
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
        let account = crate::billing::StripeAccountId::parse("acct_1Secret").expect("valid");
        let name = connected_account(&crate::billing::account_hash(&account));
        assert!(name.starts_with("connected-account:"));
        assert!(!name.contains("1Secret"));
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
    fn key_records_are_stored_with_their_expiry_in_milliseconds_and_without_it_when_unset() {
        let record = KeyRecord {
            platform_id: PlatformId::parse("plt_0123456789ab").expect("valid"),
            expires_at: Some("2026-11-25T12:00:00Z".parse().expect("valid")),
        };
        let json = serde_json::to_string(&record).expect("json");
        assert_eq!(json, r#"{"platformId":"plt_0123456789ab","expiresAt":1795608000000}"#);
        assert_eq!(serde_json::from_str::<KeyRecord>(&json).expect("back"), record);
        let fresh = KeyRecord { expires_at: None, ..record };
        assert_eq!(
            serde_json::to_string(&fresh).expect("json"),
            r#"{"platformId":"plt_0123456789ab"}"#
        );
    }
}
