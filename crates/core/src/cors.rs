//! CORS: only origins listed in `ALLOWED_ORIGINS` are answered, by name (never `*`).

/// Headers that let a browser on an allowed `origin` read the response.
pub fn response_headers(origin: Option<&str>, allowed: &[String]) -> Vec<(&'static str, String)> {
    match origin {
        Some(o) if allowed.iter().any(|a| a == o) => vec![
            ("Access-Control-Allow-Origin", o.to_string()),
            ("Vary", "Origin".into()),
            (
                "Access-Control-Expose-Headers",
                "X-Request-Id, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, Idempotent-Replayed"
                    .into(),
            ),
        ],
        _ => vec![("Vary", "Origin".into())],
    }
}

/// The extra headers of a `204` preflight answer for an allowed origin.
pub fn preflight_headers(origin: Option<&str>, allowed: &[String]) -> Vec<(&'static str, String)> {
    let mut headers = response_headers(origin, allowed);
    if headers.len() > 1 {
        headers.push(("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS".into()));
        headers.push(("Access-Control-Allow-Headers", "Authorization, Content-Type".into()));
        headers.push(("Access-Control-Max-Age", "86400".into()));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec!["http://127.0.0.1:8790".into(), "https://app.example.com".into()]
    }

    #[test]
    fn an_allowed_origin_is_echoed_by_name() {
        let h = response_headers(Some("https://app.example.com"), &allowed());
        assert!(h.contains(&("Access-Control-Allow-Origin", "https://app.example.com".into())));
        assert!(!h.iter().any(|(_, v)| v == "*"));
    }

    #[test]
    fn other_origins_and_requests_without_one_get_no_allow_header() {
        for origin in [Some("https://evil.example.com"), Some("null"), None] {
            let h = preflight_headers(origin, &allowed());
            assert!(!h.iter().any(|(n, _)| n.starts_with("Access-Control-Allow")), "{origin:?}");
        }
    }

    #[test]
    fn a_preflight_for_an_allowed_origin_names_methods_and_headers() {
        let h = preflight_headers(Some("http://127.0.0.1:8790"), &allowed());
        assert!(h
            .iter()
            .any(|(n, v)| *n == "Access-Control-Allow-Headers" && v.contains("Authorization")));
    }
}
