//! Faults on demand, shared by both stand-ins: the next N requests matching a method and
//! a path prefix (and, optionally, containing some text) are answered late, or with a
//! `5xx` in the service's own error shape, so tests can see what a worker does when
//! Clerk or Stripe fails, without failing anything else.
//!
//! - `POST /dev/faults {"path": "/v1/jwks", "method": "GET", "status": 503, "ms": 0,
//!   "count": 1, "contains": "…", "seconds": 60}`: `path` is a prefix of the request's
//!   path and is required; `method` matches any method when left out; `status` (500–599)
//!   answers with that status, `ms` (at most 60 000) holds the answer back first, at least
//!   one of the two is required; `count` (default 1) is how many requests the fault
//!   takes; `contains` matches only requests whose query string or body (as sent)
//!   contains that text, such as an id; `seconds` (default 300) ends the fault even if
//!   it has not been used up, so a test that dies leaves nothing behind for long.
//!   Answers `{"id": "flt_…", …, "remaining": N, "hits": 0}`.
//! - `GET /dev/faults`: `{"data": [...]}`, every fault with its `hits` so far.
//! - `DELETE /dev/faults`: clears every fault; `DELETE /dev/faults/{id}` clears one.
//!
//! A fault answers before the service's endpoint runs (as a failure in front of it
//! would): nothing is created, and Stripe's `Idempotency-Key` records nothing.
//! `/dev/*` requests are never faulted.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest delay a fault may add, in milliseconds.
pub const MAX_DELAY_MS: u64 = 60_000;
/// How long a fault lasts unless told, in seconds.
pub const DEFAULT_SECONDS: u64 = 300;
/// The largest body read to look for `contains` (bigger bodies are not matched).
const MAX_BODY: usize = 1 << 20;

/// How a service answers with a failure status: its own error body.
pub type ErrorShape = fn(StatusCode) -> Response;

/// One fault, as asked for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub path: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub ms: Option<u64>,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default)]
    pub seconds: Option<u64>,
}

#[derive(Debug, Clone)]
struct Fault {
    id: String,
    method: Option<Method>,
    path: String,
    status: Option<StatusCode>,
    ms: u64,
    contains: Option<String>,
    remaining: u32,
    hits: u32,
    until: Instant,
}

impl Fault {
    fn from_spec(id: String, spec: FaultSpec, now: Instant) -> Result<Self, String> {
        if !spec.path.starts_with('/') || spec.path.starts_with("/dev/") {
            return Err("path must be a path prefix starting with / (not /dev/)".into());
        }
        let method = match spec.method.as_deref() {
            None => None,
            Some(m) => Some(
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| format!("method {m} is not an HTTP method"))?,
            ),
        };
        let status = match spec.status {
            None => None,
            Some(code @ 500..=599) => {
                Some(StatusCode::from_u16(code).map_err(|e| format!("status {code}: {e}"))?)
            }
            Some(code) => return Err(format!("status must be a 5xx, not {code}")),
        };
        let ms = spec.ms.unwrap_or(0);
        if ms > MAX_DELAY_MS {
            return Err(format!("ms must be at most {MAX_DELAY_MS}"));
        }
        if status.is_none() && ms == 0 {
            return Err("a fault needs a status (5xx), a delay (ms), or both".into());
        }
        let seconds = spec.seconds.unwrap_or(DEFAULT_SECONDS);
        Ok(Self {
            id,
            method,
            path: spec.path,
            status,
            ms,
            contains: spec.contains.filter(|c| !c.is_empty()),
            remaining: spec.count.unwrap_or(1),
            hits: 0,
            until: now + Duration::from_secs(seconds),
        })
    }

    fn live(&self, now: Instant) -> bool {
        self.remaining > 0 && now < self.until
    }

    /// Whether the fault takes a request, leaving `contains` aside.
    fn matches_route(&self, method: &Method, path: &str, now: Instant) -> bool {
        self.live(now)
            && self.method.as_ref().is_none_or(|m| m == method)
            && path.starts_with(&self.path)
    }

    fn describe(&self, now: Instant) -> Value {
        json!({
            "id": self.id,
            "method": self.method.as_ref().map(Method::as_str),
            "path": self.path,
            "status": self.status.map(|s| s.as_u16()),
            "ms": self.ms,
            "contains": self.contains,
            "remaining": if now < self.until { self.remaining } else { 0 },
            "hits": self.hits,
        })
    }
}

/// What a faulted request gets: a delay, then an error status or the real answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub ms: u64,
    pub status: Option<StatusCode>,
}

#[derive(Default)]
struct Table {
    faults: Vec<Fault>,
    next_id: u64,
}

/// The faults of one stand-in (shared by its handlers), and how it answers with one.
#[derive(Clone)]
pub struct Faults {
    table: Arc<Mutex<Table>>,
    shape: ErrorShape,
}

impl Faults {
    pub fn new(shape: ErrorShape) -> Self {
        Self { table: Arc::default(), shape }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a fault; its description (with its id), or why it was refused.
    pub fn add(&self, spec: FaultSpec) -> Result<Value, String> {
        let now = Instant::now();
        let mut table = self.table();
        table.next_id += 1;
        let fault = Fault::from_spec(format!("flt_{}", table.next_id), spec, now)?;
        let described = fault.describe(now);
        table.faults.push(fault);
        Ok(described)
    }

    /// Every fault, with its hits so far.
    pub fn list(&self) -> Value {
        let now = Instant::now();
        json!({ "data": self.table().faults.iter().map(|f| f.describe(now)).collect::<Vec<_>>() })
    }

    /// Clears one fault (`Some(id)`) or all; how many were cleared.
    pub fn clear(&self, id: Option<&str>) -> usize {
        let mut table = self.table();
        let before = table.faults.len();
        table.faults.retain(|f| id.is_some_and(|id| f.id != id));
        before - table.faults.len()
    }

    /// Whether some live fault on this route needs the request's text to decide.
    fn needs_text(&self, method: &Method, path: &str) -> bool {
        let now = Instant::now();
        self.table()
            .faults
            .iter()
            .any(|f| f.contains.is_some() && f.matches_route(method, path, now))
    }

    /// Takes one request for the first live fault it matches (oldest first).
    pub fn take(&self, method: &Method, path: &str, text: &str) -> Option<Hit> {
        let now = Instant::now();
        let mut table = self.table();
        let fault = table.faults.iter_mut().find(|f| {
            f.matches_route(method, path, now)
                && f.contains.as_deref().is_none_or(|c| text.contains(c))
        })?;
        fault.remaining -= 1;
        fault.hits += 1;
        Some(Hit { ms: fault.ms, status: fault.status })
    }

    /// `/dev/faults`, to merge into the stand-in's router.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/dev/faults", post(add_fault).get(list_faults).delete(clear_faults))
            .route("/dev/faults/{id}", delete(clear_fault))
            .with_state(self.clone())
    }

    /// Wraps a stand-in's whole router (its `/dev/faults` included) with the faults.
    pub fn wrap(&self, app: Router) -> Router {
        app.merge(self.router()).layer(axum::middleware::from_fn_with_state(self.clone(), inject))
    }
}

async fn add_fault(State(faults): State<Faults>, body: axum::body::Bytes) -> Response {
    let added = serde_json::from_slice::<FaultSpec>(&body)
        .map_err(|e| e.to_string())
        .and_then(|spec| faults.add(spec));
    match added {
        Ok(fault) => Json(fault).into_response(),
        Err(message) => (StatusCode::BAD_REQUEST, Json(json!({ "error": { "message": message } })))
            .into_response(),
    }
}

async fn list_faults(State(faults): State<Faults>) -> Json<Value> {
    Json(faults.list())
}

async fn clear_faults(State(faults): State<Faults>) -> Json<Value> {
    Json(json!({ "cleared": faults.clear(None) }))
}

async fn clear_fault(State(faults): State<Faults>, Path(id): Path<String>) -> Json<Value> {
    Json(json!({ "cleared": faults.clear(Some(&id)) }))
}

/// Answers a request that a fault takes; passes every other one on.
async fn inject(State(faults): State<Faults>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/dev/") {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let mut text = req.uri().query().unwrap_or_default().to_string();
    let req = if faults.needs_text(&method, &path) {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
            return (faults.shape)(StatusCode::PAYLOAD_TOO_LARGE);
        };
        text.push('&');
        text.push_str(&String::from_utf8_lossy(&bytes));
        Request::from_parts(parts, Body::from(bytes))
    } else {
        req
    };
    let Some(hit) = faults.take(&method, &path, &text) else {
        return next.run(req).await;
    };
    if hit.ms > 0 {
        tokio::time::sleep(Duration::from_millis(hit.ms)).await;
    }
    match hit.status {
        Some(status) => (faults.shape)(status),
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(status: StatusCode) -> Response {
        status.into_response()
    }

    fn spec(value: Value) -> FaultSpec {
        serde_json::from_value(value).expect("a fault")
    }

    #[test]
    fn a_fault_takes_the_next_n_matching_requests_and_no_more() {
        let faults = Faults::new(shape);
        faults
            .add(spec(json!({"path": "/v1/users/", "method": "get", "status": 503, "count": 2})))
            .expect("added");
        let get = Method::GET;
        assert_eq!(faults.take(&Method::PATCH, "/v1/users/u1", ""), None, "another method");
        assert_eq!(faults.take(&get, "/v1/jwks", ""), None, "another path");
        let hit = Hit { ms: 0, status: Some(StatusCode::SERVICE_UNAVAILABLE) };
        assert_eq!(faults.take(&get, "/v1/users/u1", ""), Some(hit));
        assert_eq!(faults.take(&get, "/v1/users/u2/metadata", ""), Some(hit));
        assert_eq!(faults.take(&get, "/v1/users/u1", ""), None, "used up");
        assert_eq!(faults.list()["data"][0]["hits"], 2);
    }

    #[test]
    fn a_fault_with_contains_takes_only_requests_carrying_that_text() {
        let faults = Faults::new(shape);
        faults
            .add(spec(json!({"path": "/v1/checkout/sessions", "status": 500, "contains": "plt_a", "count": 9})))
            .expect("added");
        let post = Method::POST;
        assert!(faults.needs_text(&post, "/v1/checkout/sessions"));
        assert_eq!(faults.take(&post, "/v1/checkout/sessions", "metadata[platformId]=plt_b"), None);
        assert!(faults
            .take(&post, "/v1/checkout/sessions", "metadata[platformId]=plt_a")
            .is_some());
    }

    #[test]
    fn faults_outside_5xx_without_effect_or_on_dev_paths_are_refused() {
        let faults = Faults::new(shape);
        for bad in [
            json!({"path": "/v1/jwks", "status": 404}),
            json!({"path": "/v1/jwks"}),
            json!({"path": "/dev/sessions", "status": 500}),
            json!({"path": "v1/jwks", "status": 500}),
            json!({"path": "/v1/jwks", "ms": MAX_DELAY_MS + 1}),
            json!({"path": "/v1/jwks", "status": 500, "method": "NOT A METHOD"}),
        ] {
            assert!(faults.add(spec(bad.clone())).is_err(), "{bad}");
        }
        assert!(serde_json::from_value::<FaultSpec>(json!({"path": "/", "stauts": 500})).is_err());
    }

    #[test]
    fn clearing_one_fault_leaves_the_others_and_clearing_all_leaves_none() {
        let faults = Faults::new(shape);
        let first = faults.add(spec(json!({"path": "/a", "status": 500}))).expect("added");
        faults.add(spec(json!({"path": "/b", "ms": 10}))).expect("added");
        assert_eq!(faults.clear(first["id"].as_str()), 1);
        assert_eq!(faults.list()["data"].as_array().map(Vec::len), Some(1));
        assert_eq!(faults.clear(None), 1);
        assert_eq!(faults.take(&Method::GET, "/b", ""), None);
    }

    #[test]
    fn an_expired_fault_takes_nothing() {
        let faults = Faults::new(shape);
        faults.add(spec(json!({"path": "/a", "status": 500, "seconds": 0}))).expect("added");
        assert_eq!(faults.take(&Method::GET, "/a", ""), None);
    }
}
