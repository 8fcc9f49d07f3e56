//! Creating a platform with its first key. (Rotating it is [`crate::keys`].)

use crate::api_key::ApiKey;
use crate::error::Invalid;
use crate::ids::{Email, PlatformId};
use crate::platform::PlatformRecord;
use crate::random::RandomSource;
use crate::time::{rfc3339, Instant};

const MAX_NAME_CHARS: usize = 100;

/// A new platform, not yet stored; `api_key` is shown once and then dropped (the
/// record holds only its hash).
pub struct NewPlatform {
    pub record: PlatformRecord,
    pub api_key: ApiKey,
}

impl NewPlatform {
    pub fn create(
        rng: &mut dyn RandomSource,
        email: Email,
        name: Option<&str>,
        now: Instant,
    ) -> Result<Self, Invalid> {
        let name = match name.map(str::trim) {
            None | Some("") => None,
            Some(n) if n.chars().count() <= MAX_NAME_CHARS => Some(n.to_string()),
            Some(_) => {
                return Err(Invalid::new(format!(
                    "name must be at most {MAX_NAME_CHARS} characters"
                )))
            }
        };
        let platform_id = PlatformId::generate(rng);
        let api_key = ApiKey::generate(rng);
        let record = PlatformRecord::new(platform_id, email, name, api_key.hash(), rfc3339(now));
        Ok(Self { record, api_key })
    }
}

/// Which registration limit a client address counts against: an IPv4 address alone, an
/// IPv6 address by its /64 (one subscriber usually holds a whole /64, so counting single
/// IPv6 addresses would let one client register without limit).
pub fn registration_bucket(client_ip: &str) -> String {
    let ip = client_ip.trim();
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            v6.to_ipv4_mapped().map_or_else(String::new, |v4| v4.to_string())
        }
        Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyStanding;
    use crate::platform::{Mode, PlatformPlan};
    use crate::random::seeded;

    fn now() -> Instant {
        "2026-11-25T12:00:00Z".parse().expect("valid")
    }

    #[test]
    fn a_new_platform_starts_free_in_preview_with_a_working_key() {
        let email = Email::parse("ada@example.com").expect("valid");
        let p =
            NewPlatform::create(&mut seeded(1), email, Some("  Ada's app "), now()).expect("valid");
        assert_eq!((p.record.plan(), p.record.mode()), (PlatformPlan::Free, Mode::Preview));
        assert_eq!(p.record.name.as_deref(), Some("Ada's app"));
        assert_eq!(p.record.keys.standing(&p.api_key.hash(), now()), KeyStanding::Current);
        assert!(ApiKey::parse(p.api_key.expose()).is_ok());
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_ipv4_clients_by_their_address() {
        assert_eq!(
            registration_bucket("2001:db8:1:2:aaaa::1"),
            registration_bucket("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")
        );
        assert_ne!(registration_bucket("2001:db8:1:2::1"), registration_bucket("2001:db8:1:3::1"));
        assert_eq!(registration_bucket("203.0.113.7"), "203.0.113.7");
        assert_eq!(registration_bucket("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(registration_bucket("not an address"), "unknown");
    }

    #[test]
    fn a_blank_name_is_no_name_and_a_long_one_is_refused() {
        let email = Email::parse("ada@example.com").expect("valid");
        let blank =
            NewPlatform::create(&mut seeded(1), email.clone(), Some("  "), now()).expect("valid");
        assert_eq!(blank.record.name, None);
        assert!(NewPlatform::create(&mut seeded(1), email, Some(&"n".repeat(101)), now()).is_err());
    }
}
