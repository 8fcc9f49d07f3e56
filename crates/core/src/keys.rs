//! A platform's key set: its current API key and, after a rotation, the previous key
//! until its grace period ends. The platform's object holds it and checks every call's
//! key against it, so a rotation takes effect on the very next call in every location;
//! KV only maps a key to its platform.

use crate::api_key::ApiKeyHash;
use crate::error::{ErrorCode, Refusal};
use crate::time::{from_millis, Instant};
use chrono::Duration;
use serde::{Deserialize, Serialize};

pub const MAX_GRACE_SECONDS: u64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySet {
    pub current: ApiKeyHash,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousKey>,
}

/// The key a rotation replaced, and the instant it stops working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviousKey {
    pub hash: ApiKeyHash,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub expires_at: Instant,
}

/// Where a presented key stands in the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStanding {
    Current,
    /// The previous key, inside its grace period.
    InGrace,
    /// The previous key, after its grace period.
    Expired,
    /// Not a key of this platform now: never one, or retired by a later rotation.
    Unknown,
}

/// What a rotation did: the new expiry of the key it replaced, and the key before that,
/// whose grace it ended at once (its KV entry can go).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub previous: PreviousKey,
    pub retired: Option<ApiKeyHash>,
}

impl KeySet {
    pub fn new(current: ApiKeyHash) -> Self {
        Self { current, previous: None }
    }

    pub fn standing(&self, key: &ApiKeyHash, now: Instant) -> KeyStanding {
        if self.current.ct_eq(key) {
            return KeyStanding::Current;
        }
        match &self.previous {
            Some(p) if p.hash.ct_eq(key) && now < p.expires_at => KeyStanding::InGrace,
            Some(p) if p.hash.ct_eq(key) => KeyStanding::Expired,
            _ => KeyStanding::Unknown,
        }
    }

    /// When the key a rotation replaced stops working, while it still works at `now`
    /// (`None` without a previous key, or once its grace period is over).
    pub fn grace_ends(&self, now: Instant) -> Option<Instant> {
        self.previous.as_ref().filter(|p| now < p.expires_at).map(|p| p.expires_at)
    }

    /// The refusal for a key that may not call, if it may not.
    pub fn admit(&self, key: &ApiKeyHash, now: Instant) -> Result<KeyStanding, Refusal> {
        match self.standing(key, now) {
            s @ (KeyStanding::Current | KeyStanding::InGrace) => Ok(s),
            KeyStanding::Expired => Err(Refusal::new(
                ErrorCode::InvalidApiKey,
                "This API key was rotated and has expired.",
            )),
            KeyStanding::Unknown => Err(Refusal::new(
                ErrorCode::InvalidApiKey,
                "This API key does not exist or was revoked.",
            )),
        }
    }

    /// Makes `next` the current key. `by` is the key that asked (`None`: the developer,
    /// signed in to the dashboard): only the current key may rotate, so a leaked key in
    /// its grace period cannot end the owner's new key and mint one of its own. The
    /// replaced key works for `grace_seconds` more (ending on a whole second, never
    /// sooner than asked); a key still in grace from an earlier rotation stops now.
    pub fn rotate(
        &mut self,
        by: Option<&ApiKeyHash>,
        next: ApiKeyHash,
        grace_seconds: u64,
        now: Instant,
    ) -> Result<Rotated, Refusal> {
        if let Some(key) = by {
            if self.admit(key, now)? == KeyStanding::InGrace {
                return Err(Refusal::new(
                    ErrorCode::Forbidden,
                    "This key is in its grace period after a rotation and cannot rotate; use the current key.",
                ));
            }
        }
        let grace =
            Duration::seconds(i64::try_from(grace_seconds.min(MAX_GRACE_SECONDS)).unwrap_or(0));
        let expires_at = if grace.is_zero() { now } else { round_up_to_second(now + grace) };
        let replaced = std::mem::replace(&mut self.current, next);
        let previous = PreviousKey { hash: replaced, expires_at };
        let retired = self.previous.replace(previous.clone()).map(|p| p.hash);
        Ok(Rotated { previous, retired })
    }
}

fn round_up_to_second(at: Instant) -> Instant {
    let ms = at.timestamp_millis();
    from_millis(ms + (1000 - ms.rem_euclid(1000)) % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_key::ApiKey;
    use crate::random::seeded;
    use crate::time::rfc3339;

    fn now() -> Instant {
        "2026-11-25T12:00:00Z".parse().expect("valid")
    }

    fn key(seed: u64) -> ApiKeyHash {
        ApiKey::generate(&mut seeded(seed * 1_000 + 1)).hash()
    }

    #[test]
    fn a_rotation_keeps_the_previous_key_for_exactly_the_grace_period() {
        let mut keys = KeySet::new(key(1));
        let done = keys.rotate(Some(&key(1)), key(2), 60, now()).expect("rotates");
        assert_eq!(done.previous.expires_at, now() + Duration::seconds(60));
        assert_eq!(keys.standing(&key(1), now() + Duration::seconds(59)), KeyStanding::InGrace);
        assert_eq!(keys.standing(&key(1), now() + Duration::seconds(60)), KeyStanding::Expired);
        assert_eq!(keys.standing(&key(2), now() + Duration::days(365)), KeyStanding::Current);
    }

    #[test]
    fn without_grace_the_previous_key_stops_at_once() {
        let mut keys = KeySet::new(key(1));
        keys.rotate(None, key(2), 0, now()).expect("rotates");
        assert!(keys.admit(&key(1), now()).is_err());
        assert_eq!(keys.grace_ends(now()), None);
    }

    #[test]
    fn the_grace_period_is_told_only_while_the_previous_key_still_works() {
        let mut keys = KeySet::new(key(1));
        assert_eq!(keys.grace_ends(now()), None, "no rotation yet");
        let done = keys.rotate(None, key(2), 60, now()).expect("rotates");
        let ends = done.previous.expires_at;
        assert_eq!(keys.grace_ends(now()), Some(ends));
        assert_eq!(keys.grace_ends(ends - Duration::milliseconds(1)), Some(ends));
        assert_eq!(keys.grace_ends(ends), None, "the key stops on the instant stated");
        keys.rotate(None, key(3), 0, now()).expect("rotates again");
        assert_eq!(keys.grace_ends(now()), None, "a rotation without grace ends it at once");
    }

    #[test]
    fn a_grace_period_ends_on_the_whole_second_the_answer_states() {
        let at: Instant = "2026-11-25T12:00:00.300Z".parse().expect("valid");
        let mut keys = KeySet::new(key(1));
        let done = keys.rotate(None, key(2), 3, at).expect("rotates");
        assert_eq!(rfc3339(done.previous.expires_at), "2026-11-25T12:00:04Z");
        assert_eq!(keys.standing(&key(1), at + Duration::seconds(3)), KeyStanding::InGrace);
    }

    #[test]
    fn a_key_in_its_grace_period_cannot_rotate() {
        let mut keys = KeySet::new(key(1));
        keys.rotate(Some(&key(1)), key(2), 3600, now()).expect("rotates");
        let refused = keys.rotate(Some(&key(1)), key(3), 0, now()).expect_err("refused");
        assert_eq!(refused.code, ErrorCode::Forbidden);
        assert_eq!(keys.current, key(2), "nothing changed");
    }

    #[test]
    fn a_rotated_out_key_cannot_rotate_again_so_simultaneous_rotations_leave_one_key() {
        let mut keys = KeySet::new(key(1));
        keys.rotate(Some(&key(1)), key(2), 0, now()).expect("the first wins");
        for late in 3..10 {
            let refused = keys.rotate(Some(&key(1)), key(late), 0, now()).expect_err("refused");
            assert_eq!(refused.code, ErrorCode::InvalidApiKey);
        }
        assert_eq!(keys.current, key(2));
    }

    #[test]
    fn a_new_rotation_ends_the_grace_of_the_key_before_it_at_once() {
        let mut keys = KeySet::new(key(1));
        keys.rotate(None, key(2), 3600, now()).expect("rotates");
        let done = keys.rotate(Some(&key(2)), key(3), 3600, now()).expect("rotates");
        assert_eq!(done.retired, Some(key(1)));
        assert_eq!(keys.standing(&key(1), now()), KeyStanding::Unknown);
        assert_eq!(keys.standing(&key(2), now()), KeyStanding::InGrace);
    }

    #[test]
    fn a_key_of_another_platform_is_unknown_here() {
        let keys = KeySet::new(key(1));
        let refused = keys.admit(&key(9), now()).expect_err("refused");
        assert_eq!(refused.code, ErrorCode::InvalidApiKey);
    }
}
