//! A webhook receiver: what a developer's server is to dream-api's webhooks, so that the
//! local stack shows deliveries end to end. It records every request it gets, exactly
//! as it came (headers and raw body, for verifying with the official Standard Webhooks
//! libraries), and answers with statuses a test scripts beforehand.
//!
//! - `POST /{name}`: a delivery to the receiver `name` (any path segment but `dev`); it
//!   is recorded and answered with the next scripted status, `200` once there is none.
//! - `GET /dev/received/{name}` → `{"requests": [{receivedAt, headers, body}]}`, oldest
//!   first; `headers` with lowercase names.
//! - `PUT /dev/answers/{name} {"statuses": [500, 500, 200]}`: how the next requests to
//!   `name` are answered, in turn.
//! - `GET /` → `{"receivers": {name: count}}`: what arrived where.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// At most this many requests are kept per receiver (the oldest go first).
const KEPT: usize = 1000;

/// One request as it arrived.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// Unix milliseconds.
    pub received_at: u128,
    pub headers: BTreeMap<String, String>,
    /// The body as text, byte for byte (a verifier signs exactly these bytes).
    pub body: String,
}

#[derive(Default)]
struct Inbox {
    received: VecDeque<Received>,
    answers: VecDeque<u16>,
}

/// The receiver's state, shared by its routes.
#[derive(Clone, Default)]
pub struct Receiver {
    inboxes: Arc<Mutex<HashMap<String, Inbox>>>,
}

#[derive(Deserialize)]
struct Answers {
    statuses: Vec<u16>,
}

impl Receiver {
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(overview))
            .route("/{name}", post(receive))
            .route("/dev/received/{name}", get(received))
            .route("/dev/answers/{name}", put(script))
            .with_state(self.clone())
    }

    fn inboxes(&self) -> MutexGuard<'_, HashMap<String, Inbox>> {
        // A panic while holding the lock leaves plain data behind: keep serving it.
        self.inboxes.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let received_at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let body = String::from_utf8_lossy(&body).into_owned();
    let status = {
        let mut inboxes = receiver.inboxes();
        let inbox = inboxes.entry(name).or_default();
        inbox.received.push_back(Received { received_at, headers, body });
        if inbox.received.len() > KEPT {
            inbox.received.pop_front();
        }
        inbox.answers.pop_front().unwrap_or(200)
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, Json(json!({ "received": true }))).into_response()
}

async fn received(State(receiver): State<Receiver>, Path(name): Path<String>) -> Json<Value> {
    let inboxes = receiver.inboxes();
    let requests: Vec<&Received> =
        inboxes.get(&name).map(|inbox| inbox.received.iter().collect()).unwrap_or_default();
    Json(json!({ "requests": requests }))
}

async fn script(
    State(receiver): State<Receiver>,
    Path(name): Path<String>,
    Json(answers): Json<Answers>,
) -> Response {
    if let Some(bad) = answers.statuses.iter().find(|s| StatusCode::from_u16(**s).is_err()) {
        let error = json!({ "error": format!("{bad} is not an HTTP status") });
        return (StatusCode::BAD_REQUEST, Json(error)).into_response();
    }
    receiver.inboxes().entry(name).or_default().answers = answers.statuses.into();
    StatusCode::NO_CONTENT.into_response()
}

async fn overview(State(receiver): State<Receiver>) -> Json<Value> {
    let counts: BTreeMap<String, usize> = receiver
        .inboxes()
        .iter()
        .map(|(name, inbox)| (name.clone(), inbox.received.len()))
        .collect();
    Json(json!({ "receivers": counts }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves a fresh receiver on an ephemeral loopback port; its base URL.
    async fn started() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("an address");
        let app = Receiver::default().router();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    async fn call(method: reqwest::Method, url: &str, body: &str) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .request(method, url)
            .header("content-type", "application/json")
            .header("webhook-id", "msg_1")
            .body(body.to_owned())
            .send()
            .await
            .expect("an answer");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn a_receiver_answers_its_scripted_statuses_in_turn_then_200_and_keeps_every_request() {
        use reqwest::Method;
        let base = started().await;
        let answers = format!("{base}/dev/answers/shop");
        let (status, _) = call(Method::PUT, &answers, r#"{"statuses": [500, 410]}"#).await;
        assert_eq!(status, 204);
        let mut statuses = Vec::new();
        for i in 0..3 {
            statuses.push(
                call(Method::POST, &format!("{base}/shop"), &format!(r#"{{"n": {i}}}"#)).await.0,
            );
        }
        assert_eq!(statuses, [500, 410, 200]);
        let (_, got) = call(Method::GET, &format!("{base}/dev/received/shop"), "").await;
        let requests = got["requests"].as_array().expect("a list");
        let bodies: Vec<&str> = requests.iter().map(|r| r["body"].as_str().unwrap_or("")).collect();
        assert_eq!(bodies, [r#"{"n": 0}"#, r#"{"n": 1}"#, r#"{"n": 2}"#]);
        assert_eq!(requests[0]["headers"]["webhook-id"], "msg_1");
        let (_, other) = call(Method::GET, &format!("{base}/dev/received/elsewhere"), "").await;
        assert_eq!(other["requests"], json!([]));
        let (_, overview) = call(Method::GET, &format!("{base}/"), "").await;
        assert_eq!(overview["receivers"], json!({"shop": 3}));
    }

    #[tokio::test]
    async fn a_status_that_is_not_one_is_refused() {
        let base = started().await;
        let url = format!("{base}/dev/answers/shop");
        let (status, body) = call(reqwest::Method::PUT, &url, r#"{"statuses": [99]}"#).await;
        assert_eq!(status, 400);
        assert!(body["error"].as_str().unwrap_or("").contains("99"), "{body}");
    }
}
