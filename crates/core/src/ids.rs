//! Identifiers and other validated strings. Each is a newtype with a private field:
//! holding one proves it passed `parse`.

use crate::error::Invalid;
use crate::random::{base62_string, is_base62, RandomSource};
use serde::{Serialize, Serializer};
use std::fmt;

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A developer's platform: `plt_` + 12 base62 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlatformId(String);
string_newtype!(PlatformId);

impl PlatformId {
    const PREFIX: &'static str = "plt_";
    const RANDOM_LEN: usize = 12;

    pub fn generate(rng: &mut dyn RandomSource) -> Self {
        Self(format!("{}{}", Self::PREFIX, base62_string(rng, Self::RANDOM_LEN)))
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s.strip_prefix(Self::PREFIX) {
            Some(rest) if rest.len() == Self::RANDOM_LEN && is_base62(rest) => Ok(Self(s.into())),
            _ => Err(Invalid::new("platformId must be plt_ followed by 12 letters or digits")),
        }
    }
}

/// An end-user of a developer's app, named by the developer (or a Clerk `sub`):
/// 1–128 characters of `[A-Za-z0-9_.:@-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);
string_newtype!(UserId);

impl UserId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"_.:@-".contains(&b);
        if (1..=Self::MAX_LEN).contains(&s.len()) && s.bytes().all(allowed) {
            Ok(Self(s.into()))
        } else {
            Err(Invalid::new("userId must be 1 to 128 characters of A-Z, a-z, 0-9, _ . : @ -"))
        }
    }

    /// The demo end-user ([`DEMO_END_USER`]).
    pub fn demo() -> Self {
        Self(DEMO_END_USER.into())
    }
}

/// The demo end-user every platform has, so that its developer can try their own
/// pricing page from the dashboard ("Try demo"): an end-user of the platform like any
/// other (it checks out through the platform's own billing, the Stripe webhook moves
/// its tier, and it is listed with the platform's end-users once it has done
/// something), named with a `dream-api:` prefix so that it stands apart from the
/// developer's own users.
pub const DEMO_END_USER: &str = "dream-api:demo";

/// A tier's id: a slug of 1–32 characters of `[a-z0-9-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TierId(String);
string_newtype!(TierId);

impl TierId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let allowed = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-';
        if (1..=32).contains(&s.len()) && s.bytes().all(allowed) {
            Ok(Self(s.into()))
        } else {
            Err(Invalid::new("a tier id must be 1 to 32 characters of a-z, 0-9 and -"))
        }
    }
}

/// A client-chosen key that makes a `track` call safe to retry: 1–255 printable ASCII.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);
string_newtype!(IdempotencyKey);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        if (1..=255).contains(&s.len()) && s.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            Ok(Self(s.into()))
        } else {
            Err(Invalid::new("idempotencyKey must be 1 to 255 printable ASCII characters"))
        }
    }
}

/// A developer's email address. The check is deliberately shallow (one `@`, a dotted
/// domain, no spaces): the only real test of an address is mail reaching it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        let valid = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if valid {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(Invalid::new("email must be a valid email address"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::seeded;
    use proptest::prelude::*;

    #[test]
    fn generated_platform_ids_parse_back() {
        let mut rng = seeded(3);
        for _ in 0..100 {
            let id = PlatformId::generate(&mut rng);
            assert_eq!(PlatformId::parse(id.as_str()), Ok(id.clone()));
            assert_eq!(id.as_str().len(), 16);
        }
    }

    #[test]
    fn platform_ids_with_the_wrong_prefix_length_or_characters_are_rejected() {
        for bad in
            ["", "plt_", "plt_abc", "plx_0123456789ab", "plt_0123456789a-", "plt_0123456789abc"]
        {
            assert!(PlatformId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_ids_accept_the_documented_characters_and_nothing_else() {
        assert!(UserId::parse("user_123.abc:x@example.com-9").is_ok());
        assert!(UserId::parse(&"a".repeat(128)).is_ok());
        for bad in ["", " ", "a b", "a/b", "ü", "a\n", "<script>", &"a".repeat(129)] {
            assert!(UserId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_demo_end_user_is_a_valid_user_id() {
        assert_eq!(UserId::parse(DEMO_END_USER), Ok(UserId::demo()));
        assert_eq!(UserId::demo().as_str(), "dream-api:demo");
    }

    #[test]
    fn tier_ids_are_lowercase_slugs() {
        assert!(TierId::parse("pro-2").is_ok());
        for bad in ["", "Pro", "pro_2", "pro 2", &"a".repeat(33)] {
            assert!(TierId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn idempotency_keys_are_printable_ascii_up_to_255() {
        assert!(IdempotencyKey::parse("order 42 / retry ~").is_ok());
        for bad in ["", "tab\there", "é", &"k".repeat(256)] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(Email::parse(" Ada@Example.com ").map(|e| e.0), Ok("ada@example.com".into()));
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@@example.com",
            "ada@.com",
            "ada@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// The contract's rule for a user id, written out apart from `UserId::parse`.
    fn documented_user_id(s: &str) -> bool {
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:@-";
        (1..=128).contains(&s.chars().count()) && s.chars().all(|c| alphabet.contains(c))
    }

    /// Valid ids of every length, and invalid ones of each kind the rule names: too long,
    /// empty, one character outside the alphabet anywhere, and arbitrary text.
    fn user_id_candidate() -> impl Strategy<Value = (String, bool)> {
        let valid = "[A-Za-z0-9_.:@-]{1,128}";
        prop_oneof![
            4 => valid.prop_map(|s| (s, true)),
            1 => "[A-Za-z0-9_.:@-]{129,200}".prop_map(|s| (s, false)),
            1 => Just((String::new(), false)),
            3 => (valid, "[^A-Za-z0-9_.:@-]", any::<prop::sample::Index>()).prop_map(|(s, bad, at)| {
                let mut chars: Vec<String> = s.chars().map(String::from).collect();
                let at = at.index(chars.len() + 1);
                chars.insert(at, bad);
                (chars.concat(), false)
            }),
            1 => "\\PC{0,140}".prop_map(|s| { let ok = documented_user_id(&s); (s, ok) }),
        ]
    }

    proptest! {
        /// A user id parses exactly when the contract allows it, and parses back as itself.
        #[test]
        fn a_user_id_parses_exactly_when_it_is_1_to_128_documented_characters((s, valid) in user_id_candidate()) {
            prop_assert_eq!(documented_user_id(&s), valid, "the generator's own label");
            match UserId::parse(&s) {
                Ok(id) => {
                    prop_assert!(valid, "accepted {:?}", s);
                    prop_assert_eq!(id.as_str(), s.as_str());
                    prop_assert!(id.as_str().len() <= 128);
                    prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b"_.:@-".contains(&b)));
                }
                Err(_) => prop_assert!(!valid, "refused {:?}", s),
            }
        }
    }
}
