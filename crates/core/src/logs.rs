//! A platform's request log (API.md "Request log and revenue"): one entry per metered
//! call or denial, written by the platform's object in the very step that decides the
//! call, so it costs a track no round trip and never disagrees with the counts.
//!
//! What is logged is what the developer's server saw: the request id of the answer,
//! its status and error code, the end-user and the amount. Never a key, a token or a
//! Stripe id. Calls that are not the platform's (no valid key, a malformed body) are
//! refused before the platform is known and are not in its log.
//!
//! The log is a bounded ring: the last [`CAPACITY`] entries, none older than
//! [`MAX_AGE_MS`]. Entries are numbered in the order they were written; a page's
//! cursor (`before`) is the number of its last entry, as text.

use crate::error::ErrorCode;
use crate::ids::UserId;
use crate::time::from_millis;
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};

/// How many entries a platform's log keeps.
pub const CAPACITY: i64 = 10_000;
/// How long an entry is kept at most (30 days).
pub const MAX_AGE_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// Old entries are deleted in batches of this many writes (reads never see them).
pub const TRIM_EVERY: i64 = 100;
pub const MAX_PAGE: u64 = 100;
pub const DEFAULT_PAGE: u64 = 50;
/// The `code` of an idempotent call answered again from its first answer: it counted
/// nothing the second time.
pub const REPLAY_CODE: &str = "idempotent_replay";

/// The one route whose calls are logged: metering.
pub const TRACK_METHOD: &str = "POST";
pub const TRACK_PATH: &str = "/v1/usage/track";

/// One entry, as `GET /v1/logs` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub request_id: String,
    /// RFC 3339 UTC, to the millisecond.
    pub at: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `null` for a counted call; the error code of a refusal; [`REPLAY_CODE`]
    /// (`TrackAnswer::logged_as` decides).
    pub code: Option<String>,
    pub user_id: UserId,
    pub amount: u64,
    /// From the api worker receiving the call to the platform deciding it.
    pub duration_ms: u64,
}

/// A request id as the log keeps it: at most 64 visible ASCII characters (the id is
/// ours or Cloudflare's `CF-Ray`; anything else a client sent is cut to that).
pub fn request_id(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_graphic()).take(64).collect()
}

/// The time of an entry as the log writes it.
pub fn at(ms: i64) -> String {
    from_millis(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The oldest time of an entry a read may see at `now_ms` (reads also see only the last
/// [`CAPACITY`] entries written).
pub fn oldest_kept(now_ms: i64) -> i64 {
    now_ms - MAX_AGE_MS
}

/// Whether the `n`th write since the platform's object was loaded (from 1) also
/// deletes what reads no longer see: the first, so an object that is evicted after a
/// few calls still trims, and every [`TRIM_EVERY`]th after it.
pub fn trims_after(n: i64) -> bool {
    n % TRIM_EVERY == 1
}

/// A page's cursor as the API gives it, read back; `None` when it is not one of ours.
pub fn parse_cursor(cursor: &str) -> Option<i64> {
    if cursor.is_empty() || cursor.len() > 18 || !cursor.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    cursor.parse::<i64>().ok().filter(|&n| n > 0)
}

/// The statuses a log entry can have, for the `status` filter.
pub fn known_status(status: u16) -> bool {
    status == 200
        || [
            ErrorCode::Forbidden,
            ErrorCode::TierLimitReached,
            ErrorCode::PlatformQuotaReached,
            ErrorCode::RateLimited,
        ]
        .iter()
        .any(|c| c.status() == status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_visible_for_thirty_days() {
        assert_eq!(oldest_kept(40 * 86_400_000), 10 * 86_400_000);
    }

    #[test]
    fn old_entries_are_deleted_at_an_objects_first_write_and_every_hundred_after() {
        assert!(trims_after(1) && trims_after(101) && trims_after(10_001));
        assert!(!trims_after(2) && !trims_after(100) && !trims_after(150));
    }

    #[test]
    fn a_cursor_is_a_positive_entry_number_and_anything_else_is_not_ours() {
        assert_eq!(parse_cursor("42"), Some(42));
        assert_eq!(parse_cursor("999999999999999999"), Some(999_999_999_999_999_999));
        for bad in ["", "0", "-1", "4x", "9999999999999999999", "1.5", " 4"] {
            assert_eq!(parse_cursor(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_status_filter_takes_the_statuses_a_metered_call_can_answer() {
        for s in [200, 403, 429] {
            assert!(known_status(s), "{s}");
        }
        for s in [0, 201, 400, 401, 500] {
            assert!(!known_status(s), "{s}");
        }
    }

    #[test]
    fn a_request_id_is_kept_as_sent_up_to_sixty_four_visible_characters() {
        assert_eq!(request_id("req_0123abcd"), "req_0123abcd");
        assert_eq!(request_id("8f2a1b-SJC"), "8f2a1b-SJC");
        assert_eq!(request_id(&"x".repeat(100)).len(), 64);
        assert_eq!(request_id("a b\nc\u{e9}"), "abc");
    }

    #[test]
    fn entries_are_timed_to_the_millisecond_in_utc() {
        assert_eq!(at(1_764_000_000_999), "2025-11-24T16:00:00.999Z");
    }
}
