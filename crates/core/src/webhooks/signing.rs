//! Signatures of outgoing webhooks, exactly as the Standard Webhooks specification
//! (standardwebhooks.com) defines them, so that its official libraries (npm and PyPI
//! `standardwebhooks`, Svix's) verify our deliveries unchanged:
//!
//! - the secret is `whsec_` + base64 of the key; the HMAC key is the decoded bytes, not
//!   the text;
//! - `webhook-signature` is `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
//!   one entry per secret, space-separated;
//! - a verifier accepts any `v1` entry that matches, and refuses a `webhook-timestamp`
//!   more than 5 minutes from its clock either way (a replayed or held-back message).
//!
//! While a rotated secret still signs ([`EndpointSecrets`], 24 h), each delivery carries
//! two entries, so a receiver can switch secrets at any moment in that window.

use super::ids::MessageId;
use crate::error::Invalid;
use crate::time::Instant;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Duration;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;

/// How far `webhook-timestamp` may be from the verifier's clock, either way.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;
/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP_SECONDS: i64 = 24 * 60 * 60;

/// An endpoint's signing secret: `whsec_` + standard base64 (padded) of 32 random bytes.
/// `Debug` never prints it; [`WebhookSecret::reveal`] is the one way to read it (to show
/// it once, or to store it).
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebhookSecret {
    text: String,
    key: Vec<u8>,
}

impl WebhookSecret {
    pub const PREFIX: &'static str = "whsec_";
    pub const KEY_BYTES: usize = 32;

    /// The secret of 32 bytes from the platform's CSPRNG.
    pub fn generate(bytes: [u8; 32]) -> Self {
        Self { text: format!("{}{}", Self::PREFIX, STANDARD.encode(bytes)), key: bytes.to_vec() }
    }

    /// Only what [`generate`](Self::generate) makes: the prefix and the canonical padded
    /// base64 of exactly 32 bytes.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let key = s
            .strip_prefix(Self::PREFIX)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .filter(|key| key.len() == Self::KEY_BYTES)
            .ok_or_else(|| {
                Invalid::new("a webhook secret must be whsec_ followed by the base64 of 32 bytes")
            })?;
        Ok(Self { text: s.to_owned(), key })
    }

    /// The secret as the developer copies it (`whsec_…`).
    pub fn reveal(&self) -> &str {
        &self.text
    }

    /// base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), without the `v1,` prefix.
    fn signature(&self, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp_secs.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        STANDARD.encode(mac.finalize().into_bytes())
    }

    /// A secret of another length, for the specification's own test vector (24 bytes).
    #[cfg(test)]
    pub(crate) fn any_length(s: &str) -> Self {
        let key = s.strip_prefix(Self::PREFIX).and_then(|b| STANDARD.decode(b).ok());
        Self { text: s.to_owned(), key: key.unwrap_or_default() }
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(whsec_…)")
    }
}

impl TryFrom<String> for WebhookSecret {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Self::parse(&s)
    }
}

impl From<WebhookSecret> for String {
    fn from(secret: WebhookSecret) -> String {
        secret.text
    }
}

/// The `webhook-signature` header of one attempt: a `v1,<base64>` entry per secret,
/// space-separated, in the order given (the current secret first).
pub fn sign(
    secrets: &[WebhookSecret],
    msg_id: &MessageId,
    timestamp_secs: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| format!("v1,{}", secret.signature(msg_id.as_str(), timestamp_secs, body)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why [`verify`] refused a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// `webhook-timestamp` is not an integer.
    BadTimestamp,
    /// More than [`TOLERANCE_SECONDS`] before the verifier's clock.
    TooOld,
    /// More than [`TOLERANCE_SECONDS`] after the verifier's clock.
    TooNew,
    /// No `v1` entry matches any secret.
    Mismatch,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadTimestamp => "webhook-timestamp is not a whole number of seconds",
            Self::TooOld => "webhook-timestamp is more than 5 minutes old",
            Self::TooNew => "webhook-timestamp is more than 5 minutes in the future",
            Self::Mismatch => "no v1 entry of webhook-signature matches the message",
        })
    }
}

/// Checks a delivery as a receiver does, from its three headers and the raw body: the
/// timestamp first, then any `v1` entry against any secret (constant-time comparison).
/// Entries of other versions are ignored; with no secrets nothing matches.
pub fn verify(
    secrets: &[WebhookSecret],
    msg_id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now_secs: i64,
) -> Result<(), VerifyError> {
    let timestamp_secs: i64 = timestamp.trim().parse().map_err(|_| VerifyError::BadTimestamp)?;
    if now_secs.saturating_sub(timestamp_secs) > TOLERANCE_SECONDS {
        return Err(VerifyError::TooOld);
    }
    if timestamp_secs.saturating_sub(now_secs) > TOLERANCE_SECONDS {
        return Err(VerifyError::TooNew);
    }
    let candidates: Vec<&str> =
        signature.split_whitespace().filter_map(|entry| entry.strip_prefix("v1,")).collect();
    let matches = secrets.iter().any(|secret| {
        let expected = secret.signature(msg_id, timestamp_secs, body);
        candidates.iter().any(|c| bool::from(c.as_bytes().ct_eq(expected.as_bytes())))
    });
    if matches {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// An endpoint's secrets: the current one, and after a rotation the previous one until
/// [`ROTATION_OVERLAP_SECONDS`] have passed, so that deliveries carry both signatures
/// while the developer deploys the new secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSecrets {
    current: WebhookSecret,
    previous: Option<RetiringSecret>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RetiringSecret {
    secret: WebhookSecret,
    /// The first instant it no longer signs (stored in milliseconds, as every stored
    /// instant is: chrono's text parser would cost the workers' wasm kilobytes).
    #[serde(with = "chrono::serde::ts_milliseconds")]
    until: Instant,
}

impl EndpointSecrets {
    pub fn new(current: WebhookSecret) -> Self {
        Self { current, previous: None }
    }

    pub fn current(&self) -> &WebhookSecret {
        &self.current
    }

    /// Makes `new` current; the secret it replaces signs beside it for 24 h from `now`.
    /// A secret rotated out earlier stops signing at once: only the secret the developer
    /// had until this rotation is kept, as a receiver holds at most the one before.
    pub fn rotate(&mut self, new: WebhookSecret, now: Instant) {
        let old = std::mem::replace(&mut self.current, new);
        let until = now + Duration::seconds(ROTATION_OVERLAP_SECONDS);
        self.previous = Some(RetiringSecret { secret: old, until });
    }

    /// The secrets that sign a delivery at `now`, the current one first: pass them to
    /// [`sign`].
    pub fn signing(&self, now: Instant) -> Vec<WebhookSecret> {
        let previous = self.previous.iter().filter(|p| now < p.until).map(|p| p.secret.clone());
        std::iter::once(self.current.clone()).chain(previous).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    // VECTORS.md: checked with the official PyPI `standardwebhooks` 1.1.0.
    const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const VECTOR_TIMESTAMP: i64 = 1_614_265_330;
    const VECTOR_BODY: &str = r#"{"test": 2432232314}"#;
    const VECTOR_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn id(s: &str) -> MessageId {
        MessageId::parse(s).expect("a valid message id")
    }

    fn secret(fill: u8) -> WebhookSecret {
        WebhookSecret::generate([fill; 32])
    }

    fn at(secs: i64) -> Instant {
        chrono::Utc.timestamp_opt(secs, 0).single().expect("a valid instant")
    }

    #[test]
    fn the_signature_reproduces_the_official_librarys_vector_exactly() {
        let vector = WebhookSecret::any_length(VECTOR_SECRET);
        let header = sign(
            std::slice::from_ref(&vector),
            &id(VECTOR_ID),
            VECTOR_TIMESTAMP,
            VECTOR_BODY.as_bytes(),
        );
        assert_eq!(header, VECTOR_SIGNATURE);
        let ts = VECTOR_TIMESTAMP.to_string();
        let body = VECTOR_BODY.as_bytes();
        assert_eq!(verify(&[vector], VECTOR_ID, &ts, &header, body, VECTOR_TIMESTAMP), Ok(()));
    }

    #[test]
    fn generated_secrets_are_whsec_and_44_base64_characters_and_parse_back() {
        let s = WebhookSecret::generate([7; 32]);
        assert!(s.reveal().starts_with("whsec_"));
        assert_eq!(s.reveal().len(), 6 + 44);
        let back = WebhookSecret::parse(s.reveal()).expect("parses");
        assert_eq!(back.reveal(), s.reveal());
        let header = sign(&[s], &id(VECTOR_ID), 1, b"{}");
        assert_eq!(verify(&[back], VECTOR_ID, "1", &header, b"{}", 1), Ok(()));
    }

    #[test]
    fn secrets_other_than_whsec_and_the_base64_of_32_bytes_are_refused_with_a_message() {
        let good = WebhookSecret::generate([1; 32]).reveal().to_owned();
        let b64 = good.trim_start_matches("whsec_").to_owned();
        for bad in [
            String::new(),
            b64.clone(),
            format!("whsec{b64}"),
            format!("whsec_{}", &b64[..40]),
            VECTOR_SECRET.to_owned(),
            format!("{good}AAAA"),
            good.replace('=', ""),
            format!("{good} "),
            "whsec_!!!!".to_owned(),
        ] {
            let err = WebhookSecret::parse(&bad).map(|_| ()).expect_err(&bad);
            assert_eq!(err.0, "a webhook secret must be whsec_ followed by the base64 of 32 bytes");
        }
    }

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let s = WebhookSecret::generate([9; 32]);
        let printed = format!("{s:?} {:?}", EndpointSecrets::new(s.clone()));
        assert!(!printed.contains(s.reveal().trim_start_matches("whsec_")), "{printed}");
    }

    #[test]
    fn two_secrets_give_two_entries_current_first_and_each_verifies_alone() {
        let (new, old) = (secret(1), secret(2));
        let header = sign(&[new.clone(), old.clone()], &id(VECTOR_ID), 100, b"{}");
        let entries: Vec<&str> = header.split(' ').collect();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0], sign(std::slice::from_ref(&new), &id(VECTOR_ID), 100, b"{}"));
        assert_eq!(entries[1], sign(std::slice::from_ref(&old), &id(VECTOR_ID), 100, b"{}"));
        for alone in [new, old] {
            assert_eq!(verify(&[alone], VECTOR_ID, "100", &header, b"{}", 100), Ok(()));
        }
        assert_eq!(
            verify(&[secret(3)], VECTOR_ID, "100", &header, b"{}", 100),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn a_changed_body_id_or_timestamp_does_not_verify() {
        let s = [secret(4)];
        let header = sign(&s, &id(VECTOR_ID), 1000, b"{\"a\":1}");
        assert_eq!(verify(&s, VECTOR_ID, "1000", &header, b"{\"a\":1}", 1000), Ok(()));
        let other_id = "msg_p5jXN8AQM9LWM0D4loKWxJeK";
        assert_eq!(
            verify(&s, VECTOR_ID, "1000", &header, b"{\"a\":2}", 1000),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&s, other_id, "1000", &header, b"{\"a\":1}", 1000),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(&s, VECTOR_ID, "1001", &header, b"{\"a\":1}", 1000),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn timestamps_more_than_five_minutes_away_either_way_are_refused() {
        let s = [secret(5)];
        let header = |t: i64| sign(&s, &id(VECTOR_ID), t, b"{}");
        let check =
            |t: i64, now: i64| verify(&s, VECTOR_ID, &t.to_string(), &header(t), b"{}", now);
        assert_eq!(check(1000, 1300), Ok(()));
        assert_eq!(check(1000, 700), Ok(()));
        assert_eq!(check(1000, 1301), Err(VerifyError::TooOld));
        assert_eq!(check(1000, 699), Err(VerifyError::TooNew));
        assert_eq!(
            verify(&s, VECTOR_ID, "soon", &header(1000), b"{}", 1000),
            Err(VerifyError::BadTimestamp)
        );
    }

    #[test]
    fn entries_of_other_versions_are_ignored_and_no_secret_matches_nothing() {
        let s = [secret(6)];
        let good = sign(&s, &id(VECTOR_ID), 10, b"{}");
        let mixed = format!("v1a,xyz v2,{} {good}", good.trim_start_matches("v1,"));
        assert_eq!(verify(&s, VECTOR_ID, "10", &mixed, b"{}", 10), Ok(()));
        let only_v2 = good.replacen("v1,", "v2,", 1);
        assert_eq!(verify(&s, VECTOR_ID, "10", &only_v2, b"{}", 10), Err(VerifyError::Mismatch));
        assert_eq!(verify(&[], VECTOR_ID, "10", &good, b"{}", 10), Err(VerifyError::Mismatch));
    }

    #[test]
    fn a_rotated_secret_signs_beside_the_new_one_for_exactly_24_hours() {
        let mut secrets = EndpointSecrets::new(secret(1));
        assert_eq!(secrets.signing(at(0)).len(), 1);
        secrets.rotate(secret(2), at(1000));
        let signing = secrets.signing(at(1000));
        let texts: Vec<&str> = signing.iter().map(WebhookSecret::reveal).collect();
        assert_eq!(texts, [secret(2).reveal(), secret(1).reveal()]);
        assert_eq!(secrets.signing(at(1000 + 86_399)).len(), 2);
        assert_eq!(secrets.signing(at(1000 + 86_400)).len(), 1);
        assert_eq!(secrets.current().reveal(), secret(2).reveal());
    }

    #[test]
    fn a_second_rotation_keeps_only_the_secret_it_replaced() {
        let mut secrets = EndpointSecrets::new(secret(1));
        secrets.rotate(secret(2), at(0));
        secrets.rotate(secret(3), at(60));
        let texts: Vec<String> =
            secrets.signing(at(60)).iter().map(|s| s.reveal().to_owned()).collect();
        assert_eq!(texts, [secret(3).reveal(), secret(2).reveal()]);
    }

    #[test]
    fn endpoint_secrets_survive_storage_as_json() {
        let mut secrets = EndpointSecrets::new(secret(1));
        secrets.rotate(secret(2), at(0));
        let json = serde_json::to_string(&secrets).expect("serialises");
        let back: EndpointSecrets = serde_json::from_str(&json).expect("reads back");
        let texts = |s: &EndpointSecrets| -> Vec<String> {
            s.signing(at(5)).iter().map(|x| x.reveal().to_owned()).collect()
        };
        assert_eq!(texts(&back), texts(&secrets));
        assert!(serde_json::from_str::<WebhookSecret>("\"whsec_short\"").is_err());
    }
}
