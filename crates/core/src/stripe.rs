//! Stripe webhook signatures (`Stripe-Signature`), as Stripe's own libraries check them:
//! HMAC-SHA256 of `"{t}.{body}"` keyed by the whole `whsec_…` secret, hex; any `v1`
//! entry may match (during a secret rotation Stripe signs with both); `v0` and other
//! schemes are ignored; a timestamp more than 300 s old is refused (one in the future
//! is not, as Stripe's verifier does not).
//!
//! One worker may receive events from several Stripe endpoints (the platform endpoint
//! and the Connect endpoint each have their own secret), so `STRIPE_WEBHOOK_SECRET`
//! holds a comma-separated list ([`WebhookSecret::list`]) and any one may verify
//! ([`verify_any`]).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;

/// How old a signed timestamp may be.
pub const TOLERANCE_SECONDS: i64 = 300;

/// A webhook endpoint's signing secret. `Debug` never prints it.
#[derive(Clone)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secrets of a comma-separated list such as `STRIPE_WEBHOOK_SECRET`: each
    /// trimmed, empty ones left out.
    pub fn list(secrets: &str) -> Vec<Self> {
        secrets.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Self::new).collect()
    }

    /// The `v1` signature of `body` at `timestamp`, as Stripe computes it.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        hex::encode(self.mac(timestamp, body).finalize().into_bytes())
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `t=` with an integer, or no `v1=` entry at all.
    Malformed,
    /// The timestamp is more than [`TOLERANCE_SECONDS`] old.
    Stale,
    /// No `v1` entry matches this secret and body.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "the Stripe-Signature header has no timestamp or no v1 signature",
            Self::Stale => "the Stripe-Signature timestamp is more than 300 seconds old",
            Self::Mismatch => "no v1 signature in Stripe-Signature matches the body",
        })
    }
}

/// Checks `header` (the raw `Stripe-Signature`) against the raw request `body`.
pub fn verify(
    secret: &WebhookSecret,
    header: &str,
    body: &[u8],
    now_seconds: i64,
) -> Result<(), SignatureError> {
    verify_any(std::slice::from_ref(secret), header, body, now_seconds)
}

/// Checks `header` against `body` with each of `secrets`: any one that matches verifies.
/// With no secrets at all nothing matches.
pub fn verify_any(
    secrets: &[WebhookSecret],
    header: &str,
    body: &[u8],
    now_seconds: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => candidates.push(sig),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now_seconds.saturating_sub(timestamp) > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    let matches = secrets.iter().any(|secret| {
        let expected = secret.sign(timestamp, body);
        candidates
            .iter()
            .any(|candidate| bool::from(candidate.as_bytes().ct_eq(expected.as_bytes())))
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // VECTORS.md: computed with the official npm `stripe` package.
    const SECRET: &str = "whsec_test_secret";
    const T: i64 = 1_700_000_000;
    const PRETTY: &str = "{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}";
    const PRETTY_SIG: &str = "4f1cd7feda9826e746b7d482c4badebb657398df1099e1046364f6196a230150";
    const COMPACT: &str =
        r#"{"id":"evt_test_webhook","object":"event","type":"checkout.session.completed"}"#;
    const COMPACT_SIG: &str = "1fa73ff7286785daa8168695a709e92ce31d02a9202648cb27a1c5f2e233f517";

    fn secret() -> WebhookSecret {
        WebhookSecret::new(SECRET)
    }

    #[test]
    fn signatures_match_the_official_libraries_vectors() {
        assert_eq!(secret().sign(T, PRETTY.as_bytes()), PRETTY_SIG);
        assert_eq!(secret().sign(T, COMPACT.as_bytes()), COMPACT_SIG);
        assert_eq!(
            verify(&secret(), &format!("t={T},v1={PRETTY_SIG}"), PRETTY.as_bytes(), T + 10),
            Ok(())
        );
        assert_eq!(
            verify(&secret(), &format!("t={T},v1={COMPACT_SIG}"), COMPACT.as_bytes(), T),
            Ok(())
        );
    }

    #[test]
    fn a_wrong_secret_is_refused() {
        let other = WebhookSecret::new("whsec_other");
        let header = format!("t={T},v1={COMPACT_SIG}");
        assert_eq!(verify(&other, &header, COMPACT.as_bytes(), T), Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_tampered_body_is_refused() {
        let header = format!("t={T},v1={COMPACT_SIG}");
        let tampered = COMPACT.replace("checkout", "checkouT");
        assert_eq!(
            verify(&secret(), &header, tampered.as_bytes(), T),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_timestamp_over_300_seconds_old_is_refused_but_not_one_in_the_future() {
        let header = format!("t={T},v1={COMPACT_SIG}");
        assert_eq!(verify(&secret(), &header, COMPACT.as_bytes(), T + 300), Ok(()));
        assert_eq!(
            verify(&secret(), &header, COMPACT.as_bytes(), T + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(verify(&secret(), &header, COMPACT.as_bytes(), T - 3_600), Ok(()));
    }

    #[test]
    fn any_of_several_v1_entries_may_match() {
        let header = format!("t={T},v1={},v1={COMPACT_SIG}", "0".repeat(64));
        assert_eq!(verify(&secret(), &header, COMPACT.as_bytes(), T), Ok(()));
        let with_v0 = format!("t={T},v1={COMPACT_SIG},v0={}", "f".repeat(64));
        assert_eq!(verify(&secret(), &with_v0, COMPACT.as_bytes(), T), Ok(()));
    }

    #[test]
    fn a_v0_only_header_is_refused() {
        let header = format!("t={T},v0={COMPACT_SIG}");
        assert_eq!(
            verify(&secret(), &header, COMPACT.as_bytes(), T),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn headers_without_a_timestamp_or_with_garbage_are_malformed() {
        for header in ["", "v1=abc", "t=abc,v1=abc", "garbage", "t=,v1="] {
            assert_eq!(
                verify(&secret(), header, COMPACT.as_bytes(), T),
                Err(SignatureError::Malformed),
                "{header:?}"
            );
        }
    }

    #[test]
    fn the_secret_never_prints() {
        assert!(!format!("{:?}", secret()).contains("test_secret"));
    }

    #[test]
    fn an_event_signed_with_the_second_of_two_secrets_is_accepted() {
        let secrets = WebhookSecret::list("whsec_platform_endpoint, whsec_test_secret");
        let header = format!("t={T},v1={COMPACT_SIG}");
        assert_eq!(verify_any(&secrets, &header, COMPACT.as_bytes(), T), Ok(()));
    }

    #[test]
    fn an_event_signed_with_neither_of_two_secrets_is_refused() {
        let secrets = WebhookSecret::list("whsec_platform_endpoint,whsec_connect_endpoint");
        let header = format!("t={T},v1={COMPACT_SIG}");
        assert_eq!(
            verify_any(&secrets, &header, COMPACT.as_bytes(), T),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_any(&[], &header, COMPACT.as_bytes(), T),
            Err(SignatureError::Mismatch),
            "no secrets verify nothing"
        );
    }

    #[test]
    fn a_secret_list_is_split_on_commas_trimmed_and_empties_ignored() {
        let secrets = WebhookSecret::list(" whsec_a ,, whsec_b,  ,");
        let signed: Vec<String> = secrets.iter().map(|s| s.sign(T, b"{}")).collect();
        assert_eq!(
            signed,
            vec![
                WebhookSecret::new("whsec_a").sign(T, b"{}"),
                WebhookSecret::new("whsec_b").sign(T, b"{}")
            ]
        );
        assert!(WebhookSecret::list(" , ").is_empty());
        assert_eq!(WebhookSecret::list(SECRET).len(), 1, "one secret is a list of one");
    }

    #[test]
    fn a_stale_timestamp_is_refused_whichever_secret_signed() {
        let secrets = WebhookSecret::list("whsec_other,whsec_test_secret");
        let header = format!("t={T},v1={COMPACT_SIG}");
        assert_eq!(
            verify_any(&secrets, &header, COMPACT.as_bytes(), T + 301),
            Err(SignatureError::Stale)
        );
    }
}
