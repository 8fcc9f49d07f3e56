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

/// When to fetch the JWKS: every 5 minutes, and on a token with an unknown `kid` (keys
/// rotate), but for unknown kids at most once a minute, so that forged `kid`s cannot
/// turn into a flood of fetches.
#[derive(Debug, Clone, Default)]
pub struct JwksCache {
    jwks: Option<Jwks>,
    fetched_at: i64,
    last_unknown_kid_fetch: Option<i64>,
}

impl JwksCache {
    pub fn jwks(&self) -> Option<&Jwks> {
        self.jwks.as_ref()
    }

    pub fn should_fetch(&self, kid: Option<&str>, now_seconds: i64) -> bool {
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

    /// Records a fetch made for `kid` at `now_seconds`.
    pub fn store(&mut self, jwks: Jwks, kid: Option<&str>, now_seconds: i64) {
        let for_unknown_kid = matches!((&self.jwks, kid), (Some(old), Some(k)) if !old.has_kid(k));
        if for_unknown_kid {
            self.last_unknown_kid_fetch = Some(now_seconds);
        }
        self.jwks = Some(jwks);
        self.fetched_at = now_seconds;
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

    fn base64url(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }
}
