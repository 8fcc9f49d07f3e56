//! What every worker answer carries besides its body, and the one structured line each
//! request leaves in the logs (Workers Logs in production).
//!
//! The headers are the OWASP REST set for a JSON API that browsers also call: no
//! sniffing, no referrer, HTTPS only, a policy that lets an answer load nothing and be
//! framed by nobody, and no caching of anything but the OpenAPI document (any other
//! answer may carry a key, a secret or an end-user's usage).

use serde::Serialize;

/// On every answer of every worker.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
];

/// The route whose answer may be cached: the same for everyone, and no secret.
pub const CACHEABLE_ROUTE: &str = "/openapi.json";

/// `Cache-Control` for an answer of `route` (the matched pattern; `None` when nothing
/// matched).
pub fn cache_control(route: Option<&str>) -> &'static str {
    if route == Some(CACHEABLE_ROUTE) {
        "public, max-age=300"
    } else {
        "no-store"
    }
}

/// The log line of one request: who can be named without a secret. The route is the
/// matched pattern (`/v1/usage/{userId}`), never the path, the query, a header or the
/// body, so no key, token or end-user id is ever in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessLine<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    pub route: Option<&'a str>,
    pub status: u16,
    pub duration_ms: i64,
    pub platform_id: Option<&'a str>,
}

impl AccessLine<'_> {
    /// One line of JSON.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_openapi_document_may_be_cached() {
        assert_eq!(cache_control(Some("/openapi.json")), "public, max-age=300");
        for route in [Some("/v1/keys/rotate"), Some("/health"), None] {
            assert_eq!(cache_control(route), "no-store", "{route:?}");
        }
    }

    #[test]
    fn a_log_line_is_one_json_object_with_the_route_pattern_and_no_path() {
        let line = AccessLine {
            request_id: "req_1",
            method: "GET",
            route: Some("/v1/usage/{userId}"),
            status: 200,
            duration_ms: 12,
            platform_id: Some("plt_0123456789ab"),
        }
        .to_line();
        assert_eq!(
            line,
            r#"{"requestId":"req_1","method":"GET","route":"/v1/usage/{userId}","status":200,"durationMs":12,"platformId":"plt_0123456789ab"}"#
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn the_security_headers_forbid_sniffing_framing_referrers_and_plain_http() {
        let names: Vec<&str> = SECURITY_HEADERS.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "X-Content-Type-Options",
                "Referrer-Policy",
                "Strict-Transport-Security",
                "Content-Security-Policy"
            ]
        );
        assert!(SECURITY_HEADERS[3].1.contains("frame-ancestors 'none'"));
    }
}
