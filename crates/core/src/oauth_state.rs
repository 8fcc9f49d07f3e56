//! The `state` of a Stripe Connect OAuth round trip: it names the platform that asked,
//! expires after 10 minutes, and is signed (HMAC-SHA256), so a callback can trust which
//! platform it is for. Being accepted once is the caller's part: it records the nonce
//! where only one request can claim it (a Durable Object).
//! Form: base64url(`{"p": platformId, "n": nonce, "e": expiresAt}`) `.` base64url(HMAC).

use crate::ids::PlatformId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const LIFETIME_SECONDS: i64 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateClaims {
    #[serde(rename = "p")]
    pub platform_id: PlatformId,
    /// Random, so that each state can be accepted once.
    #[serde(rename = "n")]
    pub nonce: String,
    #[serde(rename = "e")]
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    Malformed,
    /// Not signed with our secret, or changed since.
    Forged,
    Expired,
}

fn mac(secret: &[u8], payload: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(payload.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A state for `platform`, valid for ten minutes from `now_seconds`.
pub fn issue(secret: &[u8], platform: &PlatformId, nonce: &str, now_seconds: i64) -> String {
    let claims = StateClaims {
        platform_id: platform.clone(),
        nonce: nonce.to_string(),
        expires_at: now_seconds + LIFETIME_SECONDS,
    };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signature = URL_SAFE_NO_PAD.encode(mac(secret, &payload));
    format!("{payload}.{signature}")
}

/// The claims of a state this service issued and that has not expired.
pub fn verify(secret: &[u8], state: &str, now_seconds: i64) -> Result<StateClaims, StateError> {
    let (payload, signature) = state.split_once('.').ok_or(StateError::Malformed)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| StateError::Malformed)?;
    if !bool::from(mac(secret, payload).ct_eq(&signature)) {
        return Err(StateError::Forged);
    }
    let claims: StateClaims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(StateError::Malformed)?;
    if now_seconds >= claims.expires_at {
        return Err(StateError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"state-signing-secret";
    const NOW: i64 = 1_764_000_000;

    fn platform(id: &str) -> PlatformId {
        PlatformId::parse(id).expect("valid")
    }

    #[test]
    fn an_issued_state_verifies_for_its_platform_within_ten_minutes() {
        let state = issue(SECRET, &platform("plt_0123456789ab"), "nonce-1", NOW);
        let claims = verify(SECRET, &state, NOW + 599).expect("valid");
        assert_eq!(claims.platform_id, platform("plt_0123456789ab"));
        assert_eq!(claims.nonce, "nonce-1");
        assert_eq!(verify(SECRET, &state, NOW + 600), Err(StateError::Expired));
    }

    #[test]
    fn a_state_rewritten_for_another_platform_or_signed_elsewhere_is_forged() {
        let state = issue(SECRET, &platform("plt_0123456789ab"), "n", NOW);
        let (_, signature) = state.split_once('.').expect("two parts");
        let other = issue(SECRET, &platform("plt_ba9876543210"), "n", NOW);
        let (other_payload, _) = other.split_once('.').expect("two parts");
        assert_eq!(
            verify(SECRET, &format!("{other_payload}.{signature}"), NOW),
            Err(StateError::Forged)
        );
        assert_eq!(verify(b"another secret", &state, NOW), Err(StateError::Forged));
    }

    #[test]
    fn garbage_is_malformed_or_forged_never_accepted() {
        for state in ["", "abc", "a.b", "....", "e30.e30"] {
            assert!(verify(SECRET, state, NOW).is_err(), "{state:?}");
        }
    }
}
