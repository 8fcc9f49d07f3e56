//! What the Logs page shows, as plain functions of what the API answered: the address
//! of a page of the request log for the filters chosen, and each row's words (the
//! answer is dream-core's `LogPage`, as the workers serialise it). No browser here, so
//! all of it is tested natively.

pub use dream_core::logs::LogEntry;
pub use dream_core::protocol::activity::LogPage;

/// The entries asked for per page (the API allows 1–100).
pub const PAGE_SIZE: u64 = dream_core::logs::DEFAULT_PAGE;

/// The statuses the log can be narrowed to, as the filter offers them.
pub const STATUSES: [(Option<u16>, &str); 4] = [
    (None, "All"),
    (Some(200), "200 (allowed)"),
    (Some(403), "403 (over a limit)"),
    (Some(429), "429 (rate limited)"),
];

/// What the log is narrowed to: one end-user (exactly), one status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub user: String,
    pub status: Option<u16>,
}

impl LogFilter {
    /// The filter as typed: surrounding spaces are not part of an end-user id.
    pub fn new(user: &str, status: Option<u16>) -> Self {
        Self { user: user.trim().to_string(), status }
    }

    pub fn is_empty(&self) -> bool {
        self.user.is_empty() && self.status.is_none()
    }
}

/// The address of one page of the log: the first with no `before`, the next with the
/// previous page's `nextBefore`.
pub fn logs_path(filter: &LogFilter, before: Option<&str>) -> String {
    let mut path = format!("/v1/logs?limit={PAGE_SIZE}");
    if !filter.user.is_empty() {
        path.push_str(&format!("&userId={}", encode(&filter.user)));
    }
    if let Some(status) = filter.status {
        path.push_str(&format!("&status={status}"));
    }
    if let Some(before) = before {
        path.push_str(&format!("&before={}", encode(before)));
    }
    path
}

/// A query value percent-encoded as `encodeURIComponent` does (UTF-8; letters, digits
/// and `-_.!~*'()` kept).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The code column: the refusal's code, `idempotent_replay`, or "—" for a counted call.
pub fn code_text(code: Option<&str>) -> &str {
    code.unwrap_or("—")
}

/// The table's caption: "1 request, newest first", "50 requests, newest first".
pub fn count_text(count: usize) -> String {
    format!("{count} request{}, newest first", if count == 1 { "" } else { "s" })
}

/// What the table says when it has no rows.
pub fn empty_text(filter: &LogFilter) -> &'static str {
    if filter.is_empty() {
        "No requests yet. Every call your server makes to POST /v1/usage/track appears here, newest first: the allowed ones, the refused ones with their error code, and idempotent replays."
    } else {
        "No requests match these filters."
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::read;

    #[test]
    fn the_first_page_asks_for_the_filters_and_the_next_one_from_the_cursor() {
        assert_eq!(logs_path(&LogFilter::default(), None), "/v1/logs?limit=50");
        let filter = LogFilter::new("  user 1&x=é ", Some(403));
        assert_eq!(filter.user, "user 1&x=é");
        assert_eq!(
            logs_path(&filter, Some("c/2+3=")),
            "/v1/logs?limit=50&userId=user%201%26x%3D%C3%A9&status=403&before=c%2F2%2B3%3D"
        );
        assert_eq!(logs_path(&LogFilter::new("", Some(429)), None), "/v1/logs?limit=50&status=429");
    }

    #[test]
    fn encoding_keeps_what_encode_uri_component_keeps() {
        assert_eq!(encode("dream-api:demo"), "dream-api%3Ademo");
        assert_eq!(encode("a_b.c~d*e'f(g)h!"), "a_b.c~d*e'f(g)h!");
        assert_eq!(encode("?#/"), "%3F%23%2F");
    }

    #[test]
    fn a_page_reads_counted_refused_and_replayed_calls_and_its_cursor() {
        let text = r#"{"entries": [
            {"requestId": "req_2", "at": "2026-12-03T10:00:01Z", "method": "POST", "path": "/v1/usage/track", "status": 403, "code": "tier_limit_reached", "userId": "u1", "amount": 1, "durationMs": 3},
            {"requestId": "req_1", "at": "2026-12-03T10:00:00Z", "method": "POST", "path": "/v1/usage/track", "status": 200, "code": null, "userId": "u1", "amount": 2, "durationMs": 4}
        ], "nextBefore": "cursor_1", "preview": true}"#;
        let page: LogPage = read(200, text).expect("a page");
        assert_eq!(page.next_before.as_deref(), Some("cursor_1"));
        assert_eq!(code_text(page.entries[0].code.as_deref()), "tier_limit_reached");
        assert_eq!(code_text(page.entries[1].code.as_deref()), "—");
        assert_eq!((page.entries[1].amount, page.entries[1].status), (2, 200));
        let last: LogPage = read(200, r#"{"entries": [], "nextBefore": null}"#).expect("the end");
        assert_eq!(last.next_before, None);
    }

    #[test]
    fn the_empty_log_says_what_will_appear_and_a_filtered_one_that_nothing_matches() {
        assert!(empty_text(&LogFilter::default()).contains("POST /v1/usage/track"));
        assert_eq!(empty_text(&LogFilter::new("u1", None)), "No requests match these filters.");
        assert_eq!(empty_text(&LogFilter::new(" ", Some(200))), "No requests match these filters.");
        assert!(LogFilter::new("  ", None).is_empty());
        assert_eq!(count_text(1), "1 request, newest first");
        assert_eq!(count_text(50), "50 requests, newest first");
    }
}
