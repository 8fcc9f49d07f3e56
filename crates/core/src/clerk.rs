//! Clerk session tokens: RS256 JWTs signed by a key in the instance's JWKS.
//!
//! The rules follow `@clerk/backend`'s verifier (see VECTORS.md): RS256 only here;
//! `typ`, if present, is `JWT`; with a skew of 5 s, a token whose `exp` has passed, whose
//! `nbf` is still ahead, or whose `iat` is in the future is refused; when authorized
//! parties are configured, `azp` must be present and listed; `sub` is required.
//!
//! Nothing from a token is trusted before its signature is checked: a token taken apart
//! but not yet checked is an [`UnverifiedToken`], which gives out only what is needed to
//! check it (the `kid`, the signed bytes, the signature) and turns into
//! [`SessionClaims`] only through [`UnverifiedToken::finish`] with the check's result.
//! Natively, [`verify_session_token`] checks the signature with RustCrypto; a worker
//! can check it with WebCrypto instead (much smaller in wasm) and call `finish`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

pub const SKEW_SECONDS: i64 = 5;
/// How long a fetched JWKS is used before it is fetched again.
pub const JWKS_TTL_SECONDS: i64 = 300;
/// How often, at most, a token with an unknown `kid` may cause a fetch.
pub const UNKNOWN_KID_REFETCH_SECONDS: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    Malformed,
    /// Any algorithm but RS256 (`none` and HS256 included), or a `typ` other than JWT.
    UnsupportedAlgorithm,
    /// No key in the JWKS has the token's `kid`.
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    IssuedInTheFuture,
    /// `azp` missing or not among the authorized parties.
    UnauthorizedParty,
    MissingSubject,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "the session token is not a JWT",
            Self::UnsupportedAlgorithm => "the session token is not signed with RS256",
            Self::UnknownKey => {
                "the session token is signed with a key this instance does not publish"
            }
            Self::BadSignature => "the session token's signature does not verify",
            Self::Expired => "the session token has expired",
            Self::NotYetValid => "the session token is not valid yet",
            Self::IssuedInTheFuture => "the session token was issued in the future",
            Self::UnauthorizedParty => "the session token was issued for another application",
            Self::MissingSubject => "the session token names no user",
        })
    }
}

/// One RSA public key of a JWKS.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwk {
    pub kid: String,
    pub kty: String,
    #[serde(default)]
    pub alg: Option<String>,
    pub n: String,
    pub e: String,
}

/// `{"keys": [...]}` as `GET {api}/v1/jwks` returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    pub fn parse(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid == kid)
    }

    /// The RS256 key published under `kid`.
    pub fn rsa_key(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| {
            k.kid == kid && k.kty == "RSA" && k.alg.as_deref().is_none_or(|a| a == "RS256")
        })
    }
}

/// The claims of a session token whose signature, times and party were all checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionClaims {
    /// Clerk's user id (`sub`, `user_…`).
    pub user_id: String,
    pub session_id: Option<String>,
    pub authorized_party: Option<String>,
    pub expires_at: i64,
    /// The session-token template's `metadata` claim (`{plan, platformId, …}`), or null.
    pub metadata: Value,
}

impl SessionClaims {
    /// A string field of the `metadata` claim, such as `platformId` or `plan`.
    pub fn metadata_str(&self, field: &str) -> Option<&str> {
        self.metadata.get(field).and_then(Value::as_str)
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    sid: Option<String>,
    azp: Option<String>,
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
    #[serde(default)]
    metadata: Value,
}

#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
}

/// A session token taken apart, its signature not yet checked. Its claims stay private
/// until [`UnverifiedToken::finish`] is told the signature is good.
pub struct UnverifiedToken {
    kid: Option<String>,
    signing_input_len: usize,
    token: String,
    signature: Vec<u8>,
    claims: Claims,
}

impl UnverifiedToken {
    /// Splits and decodes `token`; refuses anything but an RS256 JWT.
    pub fn parse(token: &str) -> Result<Self, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| TokenError::Malformed);
        let header: JoseHeader =
            serde_json::from_slice(&decode(header)?).map_err(|_| TokenError::Malformed)?;
        if header.alg != "RS256" || header.typ.as_deref().is_some_and(|t| t != "JWT") {
            return Err(TokenError::UnsupportedAlgorithm);
        }
        let claims: Claims =
            serde_json::from_slice(&decode(payload)?).map_err(|_| TokenError::Malformed)?;
        Ok(Self {
            kid: header.kid,
            signing_input_len: token.len() - signature.len() - 1,
            signature: decode(signature)?,
            token: token.to_string(),
            claims,
        })
    }

    /// Which published key signed it, by the token's own say-so.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The bytes the signature covers: `base64url(header).base64url(payload)`.
    pub fn signing_input(&self) -> &[u8] {
        &self.token.as_bytes()[..self.signing_input_len]
    }

    /// The RSASSA-PKCS1-v1_5 SHA-256 signature bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The claims, once the caller checked [`Self::signature`] over
    /// [`Self::signing_input`] with the key named by [`Self::kid`]: refused unless
    /// `signature_valid`, then checked for times, party and subject.
    pub fn finish(
        self,
        signature_valid: bool,
        now_seconds: i64,
        authorized_parties: &[String],
    ) -> Result<SessionClaims, TokenError> {
        if !signature_valid {
            return Err(TokenError::BadSignature);
        }
        let claims = self.claims;
        if claims.exp <= now_seconds - SKEW_SECONDS {
            return Err(TokenError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf > now_seconds + SKEW_SECONDS) {
            return Err(TokenError::NotYetValid);
        }
        if claims.iat.is_some_and(|iat| iat > now_seconds + SKEW_SECONDS) {
            return Err(TokenError::IssuedInTheFuture);
        }
        if !authorized_parties.is_empty()
            && !claims.azp.as_ref().is_some_and(|azp| authorized_parties.iter().any(|p| p == azp))
        {
            return Err(TokenError::UnauthorizedParty);
        }
        let user_id = claims.sub.filter(|s| !s.is_empty()).ok_or(TokenError::MissingSubject)?;
        Ok(SessionClaims {
            user_id,
            session_id: claims.sid,
            authorized_party: claims.azp,
            expires_at: claims.exp,
            metadata: claims.metadata,
        })
    }
}

/// Verifies `token` against `jwks` at `now_seconds`, checking the signature with
/// RustCrypto. `authorized_parties` empty means any `azp` is accepted.
pub fn verify_session_token(
    token: &str,
    jwks: &Jwks,
    now_seconds: i64,
    authorized_parties: &[String],
) -> Result<SessionClaims, TokenError> {
    let unverified = UnverifiedToken::parse(token)?;
    let kid = unverified.kid().ok_or(TokenError::UnknownKey)?;
    let jwk = jwks.rsa_key(kid).ok_or(TokenError::UnknownKey)?;
    let key =
        DecodingKey::from_rsa_components(&jwk.n, &jwk.e).map_err(|_| TokenError::UnknownKey)?;
    let signature = URL_SAFE_NO_PAD.encode(unverified.signature());
    let valid = jsonwebtoken::crypto::verify(
        &signature,
        unverified.signing_input(),
        &key,
        Algorithm::RS256,
    )
    .unwrap_or(false);
    unverified.finish(valid, now_seconds, authorized_parties)
}

/// What a caller that needs the JWKS does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksStep {
    /// Check with the keys held (if there are none, Clerk could not be reached).
    UseCached,
    /// Fetch the JWKS; the caller now holds the one fetch in flight and must end it with
    /// [`JwksCache::store`] or [`JwksCache::fail`].
    Fetch,
    /// Another caller's fetch is in flight and the keys held cannot answer: wait a moment
    /// and ask again.
    Wait,
}

/// When to fetch the JWKS: every 5 minutes, and on a token with an unknown `kid` (keys
/// rotate), but for unknown kids at most once a minute, so that forged `kid`s cannot
/// turn into a flood of fetches. One fetch at a time: while one is in flight, callers
/// whose token the held keys can check go on with them, the rest wait for it. After a
/// failed fetch the next waits 1 s, then 2 s, 4 s, … up to a minute.
#[derive(Debug, Clone, Default)]
pub struct JwksCache {
    jwks: Option<Jwks>,
    fetched_at: i64,
    last_unknown_kid_fetch: Option<i64>,
    /// When the fetch in flight started.
    in_flight_since: Option<i64>,
    /// Failed fetches since the last one that succeeded.
    failures: u32,
    failed_at: Option<i64>,
}

/// The longest wait between fetches after failures.
pub const JWKS_MAX_BACKOFF_SECONDS: i64 = 60;
/// A fetch in flight for this long is taken as lost (its request was cancelled before it
/// could say how it ended), so that one lost fetch cannot stop every later one. Longer
/// than an outgoing call's 10 s timeout.
pub const JWKS_FLIGHT_LOST_SECONDS: i64 = 15;

impl JwksCache {
    pub fn jwks(&self) -> Option<&Jwks> {
        self.jwks.as_ref()
    }

    /// How long after the last failure no fetch is made: 0 before any failure, then 1 s,
    /// doubling with each failure in a row, at most [`JWKS_MAX_BACKOFF_SECONDS`].
    pub fn backoff_seconds(&self) -> i64 {
        match self.failures {
            0 => 0,
            n => 1_i64.checked_shl(n - 1).unwrap_or(i64::MAX).min(JWKS_MAX_BACKOFF_SECONDS),
        }
    }

    /// Whether a fetch started at `now_seconds` is still in flight.
    pub fn in_flight(&self, now_seconds: i64) -> bool {
        self.in_flight_since.is_some_and(|since| now_seconds - since < JWKS_FLIGHT_LOST_SECONDS)
    }

    /// Whether the JWKS should be fetched for a token with `kid`, leaving aside a fetch
    /// in flight.
    pub fn should_fetch(&self, kid: Option<&str>, now_seconds: i64) -> bool {
        if self.failed_at.is_some_and(|at| now_seconds - at < self.backoff_seconds()) {
            return false;
        }
        let Some(jwks) = &self.jwks else { return true };
        if now_seconds - self.fetched_at >= JWKS_TTL_SECONDS {
            return true;
        }
        let unknown = kid.is_some_and(|k| !jwks.has_kid(k));
        unknown
            && self
                .last_unknown_kid_fetch
                .is_none_or(|at| now_seconds - at >= UNKNOWN_KID_REFETCH_SECONDS)
    }

    /// What a caller with a token signed by `kid` does at `now_seconds`. On
    /// [`JwksStep::Fetch`] the fetch is recorded as in flight (and, for an unknown kid,
    /// as that minute's one fetch for unknown kids, whether it then succeeds or not).
    pub fn next_step(&mut self, kid: Option<&str>, now_seconds: i64) -> JwksStep {
        let held_can_answer = match (&self.jwks, kid) {
            (Some(jwks), Some(k)) => jwks.has_kid(k),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if self.in_flight(now_seconds) {
            return if held_can_answer { JwksStep::UseCached } else { JwksStep::Wait };
        }
        if !self.should_fetch(kid, now_seconds) {
            return JwksStep::UseCached;
        }
        if self.jwks.is_some() && !held_can_answer {
            self.last_unknown_kid_fetch = Some(now_seconds);
        }
        self.in_flight_since = Some(now_seconds);
        JwksStep::Fetch
    }

    /// Records a fetch made for `kid` that succeeded at `now_seconds`. It counts as the
    /// minute's fetch for unknown kids when `kid` was unknown to the keys held before, or
    /// is not among the keys it brought (so a first fetch for a forged kid counts too).
    pub fn store(&mut self, jwks: Jwks, kid: Option<&str>, now_seconds: i64) {
        let for_unknown_kid = kid.is_some_and(|k| {
            self.jwks.as_ref().is_some_and(|old| !old.has_kid(k)) || !jwks.has_kid(k)
        });
        if for_unknown_kid {
            self.last_unknown_kid_fetch = Some(now_seconds);
        }
        self.jwks = Some(jwks);
        self.fetched_at = now_seconds;
        self.in_flight_since = None;
        self.failures = 0;
        self.failed_at = None;
    }

    /// Records a fetch that failed at `now_seconds`: the keys held stay in use, and the
    /// next fetch waits [`Self::backoff_seconds`].
    pub fn fail(&mut self, now_seconds: i64) {
        self.in_flight_since = None;
        self.failures = self.failures.saturating_add(1);
        self.failed_at = Some(now_seconds);
    }
}

/// How Clerk's Backend API answered a call about one object (a user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClerkAnswer {
    /// `200`: the object.
    Found,
    /// `404`: Clerk has no such object; retrying will not change that.
    NotFound,
    /// Anything else (`5xx`, `429`, an unexpected status): worth retrying later.
    Failed,
}

impl ClerkAnswer {
    pub fn of(status: u16) -> Self {
        match status {
            200 => Self::Found,
            404 => Self::NotFound,
            _ => Self::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const KEY: &str = include_str!("../tests/fixtures/clerk-test-key.pem");
    const OTHER_KEY: &str = include_str!("../tests/fixtures/other-test-key.pem");
    const PUBLIC_PEM: &str = include_str!("../tests/fixtures/clerk-test-pub.pem");
    const JWKS: &str = include_str!("../tests/fixtures/clerk-test-jwks.json");
    const NOW: i64 = 1_764_000_000;

    fn jwks() -> Jwks {
        Jwks::parse(JWKS).expect("fixture JWKS")
    }

    fn claims() -> Value {
        json!({
            "azp": "http://127.0.0.1:8790",
            "exp": NOW + 60,
            "iat": NOW,
            "nbf": NOW - 10,
            "iss": "http://127.0.0.1:8791",
            "sid": "sess_1",
            "sub": "user_1",
            "v": 2,
            "metadata": {"plan": "paid", "platformId": "plt_0123456789ab"},
        })
    }

    fn sign_with(pem: &str, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        encode(&header, claims, &EncodingKey::from_rsa_pem(pem.as_bytes()).expect("test key"))
            .expect("signed")
    }

    fn sign(claims: &Value) -> String {
        sign_with(KEY, "ins_test_1", claims)
    }

    fn verify(token: &str) -> Result<SessionClaims, TokenError> {
        verify_session_token(token, &jwks(), NOW, &[])
    }

    fn with(field: &str, value: Value) -> Value {
        let mut c = claims();
        c[field] = value;
        c
    }

    #[test]
    fn a_token_signed_by_a_published_key_verifies_with_its_claims() {
        let c = verify(&sign(&claims())).expect("valid");
        assert_eq!(c.user_id, "user_1");
        assert_eq!(c.session_id.as_deref(), Some("sess_1"));
        assert_eq!(c.metadata_str("platformId"), Some("plt_0123456789ab"));
        assert_eq!(c.metadata_str("plan"), Some("paid"));
    }

    #[test]
    fn an_expired_token_is_refused_after_the_skew() {
        assert!(verify(&sign(&with("exp", json!(NOW - 4)))).is_ok(), "within the 5 s skew");
        assert_eq!(verify(&sign(&with("exp", json!(NOW - 5)))), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_not_yet_valid_is_refused_beyond_the_skew() {
        assert!(verify(&sign(&with("nbf", json!(NOW + 5)))).is_ok());
        assert_eq!(verify(&sign(&with("nbf", json!(NOW + 6)))), Err(TokenError::NotYetValid));
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused() {
        assert_eq!(verify(&sign(&with("iat", json!(NOW + 6)))), Err(TokenError::IssuedInTheFuture));
    }

    #[test]
    fn a_wrong_authorized_party_is_refused_when_parties_are_configured() {
        let token = sign(&claims());
        let parties = vec!["https://app.example.com".to_string()];
        assert_eq!(
            verify_session_token(&token, &jwks(), NOW, &parties),
            Err(TokenError::UnauthorizedParty)
        );
        let ok = vec!["http://127.0.0.1:8790".to_string()];
        assert!(verify_session_token(&token, &jwks(), NOW, &ok).is_ok());
        let mut no_azp = claims();
        no_azp.as_object_mut().expect("object").remove("azp");
        assert_eq!(
            verify_session_token(&sign(&no_azp), &jwks(), NOW, &ok),
            Err(TokenError::UnauthorizedParty),
            "with parties configured, azp must be present"
        );
        assert!(verify(&sign(&no_azp)).is_ok(), "without configured parties azp is optional");
    }

    #[test]
    fn an_unknown_kid_is_refused() {
        assert_eq!(
            verify(&sign_with(KEY, "ins_rotated_away", &claims())),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn a_token_signed_by_another_key_under_a_known_kid_is_refused() {
        assert_eq!(
            verify(&sign_with(OTHER_KEY, "ins_test_1", &claims())),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let b64 = |v: &Value| base64url(v.to_string().as_bytes());
        let token = format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT", "kid": "ins_test_1"})),
            b64(&claims())
        );
        assert!(matches!(
            verify(&token),
            Err(TokenError::Malformed | TokenError::UnsupportedAlgorithm)
        ));
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_refused() {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("ins_test_1".into());
        let token = encode(&header, &claims(), &EncodingKey::from_secret(PUBLIC_PEM.as_bytes()))
            .expect("signed");
        assert_eq!(verify(&token), Err(TokenError::UnsupportedAlgorithm));
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let token = sign(&claims());
        let parts: Vec<&str> = token.split('.').collect();
        let forged = base64url(with("sub", json!("user_admin")).to_string().as_bytes());
        let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert_eq!(verify(&tampered), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_token_without_a_subject_is_refused() {
        let mut no_sub = claims();
        no_sub.as_object_mut().expect("object").remove("sub");
        assert_eq!(verify(&sign(&no_sub)), Err(TokenError::MissingSubject));
    }

    #[test]
    fn garbage_is_malformed() {
        for token in ["", "abc", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.e30"] {
            assert!(verify(token).is_err(), "{token:?}");
        }
    }

    #[test]
    fn a_token_checked_elsewhere_yields_its_claims_only_if_the_check_passed() {
        let token = sign(&claims());
        let unverified = UnverifiedToken::parse(&token).expect("parses");
        assert_eq!(unverified.kid(), Some("ins_test_1"));
        let (input, signature) = token.rsplit_once('.').expect("three parts");
        assert_eq!(unverified.signing_input(), input.as_bytes());
        assert_eq!(URL_SAFE_NO_PAD.encode(unverified.signature()), signature);
        assert_eq!(unverified.finish(false, NOW, &[]), Err(TokenError::BadSignature));
        let claims =
            UnverifiedToken::parse(&token).expect("parses").finish(true, NOW, &[]).expect("valid");
        assert_eq!(claims.user_id, "user_1");
    }

    #[test]
    fn the_jwks_is_fetched_every_five_minutes_and_for_unknown_kids_at_most_once_a_minute() {
        let mut cache = JwksCache::default();
        assert!(cache.should_fetch(Some("ins_test_1"), NOW), "nothing fetched yet");
        cache.store(jwks(), Some("ins_test_1"), NOW);
        assert!(!cache.should_fetch(Some("ins_test_1"), NOW + 299));
        assert!(cache.should_fetch(Some("ins_test_1"), NOW + 300));
        assert!(
            cache.should_fetch(Some("ins_new"), NOW + 10),
            "an unknown kid may mean a rotation"
        );
        cache.store(jwks(), Some("ins_new"), NOW + 10);
        assert!(!cache.should_fetch(Some("ins_new"), NOW + 69), "but not again within the minute");
        assert!(cache.should_fetch(Some("ins_new"), NOW + 70));
    }

    fn other_jwks() -> Jwks {
        Jwks::parse(r#"{"keys": [{"kid": "ins_other", "kty": "RSA", "n": "AQAB", "e": "AQAB"}]}"#)
            .expect("a JWKS")
    }

    #[test]
    fn only_one_jwks_fetch_is_in_flight_and_the_others_wait_for_it() {
        let mut cache = JwksCache::default();
        assert_eq!(cache.next_step(Some("ins_test_1"), NOW), JwksStep::Fetch);
        for kid in ["ins_test_1", "ins_forged_1", "ins_forged_2"] {
            assert_eq!(cache.next_step(Some(kid), NOW), JwksStep::Wait, "{kid}");
        }
        cache.store(jwks(), Some("ins_test_1"), NOW);
        assert_eq!(cache.next_step(Some("ins_test_1"), NOW), JwksStep::UseCached);
    }

    #[test]
    fn fifty_tokens_with_forged_kids_cause_one_jwks_fetch_a_minute() {
        let mut cache = JwksCache::default();
        cache.store(jwks(), Some("ins_test_1"), NOW);
        let fetches = |cache: &mut JwksCache, at: i64| {
            (0..50)
                .filter(|i| {
                    cache.next_step(Some(&format!("ins_forged_{i}")), at) == JwksStep::Fetch
                })
                .count()
        };
        assert_eq!(fetches(&mut cache, NOW + 1), 1, "while it is in flight");
        cache.store(jwks(), Some("ins_forged_0"), NOW + 2);
        assert_eq!(fetches(&mut cache, NOW + 3), 0, "after it, within the minute");
        assert_eq!(fetches(&mut cache, NOW + 61), 0);
        assert_eq!(fetches(&mut cache, NOW + 62), 1, "a minute after the last");
    }

    #[test]
    fn from_a_cold_start_fifty_tokens_with_forged_kids_cause_one_jwks_fetch() {
        let mut cache = JwksCache::default();
        let steps: Vec<JwksStep> =
            (0..50).map(|i| cache.next_step(Some(&format!("ins_forged_{i}")), NOW)).collect();
        assert_eq!(steps.iter().filter(|s| **s == JwksStep::Fetch).count(), 1);
        cache.store(jwks(), Some("ins_forged_0"), NOW + 1);
        for i in 1..50 {
            let kid = format!("ins_forged_{i}");
            assert_eq!(cache.next_step(Some(&kid), NOW + 1), JwksStep::UseCached, "{kid}");
        }
        assert_eq!(cache.next_step(Some("ins_test_1"), NOW + 1), JwksStep::UseCached);
    }

    #[test]
    fn while_a_refresh_is_in_flight_tokens_with_known_kids_use_the_held_keys() {
        let mut cache = JwksCache::default();
        cache.store(jwks(), Some("ins_test_1"), NOW);
        assert_eq!(cache.next_step(Some("ins_test_1"), NOW + 300), JwksStep::Fetch, "expired");
        assert_eq!(cache.next_step(Some("ins_test_1"), NOW + 300), JwksStep::UseCached);
        assert_eq!(cache.next_step(Some("ins_rotated_in"), NOW + 300), JwksStep::Wait);
    }

    #[test]
    fn a_failed_unknown_kid_fetch_still_counts_as_the_minutes_one() {
        let mut cache = JwksCache::default();
        cache.store(jwks(), Some("ins_test_1"), NOW);
        assert_eq!(cache.next_step(Some("ins_forged"), NOW + 1), JwksStep::Fetch);
        cache.fail(NOW + 2);
        assert_eq!(cache.next_step(Some("ins_forged"), NOW + 30), JwksStep::UseCached);
        assert_eq!(cache.next_step(Some("ins_forged"), NOW + 61), JwksStep::Fetch);
        assert!(cache.jwks().is_some_and(|j| j.has_kid("ins_test_1")), "held keys stay");
    }

    #[test]
    fn failed_jwks_fetches_back_off_one_two_four_seconds_up_to_a_minute() {
        let mut cache = JwksCache::default();
        let mut at = NOW;
        for expected in [1, 2, 4, 8, 16, 32, 60, 60, 60] {
            assert_eq!(cache.next_step(None, at), JwksStep::Fetch, "after {at}");
            cache.fail(at);
            assert_eq!(cache.backoff_seconds(), expected);
            assert_eq!(cache.next_step(None, at + expected - 1), JwksStep::UseCached);
            at += expected;
        }
        assert_eq!(cache.next_step(None, at), JwksStep::Fetch);
        cache.store(other_jwks(), None, at);
        assert_eq!(cache.backoff_seconds(), 0, "a success ends the backoff");
        assert!(cache.jwks().is_some_and(|j| j.has_kid("ins_other")));
    }

    #[test]
    fn a_fetch_whose_request_was_lost_stops_blocking_after_fifteen_seconds() {
        let mut cache = JwksCache::default();
        assert_eq!(cache.next_step(None, NOW), JwksStep::Fetch);
        assert_eq!(cache.next_step(None, NOW + 14), JwksStep::Wait);
        assert_eq!(cache.next_step(None, NOW + 15), JwksStep::Fetch);
    }

    #[test]
    fn clerk_answering_404_is_not_found_and_anything_but_200_is_a_failure() {
        assert_eq!(ClerkAnswer::of(200), ClerkAnswer::Found);
        assert_eq!(ClerkAnswer::of(404), ClerkAnswer::NotFound);
        for status in [201, 400, 401, 429, 500, 502, 503] {
            assert_eq!(ClerkAnswer::of(status), ClerkAnswer::Failed, "{status}");
        }
    }

    fn base64url(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }
}
