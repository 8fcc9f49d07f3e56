//! Route tables: a worker lists its routes as data, so unknown paths get `404`, known
//! paths with the wrong method get `405` with `Allow`, and tests can compare the table
//! with the OpenAPI document ([`document_differences`]). Every worker also answers the
//! routes of [`SERVED_BY_EVERY_WORKER`] before its own.

/// One route: a method and a path pattern whose `{name}` segments capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<R: Copy> {
    pub method: &'static str,
    pub pattern: &'static str,
    pub id: R,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RouteMatch<'p, R> {
    /// `pattern` is the route's as the table writes it (`/v1/usage/{userId}`).
    Found {
        id: R,
        pattern: &'static str,
        params: Vec<(&'static str, &'p str)>,
    },
    MethodNotAllowed {
        allowed: Vec<&'static str>,
    },
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
                return RouteMatch::Found { id: route.id, pattern: route.pattern, params };
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

/// What every worker answers itself, before its own route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Common {
    /// `GET /health`: `{"ok": true}`.
    Health,
    /// `GET /openapi.json`: the worker's own OpenAPI document.
    OpenApi,
}

pub const SERVED_BY_EVERY_WORKER: &[Route<Common>] = &[
    Route { method: "GET", pattern: "/health", id: Common::Health },
    Route { method: "GET", pattern: "/openapi.json", id: Common::OpenApi },
];

/// How a worker's routes (its table and [`SERVED_BY_EVERY_WORKER`]) and its OpenAPI
/// document disagree, one line per operation: empty when every route served is
/// documented and every documented operation is served.
pub fn document_differences<R: Copy>(table: &[Route<R>], document: &str) -> Vec<String> {
    let doc: serde_json::Value = match serde_json::from_str(document) {
        Ok(doc) => doc,
        Err(e) => return vec![format!("the document is not JSON: {e}")],
    };
    let documented = openapi_operations(&doc);
    let mut served = table_operations(table);
    served.extend(table_operations(SERVED_BY_EVERY_WORKER));
    let undocumented = served
        .difference(&documented)
        .map(|(m, p)| format!("{m} {p} is served but not documented"));
    let unserved = documented
        .difference(&served)
        .map(|(m, p)| format!("{m} {p} is documented but not served"));
    undocumented.chain(unserved).collect()
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

/// Decodes `%XX` escapes in a path segment (or, after `+` is read as a space, in a
/// form-encoded field: `stripe_form`); `None` when they do not form UTF-8.
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
            RouteMatch::Found {
                id: 1,
                pattern: "/v1/usage/{userId}",
                params: vec![("userId", "user-1")]
            }
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
    fn a_document_must_describe_the_table_and_the_routes_every_worker_serves() {
        let doc = serde_json::json!({"paths": {
            "/health": {"get": {}},
            "/openapi.json": {"get": {}},
            "/v1/tiers": {"get": {}, "put": {}},
            "/v1/usage/{userId}": {"get": {}},
        }});
        assert_eq!(document_differences(TABLE, &doc.to_string()), Vec::<String>::new());

        let partial = serde_json::json!({"paths": {
            "/v1/tiers": {"get": {}, "put": {}, "delete": {}},
            "/v1/usage/{userId}": {"get": {}},
        }});
        assert_eq!(
            document_differences(TABLE, &partial.to_string()),
            vec![
                "GET /health is served but not documented",
                "GET /openapi.json is served but not documented",
                "DELETE /v1/tiers is documented but not served",
            ]
        );
        assert_eq!(document_differences(TABLE, "{").len(), 1);
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
