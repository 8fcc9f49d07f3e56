//! Route tables: a worker lists its routes as data, so unknown paths get `404`, known
//! paths with the wrong method get `405` with `Allow`, and tests can compare the table
//! with the OpenAPI document.

/// One route: a method and a path pattern whose `{name}` segments capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<R: Copy> {
    pub method: &'static str,
    pub pattern: &'static str,
    pub id: R,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RouteMatch<'p, R> {
    Found { id: R, params: Vec<(&'static str, &'p str)> },
    MethodNotAllowed { allowed: Vec<&'static str> },
    NotFound,
}

pub fn match_route<'p, R: Copy>(
    table: &[Route<R>],
    method: &str,
    path: &'p str,
) -> RouteMatch<'p, R> {
    let mut allowed = Vec::new();
    for route in table {
        if let Some(params) = match_pattern(route.pattern, path) {
            if route.method.eq_ignore_ascii_case(method) {
                return RouteMatch::Found { id: route.id, params };
            }
            allowed.push(route.method);
        }
    }
    if allowed.is_empty() {
        RouteMatch::NotFound
    } else {
        RouteMatch::MethodNotAllowed { allowed }
    }
}

fn match_pattern<'p>(pattern: &'static str, path: &'p str) -> Option<Vec<(&'static str, &'p str)>> {
    let mut params = Vec::new();
    let mut got = path.split('/');
    for want in pattern.split('/') {
        let segment = got.next()?;
        if let Some(name) = want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            if segment.is_empty() {
                return None;
            }
            params.push((name, segment));
        } else if want != segment {
            return None;
        }
    }
    got.next().is_none().then_some(params)
}

/// The `(METHOD, pattern)` pairs of a route table.
pub fn table_operations<R: Copy>(
    table: &[Route<R>],
) -> std::collections::BTreeSet<(String, String)> {
    table.iter().map(|r| (r.method.to_string(), r.pattern.to_string())).collect()
}

/// The `(METHOD, path)` pairs an OpenAPI document describes, to compare with the table
/// the worker really serves.
pub fn openapi_operations(doc: &serde_json::Value) -> std::collections::BTreeSet<(String, String)> {
    let methods = ["get", "put", "post", "delete", "patch"];
    doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .filter(|(m, _)| methods.contains(&m.as_str()))
                .map(move |(m, _)| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

/// Decodes `%XX` escapes in a path segment; `None` when they do not form UTF-8.
pub fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Route<u8>] = &[
        Route { method: "GET", pattern: "/v1/usage/{userId}", id: 1 },
        Route { method: "PUT", pattern: "/v1/tiers", id: 2 },
        Route { method: "GET", pattern: "/v1/tiers", id: 3 },
    ];

    #[test]
    fn a_pattern_captures_its_named_segments() {
        assert_eq!(
            match_route(TABLE, "GET", "/v1/usage/user-1"),
            RouteMatch::Found { id: 1, params: vec![("userId", "user-1")] }
        );
    }

    #[test]
    fn a_known_path_with_another_method_lists_the_allowed_ones() {
        assert_eq!(
            match_route(TABLE, "DELETE", "/v1/tiers"),
            RouteMatch::MethodNotAllowed { allowed: vec!["PUT", "GET"] }
        );
    }

    #[test]
    fn extra_missing_or_empty_segments_do_not_match() {
        for path in ["/v1/usage", "/v1/usage/", "/v1/usage/a/b", "/v1/tiers/", "/", ""] {
            assert_eq!(match_route(TABLE, "GET", path), RouteMatch::NotFound, "{path}");
        }
    }

    #[test]
    fn percent_escapes_in_a_segment_are_decoded() {
        assert_eq!(percent_decode("ada%40example.com").as_deref(), Some("ada@example.com"));
        assert_eq!(percent_decode("plain"), Some("plain".into()));
        assert_eq!(percent_decode("bad%4"), None);
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
    }

    #[test]
    fn the_operations_of_a_document_and_a_table_compare_as_method_and_path() {
        let doc = serde_json::json!({"paths": {
            "/v1/tiers": {"get": {}, "put": {}, "parameters": []},
            "/v1/usage/{userId}": {"get": {}},
        }});
        assert_eq!(openapi_operations(&doc), table_operations(TABLE),);
    }
}
