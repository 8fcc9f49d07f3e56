//! Secrets at rest: Stripe Connect tokens and account data are stored sealed with
//! AES-256-GCM under `TOKEN_ENCRYPTION_KEY`, a fresh random nonce per write, so the
//! stored value never contains the secret in clear and any change to it is detected.
//! Stored form: `v1.` + base64url(nonce ‖ ciphertext ‖ tag).

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use std::fmt;

const PREFIX: &str = "v1.";
pub const NONCE_LEN: usize = 12;

/// The 32-byte key. `Debug` never prints it.
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealError {
    /// `TOKEN_ENCRYPTION_KEY` is not 32 bytes of standard base64.
    BadKey,
    /// Not a value this module sealed.
    Malformed,
    /// The wrong key, or the value was changed.
    Tampered,
}

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BadKey => "TOKEN_ENCRYPTION_KEY must be 32 bytes in base64",
            Self::Malformed => "the sealed value is malformed",
            Self::Tampered => "the sealed value does not open with this key",
        })
    }
}

impl SealingKey {
    /// From `TOKEN_ENCRYPTION_KEY`: 32 random bytes in standard base64
    /// (`openssl rand -base64 32`).
    pub fn from_base64(encoded: &str) -> Result<Self, SealError> {
        let bytes = STANDARD.decode(encoded.trim()).map_err(|_| SealError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadKey)?;
        Ok(Self(key))
    }

    /// A separate 32-byte key for `purpose` (HMAC-SHA256 of the purpose under this key),
    /// so one configured secret can sign other things without reusing the sealing key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0))
    }

    /// Seals `plaintext` with `nonce`, which must never repeat under one key: draw it
    /// from the CSPRNG for every write.
    pub fn seal(&self, nonce: [u8; NONCE_LEN], plaintext: &[u8]) -> String {
        let sealed = self
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .unwrap_or_else(|_| unreachable!("AES-GCM encrypts any plaintext under 64 GiB"));
        encode(nonce, &sealed)
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, SealError> {
        let (nonce, ciphertext) = decode(sealed)?;
        self.cipher()
            .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
            .map_err(|_| SealError::Tampered)
    }

    /// The raw key, for a platform's own AES-GCM (WebCrypto in a worker, which keeps
    /// the Rust cipher out of the shipped wasm). Never log it.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The stored form of a sealing: `v1.` + base64url(nonce ‖ ciphertext ‖ tag).
pub fn encode(nonce: [u8; NONCE_LEN], ciphertext_and_tag: &[u8]) -> String {
    let mut out = nonce.to_vec();
    out.extend_from_slice(ciphertext_and_tag);
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
}

/// The nonce and the ciphertext with its tag, from the stored form.
pub fn decode(sealed: &str) -> Result<([u8; NONCE_LEN], Vec<u8>), SealError> {
    let body = sealed.strip_prefix(PREFIX).ok_or(SealError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| SealError::Malformed)?;
    if bytes.len() < NONCE_LEN + 16 {
        return Err(SealError::Malformed);
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Malformed)?;
    Ok((nonce, ciphertext.to_vec()))
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(…)")
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_stored_form_carries_the_nonce_then_the_ciphertext_and_tag() {
        let key = SealingKey::from_base64(&STANDARD.encode([9u8; 32])).expect("valid");
        let sealed = key.seal([3u8; NONCE_LEN], b"secret");
        let (nonce, body) = decode(&sealed).expect("well formed");
        assert_eq!(nonce, [3u8; NONCE_LEN]);
        assert_eq!(body.len(), b"secret".len() + 16);
        assert_eq!(encode(nonce, &body), sealed);
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_from_the_sealing_key() {
        let key = SealingKey::from_base64(&STANDARD.encode([7u8; 32])).expect("valid");
        let a = key.derive("oauth-state");
        assert_eq!(a, key.derive("oauth-state"));
        assert_ne!(a, key.derive("other"));
        assert_ne!(a, [7u8; 32]);
    }

    use super::*;

    fn key(byte: u8) -> SealingKey {
        SealingKey::from_base64(&STANDARD.encode([byte; 32])).expect("32 bytes")
    }

    const TOKEN: &[u8] = b"sk_live_connected_account_token";

    #[test]
    fn a_sealed_value_opens_with_its_key_and_never_shows_the_secret() {
        let sealed = key(1).seal([7; 12], TOKEN);
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("sk_live"));
        assert_eq!(key(1).open(&sealed), Ok(TOKEN.to_vec()));
    }

    #[test]
    fn the_same_secret_sealed_twice_with_fresh_nonces_differs() {
        assert_ne!(key(1).seal([1; 12], TOKEN), key(1).seal([2; 12], TOKEN));
    }

    #[test]
    fn another_key_or_any_changed_character_is_refused() {
        let sealed = key(1).seal([7; 12], TOKEN);
        assert_eq!(key(2).open(&sealed), Err(SealError::Tampered));
        for i in 3..sealed.len() {
            let mut chars: Vec<char> = sealed.chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            let changed: String = chars.into_iter().collect();
            assert!(key(1).open(&changed).is_err(), "position {i}");
        }
    }

    #[test]
    fn malformed_values_and_keys_are_refused() {
        assert_eq!(key(1).open("plain text"), Err(SealError::Malformed));
        assert_eq!(key(1).open("v1.AAAA"), Err(SealError::Malformed));
        assert_eq!(SealingKey::from_base64("c2hvcnQ=").map(|_| ()), Err(SealError::BadKey));
        assert_eq!(SealingKey::from_base64("not base64!").map(|_| ()), Err(SealError::BadKey));
        assert!(!format!("{:?}", key(9)).contains('9'));
    }
}
