//! API keys: `pk_live_` + 32 random base62 characters + 6 base62 check characters.
//!
//! The check characters are the CRC-32 of the random part in base62 (as GitHub's token
//! format does). CRC-32 detects every error burst up to 32 bits, so any single changed
//! character is caught without a storage read. Keys are stored only as SHA-256 hex.

use crate::random::{base62_string, is_base62, RandomSource, BASE62};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// A secret API key. `Debug` never prints it; [`ApiKey::expose`] is the one way out,
/// used exactly once: in the response that creates it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKeyError {
    /// Not shaped like a key at all: wrong prefix, length or characters.
    Malformed,
    /// Shaped like a key, but the check characters do not match: a typo or truncation.
    BadChecksum,
}

impl ApiKey {
    pub const PREFIX: &'static str = "pk_live_";
    const RANDOM_LEN: usize = 32;
    const CHECK_LEN: usize = 6;
    pub const LEN: usize = Self::PREFIX.len() + Self::RANDOM_LEN + Self::CHECK_LEN;

    pub fn generate(rng: &mut dyn RandomSource) -> Self {
        let random = base62_string(rng, Self::RANDOM_LEN);
        let check = checksum(&random);
        Self(format!("{}{random}{check}", Self::PREFIX))
    }

    pub fn parse(s: &str) -> Result<Self, ApiKeyError> {
        let body = s.strip_prefix(Self::PREFIX).ok_or(ApiKeyError::Malformed)?;
        if s.len() != Self::LEN || !is_base62(body) {
            return Err(ApiKeyError::Malformed);
        }
        let (random, check) = body.split_at(Self::RANDOM_LEN);
        if checksum(random).as_bytes().ct_eq(check.as_bytes()).into() {
            Ok(Self(s.to_owned()))
        } else {
            Err(ApiKeyError::BadChecksum)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> ApiKeyHash {
        ApiKeyHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({}…)", &self.0[..Self::PREFIX.len() + 4])
    }
}

/// The SHA-256 hex of a key: what storage holds and what lookups use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiKeyHash(String);

impl ApiKeyHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A hash read back from storage; anything but 64 lowercase hex is refused.
    pub fn from_stored(s: &str) -> Option<Self> {
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
            .then(|| Self(s.to_owned()))
    }

    pub fn ct_eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl serde::Serialize for ApiKeyHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ApiKeyHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_stored(&s).ok_or_else(|| serde::de::Error::custom("not a key hash"))
    }
}

fn checksum(random: &str) -> String {
    let mut n = u64::from(crc32fast::hash(random.as_bytes()));
    let mut out = [b'0'; ApiKey::CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    // 62^6 > 2^32, so six characters always hold the whole CRC.
    out.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::seeded;
    use proptest::prelude::*;

    fn key(seed: u64) -> ApiKey {
        ApiKey::generate(&mut seeded(seed))
    }

    #[test]
    fn a_generated_key_has_the_documented_shape_and_parses_back() {
        let k = key(1);
        assert!(k.expose().starts_with("pk_live_"));
        assert_eq!(k.expose().len(), 46);
        assert_eq!(ApiKey::parse(k.expose()), Ok(k));
    }

    #[test]
    fn keys_from_different_randomness_differ() {
        assert_ne!(key(1), key(2));
    }

    #[test]
    fn truncated_extended_and_wrongly_prefixed_keys_are_malformed() {
        let k = key(5);
        let s = k.expose();
        assert_eq!(ApiKey::parse(&s[..45]), Err(ApiKeyError::Malformed));
        assert_eq!(ApiKey::parse(&format!("{s}0")), Err(ApiKeyError::Malformed));
        assert_eq!(ApiKey::parse(&s.replace("pk_live_", "pk_test_")), Err(ApiKeyError::Malformed));
        assert_eq!(ApiKey::parse(""), Err(ApiKeyError::Malformed));
    }

    #[test]
    fn the_hash_is_the_sha256_hex_of_the_whole_key() {
        // FIPS 180-2's test vector for "abc".
        let k = ApiKey("abc".into());
        assert_eq!(
            k.hash().as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(ApiKeyHash::from_stored(k.hash().as_str()).is_some_and(|h| h.ct_eq(&k.hash())));
    }

    #[test]
    fn debug_output_never_contains_the_secret_part() {
        let k = key(9);
        let printed = format!("{k:?}");
        assert!(!printed.contains(&k.expose()[12..]));
    }

    #[test]
    fn stored_hashes_must_be_64_lowercase_hex() {
        assert!(ApiKeyHash::from_stored(&"a".repeat(64)).is_some());
        assert!(ApiKeyHash::from_stored(&"A".repeat(64)).is_none());
        assert!(ApiKeyHash::from_stored(&"a".repeat(63)).is_none());
    }

    proptest! {
        /// Every position, every other character of the alphabet: never accepted.
        #[test]
        fn the_checksum_rejects_every_single_character_change(seed in any::<u64>()) {
            let k = key(seed);
            let original = k.expose().as_bytes().to_vec();
            for pos in ApiKey::PREFIX.len()..original.len() {
                for &c in BASE62 {
                    if c == original[pos] {
                        continue;
                    }
                    let mut changed = original.clone();
                    changed[pos] = c;
                    let changed = String::from_utf8(changed).expect("ascii");
                    prop_assert_eq!(ApiKey::parse(&changed), Err(ApiKeyError::BadChecksum));
                }
            }
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(s in "\\PC{0,60}") {
            let _ = ApiKey::parse(&s);
        }
    }
}
