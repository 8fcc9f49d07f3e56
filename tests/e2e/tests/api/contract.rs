//! The conventions every answer follows, and the OpenAPI documents' fidelity: each
//! worker serves every operation its document lists, and every answer's status is listed
//! for its operation with a body that matches the schema given for that status.

use dream_e2e::openapi::{Document, Findings};
use dream_e2e::{
    base_url, platform_auth_url, signature, stripe_oauth_url, unique_ip, Answer, Call,
    ClerkStandIn, Developer, Platform, Quotas,
};
use reqwest::Method;
use serde_json::{json, Value};

/// One worker under test: its served document, the answers checked against it, and the
/// values that fill the document's path parameters.
struct Worker {
    doc: Document,
    findings: Findings,
    params: Vec<(&'static str, String)>,
}

impl Worker {
    async fn at(base: &str, params: Vec<(&'static str, String)>) -> Self {
        Self { doc: Document::served_by(base).await, findings: Findings::default(), params }
    }

    /// Sends `method template` (with its parameters filled in; `template` may end in a
    /// query) through `call`, checks the answer against the document and returns it.
    async fn ask(
        &mut self,
        call: impl Fn(Method, &str) -> Call,
        method: Method,
        template: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut path = template.to_string();
        for (name, value) in &self.params {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let request = call(method.clone(), &path);
        let answer = match body {
            Some(body) => request.json(&body).send().await,
            None => request.send().await,
        };
        let operation = template.split('?').next().expect("a path");
        self.findings.check(&self.doc, method.as_str(), operation, &answer);
        answer
    }

    /// Calls every operation once with an empty JSON object, key rotations last (they
    /// end the credential the others use) and deletions just before them (after the
    /// other calls on what they delete), and asserts that each route exists; returns
    /// every operation (`METHOD /path`) with its answer.
    async fn sweep(&mut self, call: impl Fn(Method, &str) -> Call) -> Vec<(String, Answer)> {
        let mut operations = self.doc.operations();
        operations.sort_by_key(|(method, path)| {
            (path.ends_with("/rotate"), method == "DELETE", path.contains("rotate"))
        });
        let mut answers = vec![];
        for (method, path) in operations {
            let m = Method::from_bytes(method.as_bytes()).expect("method");
            let answer = self.ask(&call, m, &path, Some(json!({}))).await;
            // Whatever the outcome (an empty body may well be invalid), the route exists.
            let message = answer.body["error"]["message"].as_str().unwrap_or("");
            assert!(!message.starts_with("There is no route"), "{method} {path}: {}", answer.body);
            assert_ne!(answer.status.as_u16(), 405, "{method} {path}");
            answers.push((format!("{method} {path}"), answer));
        }
        answers
    }
}

fn paid_tiers() -> Value {
    json!({"tiers": [
        {"id": "free", "name": "Free", "priceCents": 0, "limit": 1},
        {"id": "pro", "name": "Pro", "priceCents": 900, "limit": 50, "features": ["More"], "popular": true},
    ]})
}

fn checkout_urls() -> Value {
    json!({"successUrl": "https://app.example/ok", "cancelUrl": "https://app.example/no"})
}

fn unknown_event(id: &str) -> String {
    json!({"id": id, "object": "event", "type": "invoice.paid", "created": dream_e2e::now_seconds(),
           "data": {"object": {"id": "in_contract"}}})
    .to_string()
}

#[tokio::test]
async fn health_answers_ok_with_a_request_id() {
    let answer = Call::new(Quotas::Default, Method::GET, "/health").send().await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, json!({"ok": true}));
    assert!(answer.header("X-Request-Id").is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn every_operation_in_the_openapi_document_is_served_and_nothing_else() {
    let p = Platform::register(Quotas::Raised).await;
    let endpoint =
        p.call(Method::POST, "/v1/webhooks").json(&json!({"url": "https://example.com"})).send();
    let endpoint = endpoint.await.body["id"].as_str().expect("an endpoint id").to_string();
    let params =
        vec![("userId", "someone".to_string()), ("platformId", p.id.clone()), ("id", endpoint)];
    let mut api = Worker::at(&base_url(Quotas::Raised), params).await;
    let answers = api.sweep(|m, path| p.call(m, path)).await;
    assert_eq!(answers.len(), 28, "the document lists every route of the worker");
    for (operation, answer) in &answers {
        assert_ne!(answer.error_code(), "not_found", "{operation}: {}", answer.body);
    }
    // Without a key: every operation but the public ones is refused, as documented.
    api.sweep(|m, path| Call::new(Quotas::Raised, m, path)).await;
    api.findings.assert_only(48, &[]);
}

#[tokio::test]
async fn every_api_answer_to_a_well_formed_call_matches_its_documented_schema() {
    let p = Platform::register(Quotas::Raised).await;
    let params = vec![("userId", "buyer".to_string()), ("platformId", p.id.clone())];
    let mut api = Worker::at(&base_url(Quotas::Raised), params).await;
    let key = |m: Method, path: &str| p.call(m, path);
    let open = |m: Method, path: &str| Call::new(Quotas::Raised, m, path);
    let expect = |answer: &Answer, status: u16| {
        assert_eq!(answer.status.as_u16(), status, "{}", answer.body);
    };

    let registered = api
        .ask(
            |m, path| open(m, path).header("CF-Connecting-IP", &unique_ip()),
            Method::POST,
            "/v1/developers",
            Some(json!({"email": "contract@example.com", "name": "Contract"})),
        )
        .await;
    expect(&registered, 201);
    expect(&api.ask(open, Method::GET, "/health", None).await, 200);
    expect(&api.ask(open, Method::GET, "/openapi.json", None).await, 200);
    expect(&api.ask(key, Method::GET, "/v1/platform", None).await, 200);
    expect(&api.ask(key, Method::PUT, "/v1/tiers", Some(paid_tiers())).await, 200);
    expect(&api.ask(key, Method::GET, "/v1/tiers", None).await, 200);
    expect(&api.ask(open, Method::GET, "/v1/public/{platformId}/tiers", None).await, 200);
    let track = Some(json!({"userId": "buyer", "idempotencyKey": "contract-1"}));
    expect(&api.ask(key, Method::POST, "/v1/usage/track", track.clone()).await, 200);
    expect(&api.ask(key, Method::POST, "/v1/usage/track", track).await, 200);
    let over =
        api.ask(key, Method::POST, "/v1/usage/track", Some(json!({"userId": "buyer"}))).await;
    over.assert_error(403, "tier_limit_reached");
    expect(&api.ask(key, Method::GET, "/v1/usage/{userId}", None).await, 200);
    expect(&api.ask(key, Method::GET, "/v1/users?limit=1", None).await, 200);
    expect(&api.ask(key, Method::GET, "/v1/stats?days=7", None).await, 200);
    expect(&api.ask(key, Method::GET, "/v1/logs?userId=someone&limit=2", None).await, 200);
    expect(&api.ask(key, Method::GET, "/v1/revenue", None).await, 200);
    let mut checkout = checkout_urls();
    checkout["userId"] = json!("buyer");
    checkout["tier"] = json!("pro");
    checkout["email"] = json!("buyer@example.com");
    expect(&api.ask(key, Method::POST, "/v1/checkout", Some(checkout)).await, 200);
    let portal = Some(json!({"userId": "buyer", "returnUrl": "https://app.example/account"}));
    api.ask(key, Method::POST, "/v1/portal", portal).await.assert_error(404, "not_found");
    let plan = Some(json!({"plan": "pro"}));
    expect(&api.ask(key, Method::PUT, "/v1/users/{userId}/plan", plan).await, 200);
    expect(&api.ask(key, Method::POST, "/v1/platform/checkout", Some(checkout_urls())).await, 200);
    let plan_portal = Some(json!({"returnUrl": "https://app.example/account"}));
    api.ask(key, Method::POST, "/v1/platform/portal", plan_portal).await;
    let event = unknown_event(&format!("evt_contract_{}", p.id));
    let webhook = |m: Method, path: &str| {
        open(m, path)
            .header("Stripe-Signature", &signature(&event))
            .raw("application/json", event.clone())
    };
    expect(&api.ask(webhook, Method::POST, "/webhooks/stripe", None).await, 200);
    let grace = Some(json!({"graceSeconds": 60}));
    expect(&api.ask(key, Method::POST, "/v1/keys/rotate", grace).await, 200);

    api.params = vec![("platformId", "plt_000000000000".to_string())];
    let unknown = api.ask(open, Method::GET, "/v1/public/{platformId}/tiers", None).await;
    unknown.assert_error(404, "not_found");
    api.findings.assert_only(21, &[]);
}

#[tokio::test]
async fn every_refusal_of_a_track_matches_its_documented_schema() {
    let params = vec![];
    let mut api = Worker::at(&base_url(Quotas::Default), params).await;
    let quota = Platform::register(Quotas::Default).await;
    for i in 0..5 {
        let body = Some(json!({"userId": format!("u{i}")}));
        let answer = api.ask(|m, p| quota.call(m, p), Method::POST, "/v1/usage/track", body).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let body = Some(json!({"userId": "u5"}));
    let full = api.ask(|m, p| quota.call(m, p), Method::POST, "/v1/usage/track", body).await;
    full.assert_error(403, "platform_quota_reached");

    // An end-user's own token meters one call at a time.
    let raised = Platform::register(Quotas::Raised).await;
    let mut api_raised = Worker::at(&base_url(Quotas::Raised), vec![]).await;
    let me = ClerkStandIn::from_env().end_user_of(&raised.id).await;
    let as_end_user = |m: Method, path: &str| Call::new(Quotas::Raised, m, path).key(&me.token);
    let body = Some(json!({"amount": 2}));
    let two = api_raised.ask(as_end_user, Method::POST, "/v1/usage/track", body).await;
    two.assert_error(403, "forbidden");

    // The preview serves 100 end-users; the 101st is refused.
    raised.fill_preview("p").await;
    let body = Some(json!({"userId": "p100"}));
    let preview =
        api_raised.ask(|m, p| raised.call(m, p), Method::POST, "/v1/usage/track", body).await;
    preview.assert_error(403, "forbidden");

    api.findings.assert_only(6, &[]);
    api_raised.findings.assert_only(2, &[]);
}

#[tokio::test]
async fn every_answer_of_the_dashboard_backend_and_the_connect_worker_matches_their_documents() {
    let dev = Developer::sign_in(json!({})).await;
    let as_dev = |m: Method, path: &str| dev.call(m, path);
    let mut auth = Worker::at(&platform_auth_url(), vec![]).await;

    // Before credentials: the platform's routes are 404, as documented.
    auth.ask(as_dev, Method::GET, "/v1/tiers", None).await.assert_error(404, "not_found");
    auth.ask(as_dev, Method::GET, "/v1/demo", None).await.assert_error(404, "not_found");
    auth.ask(as_dev, Method::GET, "/v1/me", None).await;
    let created = auth.ask(as_dev, Method::POST, "/v1/credentials", None).await;
    assert_eq!(created.status, 201, "{}", created.body);
    auth.ask(as_dev, Method::PUT, "/v1/tiers", Some(paid_tiers())).await;
    let mut demo = checkout_urls();
    demo["tier"] = json!("pro");
    let demo_checkout = auth.ask(as_dev, Method::POST, "/v1/demo/checkout", Some(demo)).await;
    assert_eq!(demo_checkout.status, 200, "{}", demo_checkout.body);
    let demo = auth.ask(as_dev, Method::GET, "/v1/demo", None).await;
    assert_eq!(demo.status, 200, "{}", demo.body);
    let grace = Some(json!({"graceSeconds": 60}));
    auth.ask(as_dev, Method::POST, "/v1/credentials/rotate", grace).await;
    let me = auth.ask(as_dev, Method::GET, "/v1/me", None).await;
    assert!(me.body["platform"]["previousKeyExpiresAt"].is_string(), "{}", me.body);
    auth.ask(as_dev, Method::GET, "/v1/stats?days=1", None).await;
    auth.ask(as_dev, Method::GET, "/v1/logs?status=200", None).await;
    auth.ask(as_dev, Method::GET, "/v1/revenue", None).await;
    auth.ask(as_dev, Method::GET, "/v1/users?limit=5", None).await;
    let checkout = auth.ask(as_dev, Method::POST, "/v1/checkout", Some(json!({}))).await;
    assert_eq!(checkout.status, 200, "{}", checkout.body);
    let event = unknown_event(&format!("evt_contract_{}", dev.user_id));
    let webhook = |m: Method, path: &str| {
        Call::to(&platform_auth_url(), m, path)
            .header("Stripe-Signature", &signature(&event))
            .raw("application/json", event.clone())
    };
    let received = auth.ask(webhook, Method::POST, "/webhooks/stripe", None).await;
    assert_eq!(received.status, 200, "{}", received.body);
    let operations = auth.sweep(as_dev).await.len();
    assert_eq!(operations, 24, "the document lists every route of the dashboard's backend");
    auth.sweep(|m, path| Call::to(&platform_auth_url(), m, path)).await;
    auth.findings.assert_only(52, &[]);

    let mut connect = Worker::at(&stripe_oauth_url(), vec![]).await;
    let as_dev = |m: Method, path: &str| dev.connect_call(m, path);
    let status = connect.ask(as_dev, Method::GET, "/v1/connect/status", None).await;
    assert_eq!(status.status, 200, "{}", status.body);
    let authorize = connect.ask(as_dev, Method::POST, "/v1/connect/authorize", None).await;
    assert_eq!(authorize.status, 200, "{}", authorize.body);
    let bad_state = |m: Method, path: &str| {
        Call::to(&stripe_oauth_url(), m, &format!("{path}?code=ac_x&state=forged.state"))
    };
    connect
        .ask(bad_state, Method::GET, "/v1/connect/callback", None)
        .await
        .assert_error(400, "invalid_request");
    let operations = connect.sweep(as_dev).await.len();
    assert_eq!(operations, 7, "the document lists every route of the connect worker");
    connect.sweep(|m, path| Call::to(&stripe_oauth_url(), m, path)).await;
    connect.findings.assert_only(17, &[]);
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_is_answered_by_name_and_others_get_nothing() {
    let allowed = Call::new(Quotas::Default, Method::OPTIONS, "/v1/usage/track")
        .header("Origin", "http://127.0.0.1:8790")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await;
    assert_eq!(allowed.status, 204);
    assert_eq!(allowed.header("Access-Control-Allow-Origin"), Some("http://127.0.0.1:8790"));
    assert!(allowed
        .header("Access-Control-Allow-Headers")
        .is_some_and(|h| h.contains("Authorization")));
    assert!(allowed.header("X-Request-Id").is_some());

    let other = Call::new(Quotas::Default, Method::OPTIONS, "/v1/usage/track")
        .header("Origin", "https://evil.example.com")
        .send()
        .await;
    assert_eq!(other.status, 204);
    assert_eq!(other.header("Access-Control-Allow-Origin"), None);

    let get = Call::new(Quotas::Default, Method::GET, "/health")
        .header("Origin", "http://127.0.0.1:8790")
        .send()
        .await;
    assert_eq!(get.header("Access-Control-Allow-Origin"), Some("http://127.0.0.1:8790"));
}
