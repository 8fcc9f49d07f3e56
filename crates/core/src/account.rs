//! A developer's account lifecycle: creating a platform with its first key, and
//! rotating that key with a grace period.

use crate::api_key::ApiKey;
use crate::error::Invalid;
use crate::ids::{Email, PlatformId};
use crate::platform::{Mode, PlatformMeta, PlatformPlan};
use crate::random::RandomSource;
use crate::storage::KeyRecord;
use crate::time::{rfc3339, Instant};
use chrono::Duration;

pub const MAX_GRACE_SECONDS: u64 = 86_400;
const MAX_NAME_CHARS: usize = 100;

/// Everything to store for a new platform; `api_key` is shown once and then dropped.
pub struct NewPlatform {
    pub meta: PlatformMeta,
    pub api_key: ApiKey,
    pub key_record: KeyRecord,
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
        Ok(Self {
            meta: PlatformMeta {
                platform_id: platform_id.clone(),
                name,
                email,
                plan: PlatformPlan::Free,
                mode: Mode::Preview,
                created_at: rfc3339(now),
            },
            api_key: ApiKey::generate(rng),
            key_record: KeyRecord { platform_id, expires_at: None },
        })
    }
}

/// A key rotation: the new key, and until when the previous one keeps working.
pub struct Rotation {
    pub api_key: ApiKey,
    pub key_record: KeyRecord,
    pub previous_record: KeyRecord,
}

impl Rotation {
    /// With `grace_seconds` 0 the previous key stops at once.
    pub fn new(
        rng: &mut dyn RandomSource,
        platform_id: &PlatformId,
        grace_seconds: u64,
        now: Instant,
    ) -> Self {
        let grace =
            Duration::seconds(i64::try_from(grace_seconds.min(MAX_GRACE_SECONDS)).unwrap_or(0));
        // The answer states the expiry in whole seconds, so a grace period ends on a whole
        // second (rounded up: never shorter than asked); no grace ends now.
        let expires_at = if grace.is_zero() { now } else { round_up_to_second(now + grace) };
        Self {
            api_key: ApiKey::generate(rng),
            key_record: KeyRecord { platform_id: platform_id.clone(), expires_at: None },
            previous_record: KeyRecord {
                platform_id: platform_id.clone(),
                expires_at: Some(expires_at),
            },
        }
    }
}

fn round_up_to_second(at: Instant) -> Instant {
    let ms = at.timestamp_millis();
    crate::time::from_millis(ms + (1000 - ms.rem_euclid(1000)) % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::seeded;

    fn now() -> Instant {
        "2026-11-25T12:00:00Z".parse().expect("valid")
    }

    #[test]
    fn a_new_platform_starts_free_in_preview_with_a_working_key() {
        let email = Email::parse("ada@example.com").expect("valid");
        let p =
            NewPlatform::create(&mut seeded(1), email, Some("  Ada's app "), now()).expect("valid");
        assert_eq!((p.meta.plan, p.meta.mode), (PlatformPlan::Free, Mode::Preview));
        assert_eq!(p.meta.name.as_deref(), Some("Ada's app"));
        assert_eq!(p.key_record.platform_id, p.meta.platform_id);
        assert!(p.key_record.is_valid_at(now()));
        assert!(ApiKey::parse(p.api_key.expose()).is_ok());
    }

    #[test]
    fn a_blank_name_is_no_name_and_a_long_one_is_refused() {
        let email = Email::parse("ada@example.com").expect("valid");
        let blank =
            NewPlatform::create(&mut seeded(1), email.clone(), Some("  "), now()).expect("valid");
        assert_eq!(blank.meta.name, None);
        assert!(NewPlatform::create(&mut seeded(1), email, Some(&"n".repeat(101)), now()).is_err());
    }

    #[test]
    fn a_rotation_keeps_the_previous_key_for_exactly_the_grace_period() {
        let platform = PlatformId::parse("plt_0123456789ab").expect("valid");
        let r = Rotation::new(&mut seeded(2), &platform, 60, now());
        let expires = r.previous_record.expires_at.expect("set");
        assert_eq!(expires, now() + Duration::seconds(60));
        assert!(r.previous_record.is_valid_at(now() + Duration::seconds(59)));
        assert!(!r.previous_record.is_valid_at(now() + Duration::seconds(60)));
        assert!(r.key_record.is_valid_at(now() + Duration::days(365)));
        let immediate = Rotation::new(&mut seeded(2), &platform, 0, now());
        assert!(!immediate.previous_record.is_valid_at(now()));
    }

    #[test]
    fn a_grace_period_ends_on_the_whole_second_the_answer_states() {
        let platform = PlatformId::parse("plt_0123456789ab").expect("valid");
        let at: Instant = "2026-11-25T12:00:00.300Z".parse().expect("valid");
        let r = Rotation::new(&mut seeded(2), &platform, 3, at);
        let expires = r.previous_record.expires_at.expect("set");
        assert_eq!(rfc3339(expires), "2026-11-25T12:00:04Z");
        assert_eq!(expires, "2026-11-25T12:00:04Z".parse::<Instant>().expect("valid"));
        assert!(
            r.previous_record.is_valid_at(at + Duration::seconds(3)),
            "never shorter than asked"
        );
    }
}
