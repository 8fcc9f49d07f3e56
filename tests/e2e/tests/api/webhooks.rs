//! Webhooks to developers: a platform's endpoints (a secret shown once, at most five, the
//! URL rule, rotation) and its usage-alert thresholds, through the api worker with the
//! key and through the dashboard's backend with the developer's session; every answer
//! is checked against the worker's OpenAPI document.
//!
//! The api worker on `DREAM_API_URL` runs with `ALLOW_LOOPBACK_WEBHOOKS=true` (as the
//! dashboard's backend does); the one on `DREAM_API_RAISED_URL` without it.

use dream_e2e::openapi::{Document, Findings};
use dream_e2e::{
    all_at_once, base_url, count_status, platform_auth_url, Answer, Call, ClerkStandIn, Developer,
    Platform, Quotas,
};
use reqwest::Method;
use serde_json::{json, Value};

const EVERY_EVENT: [&str; 6] = [
    "usage.threshold_reached",
    "platform.quota_threshold_reached",
    "subscription.created",
    "subscription.canceled",
    "key.rotated",
    "webhook.test",
];

/// Calls to one worker as one caller, each answer checked against that worker's document.
struct Checked<F: Fn(Method, &str) -> Call> {
    call: F,
    doc: Document,
    findings: Findings,
}

impl<F: Fn(Method, &str) -> Call> Checked<F> {
    async fn at(base: &str, call: F) -> Self {
        Self { call, doc: Document::served_by(base).await, findings: Findings::default() }
    }

    /// `method template`, with `{id}` replaced by `id`.
    async fn ask(
        &mut self,
        method: Method,
        template: &str,
        id: &str,
        body: Option<Value>,
    ) -> Answer {
        let request = (self.call)(method.clone(), &template.replace("{id}", id));
        let answer = match body {
            Some(body) => request.json(&body).send().await,
            None => request.send().await,
        };
        self.findings.check(&self.doc, method.as_str(), template, &answer);
        answer
    }

    async fn create(&mut self, body: Value) -> Answer {
        self.ask(Method::POST, "/v1/webhooks", "", Some(body)).await
    }

    async fn list(&mut self) -> Vec<Value> {
        let answer = self.ask(Method::GET, "/v1/webhooks", "", None).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.body["endpoints"].as_array().expect("endpoints").clone()
    }

    async fn delete(&mut self, id: &str) -> Answer {
        self.ask(Method::DELETE, "/v1/webhooks/{id}", id, None).await
    }

    async fn rotate(&mut self, id: &str) -> Answer {
        self.ask(Method::POST, "/v1/webhooks/{id}/rotate-secret", id, None).await
    }

    async fn alerts(&mut self) -> Answer {
        self.ask(Method::GET, "/v1/alerts", "", None).await
    }

    async fn put_alerts(&mut self, body: Value) -> Answer {
        self.ask(Method::PUT, "/v1/alerts", "", Some(body)).await
    }
}

async fn with_key(p: &Platform) -> Checked<impl Fn(Method, &str) -> Call + '_> {
    Checked::at(&base_url(p.quotas), move |m: Method, path: &str| p.call(m, path)).await
}

fn hook(url: &str) -> Value {
    json!({ "url": url })
}

#[track_caller]
fn created_id(answer: &Answer) -> String {
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["id"].as_str().expect("id").to_string()
}

#[track_caller]
fn assert_secret(secret: &Value) -> String {
    let secret = secret.as_str().expect("a secret").to_string();
    assert!(secret.starts_with("whsec_") && secret.len() == 6 + 44, "{secret}");
    secret
}

#[tokio::test]
async fn a_new_endpoint_shows_its_secret_once_and_the_list_shows_it_without_one() {
    let p = Platform::register(Quotas::Raised).await;
    let mut api = with_key(&p).await;
    assert_eq!(api.list().await, Vec::<Value>::new(), "a new platform has no endpoints");

    let created = api.create(json!({"url": "https://example.com/hooks/dream"})).await;
    let id = created_id(&created);
    assert!(id.starts_with("we_") && id.len() == 3 + 16, "{id}");
    let secret = assert_secret(&created.body["secret"]);
    assert_eq!(created.body["url"], "https://example.com/hooks/dream");
    assert_eq!(created.body["events"], json!(EVERY_EVENT), "every type when none is named");
    assert_eq!(created.body["description"], Value::Null);
    assert!(created.body["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')));

    let chosen = json!({"url": "https://example.com/b", "events": ["key.rotated"],
                        "description": "Key changes"});
    let second = api.create(chosen).await;
    let second_id = created_id(&second);
    assert_ne!(assert_secret(&second.body["secret"]), secret, "each endpoint has its own secret");

    let listed = api.list().await;
    let ids: Vec<&str> = listed.iter().map(|e| e["id"].as_str().expect("id")).collect();
    assert_eq!(ids, [id.as_str(), second_id.as_str()], "oldest first");
    assert_eq!(listed[0]["disabled"], false);
    assert_eq!(listed[0]["createdAt"], created.body["createdAt"]);
    assert_eq!(listed[1]["events"], json!(["key.rotated"]));
    assert_eq!(listed[1]["description"], "Key changes");
    let text = serde_json::to_string(&listed).expect("JSON");
    assert!(!text.contains("whsec_") && !text.contains("secret"), "no secret in the list: {text}");
    api.findings.assert_only(4, &[]);
}

#[tokio::test]
async fn an_endpoint_is_deleted_once_and_another_platforms_or_an_unknown_id_is_not_found() {
    let (a, b) =
        (Platform::register(Quotas::Raised).await, Platform::register(Quotas::Raised).await);
    let mut api_a = with_key(&a).await;
    let mut api_b = with_key(&b).await;
    let id = created_id(&api_a.create(hook("https://example.com/a")).await);

    api_b.delete(&id).await.assert_error(404, "not_found");
    api_b.rotate(&id).await.assert_error(404, "not_found");
    for unknown in ["we_0000000000000000", "we_short", "nope"] {
        api_a.delete(unknown).await.assert_error(404, "not_found");
        api_a.rotate(unknown).await.assert_error(404, "not_found");
    }
    assert_eq!(api_a.list().await.len(), 1, "refused deletions removed nothing");

    let deleted = api_a.delete(&id).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(deleted.body, Value::Null, "a 204 has no body");
    assert!(deleted.header("X-Request-Id").is_some());
    assert_eq!(api_a.list().await, Vec::<Value>::new());
    api_a.delete(&id).await.assert_error(404, "not_found");
    api_a.rotate(&id).await.assert_error(404, "not_found");
    api_a.findings.assert_only(12, &[]);
    api_b.findings.assert_only(2, &[]);
}

#[tokio::test]
async fn a_platform_has_at_most_five_endpoints_even_when_they_are_added_at_once() {
    let p = Platform::register(Quotas::Raised).await;
    let answers = all_at_once(8, |i| {
        p.call(Method::POST, "/v1/webhooks").json(&hook(&format!("https://example.com/{i}"))).send()
    })
    .await;
    assert_eq!(count_status(&answers, 201), 5, "{answers:?}");
    assert_eq!(count_status(&answers, 400), 3, "{answers:?}");
    let mut api = with_key(&p).await;
    let listed = api.list().await;
    assert_eq!(listed.len(), 5);

    let sixth = api.create(hook("https://example.com/sixth")).await;
    sixth.assert_error(400, "invalid_request");
    let message = sixth.body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("at most 5"), "{message}");
    let first = listed[0]["id"].as_str().expect("id");
    assert_eq!(api.delete(first).await.status, 204);
    created_id(&api.create(hook("https://example.com/again")).await);
    api.findings.assert_only(4, &[]);
}

#[tokio::test]
async fn endpoint_urls_that_are_not_https_to_a_public_host_are_refused_and_loopback_needs_the_flag()
{
    let strict = Platform::register(Quotas::Raised).await;
    let mut api = with_key(&strict).await;
    for (url, says) in [
        ("http://example.com", "https://"),
        ("https://10.0.0.1/x", "private"),
        ("https://169.254.169.254/", "link-local"),
        ("https://[::1]/", "loopback"),
        ("http://127.0.0.1:9/hook", "loopback"),
        ("https://user:pw@example.com/", "credentials"),
        ("ftp://example.com/", "https://"),
    ] {
        let refused = api.create(hook(url)).await;
        refused.assert_error(400, "invalid_request");
        let message = refused.body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(says), "{url}: {message}");
    }
    api.create(json!({})).await.assert_error(400, "invalid_request");
    api.create(json!({"url": 7})).await.assert_error(400, "invalid_request");
    assert_eq!(api.list().await, Vec::<Value>::new(), "nothing refused was stored");
    api.findings.assert_only(10, &[]);

    // The worker with ALLOW_LOOPBACK_WEBHOOKS=true takes loopback, and still nothing private.
    let local = Platform::register(Quotas::Default).await;
    let mut api = with_key(&local).await;
    created_id(&api.create(hook("http://127.0.0.1:9/hook")).await);
    created_id(&api.create(hook("https://[::1]/")).await);
    api.create(hook("https://10.0.0.1/x")).await.assert_error(400, "invalid_request");
    api.create(hook("https://169.254.169.254/")).await.assert_error(400, "invalid_request");
    assert_eq!(api.list().await.len(), 2);
    api.findings.assert_only(5, &[]);
}

#[tokio::test]
async fn unknown_event_types_and_bad_event_lists_or_descriptions_are_refused() {
    let p = Platform::register(Quotas::Raised).await;
    let mut api = with_key(&p).await;
    let with = |extra: Value| {
        let mut body = hook("https://example.com/events");
        body.as_object_mut().expect("an object").extend(extra.as_object().expect("fields").clone());
        body
    };
    let unknown = api.create(with(json!({"events": ["key.rotated", "invoice.paid"]}))).await;
    unknown.assert_error(400, "invalid_request");
    let message = unknown.body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("invoice.paid") && message.contains("key.rotated"), "{message}");
    for bad in [
        json!({"events": []}),
        json!({"events": ["key.rotated", "key.rotated"]}),
        json!({"events": "key.rotated"}),
        json!({"description": "d".repeat(257)}),
        json!({"description": 5}),
    ] {
        api.create(with(bad.clone())).await.assert_error(400, "invalid_request");
    }
    assert_eq!(api.list().await, Vec::<Value>::new());
    let nulls = api.create(with(json!({"events": null, "description": null}))).await;
    created_id(&nulls);
    assert_eq!(nulls.body["events"], json!(EVERY_EVENT));
    api.findings.assert_only(8, &[]);
}

#[tokio::test]
async fn rotating_a_secret_returns_a_new_one_each_time_and_keeps_the_endpoint() {
    let p = Platform::register(Quotas::Raised).await;
    let mut api = with_key(&p).await;
    let created = api.create(hook("https://example.com/rotating")).await;
    let id = created_id(&created);
    let first = assert_secret(&created.body["secret"]);

    let rotated = api.rotate(&id).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let second = assert_secret(&rotated.body["secret"]);
    assert_ne!(second, first);
    let again = api.rotate(&id).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let third = assert_secret(&again.body["secret"]);
    assert!(third != first && third != second);

    // Simultaneous rotations of one endpoint each get a secret of their own.
    let answers = all_at_once(3, |_| {
        p.call(Method::POST, &format!("/v1/webhooks/{id}/rotate-secret")).send()
    })
    .await;
    for answer in &answers {
        assert!(answer.status == 200 || answer.status == 409, "{}", answer.body);
    }
    assert!(count_status(&answers, 200) >= 1, "{answers:?}");
    let mut secrets: Vec<&str> = answers.iter().filter_map(|a| a.body["secret"].as_str()).collect();
    secrets.sort_unstable();
    secrets.dedup();
    assert_eq!(secrets.len(), count_status(&answers, 200));

    let listed = api.list().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["createdAt"], created.body["createdAt"]);
    api.findings.assert_only(4, &[]);
}

#[tokio::test]
async fn alert_thresholds_default_to_80_and_100_and_are_stored_ascending_once_each() {
    let p = Platform::register(Quotas::Raised).await;
    let mut api = with_key(&p).await;
    let default = api.alerts().await;
    assert_eq!(default.status, 200, "{}", default.body);
    assert_eq!(default.body["thresholds"], json!([80, 100]));

    let put = api.put_alerts(json!({"thresholds": [100, 50, 50, 90]})).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["thresholds"], json!([50, 90, 100]));
    for bad in [
        json!({}),
        json!({"thresholds": [0]}),
        json!({"thresholds": [101]}),
        json!({"thresholds": [50.5]}),
        json!({"thresholds": ["80"]}),
        json!({"thresholds": [1, 2, 3, 4, 5, 6]}),
        json!({"thresholds": 80}),
    ] {
        api.put_alerts(bad).await.assert_error(400, "invalid_request");
    }
    assert_eq!(api.alerts().await.body["thresholds"], json!([50, 90, 100]), "refusals kept them");

    let off = api.put_alerts(json!({"thresholds": []})).await;
    assert_eq!(off.body["thresholds"], json!([]), "{}", off.body);
    assert_eq!(api.alerts().await.body["thresholds"], json!([]));
    let other = Platform::register(Quotas::Raised).await;
    let mut theirs = with_key(&other).await;
    assert_eq!(theirs.alerts().await.body["thresholds"], json!([80, 100]), "per platform");
    api.findings.assert_only(12, &[]);
    theirs.findings.assert_only(1, &[]);
}

#[tokio::test]
async fn the_dashboard_backend_manages_the_same_endpoints_and_thresholds_with_a_session() {
    let dev = Developer::sign_in(json!({})).await;
    let mut session =
        Checked::at(&platform_auth_url(), |m: Method, path: &str| dev.call(m, path)).await;
    // Before credentials there is no platform to hold them.
    session.ask(Method::GET, "/v1/webhooks", "", None).await.assert_error(404, "not_found");
    session.alerts().await.assert_error(404, "not_found");
    let platform = dev.credentials().await;
    let mut key = with_key(&platform).await;

    let created =
        session.create(json!({"url": "https://example.com/dash", "description": "D"})).await;
    let id = created_id(&created);
    assert_secret(&created.body["secret"]);
    let by_key = key.list().await;
    assert_eq!(by_key.len(), 1);
    assert_eq!(by_key[0]["id"], id.as_str(), "the api worker sees the dashboard's endpoint");
    assert_eq!(session.list().await, by_key);
    // The dashboard's backend runs with ALLOW_LOOPBACK_WEBHOOKS=true too.
    created_id(&session.create(hook("http://localhost:9/local")).await);
    session.create(hook("https://10.0.0.1/x")).await.assert_error(400, "invalid_request");

    let rotated = session.rotate(&id).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_ne!(assert_secret(&rotated.body["secret"]), created.body["secret"].as_str().unwrap());
    let put = session.put_alerts(json!({"thresholds": [75]})).await;
    assert_eq!(put.body["thresholds"], json!([75]), "{}", put.body);
    assert_eq!(key.alerts().await.body["thresholds"], json!([75]));

    assert_eq!(key.delete(&id).await.status, 204);
    let left = session.list().await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["url"], "http://localhost:9/local");
    let gone = session.delete(&id).await;
    gone.assert_error(404, "not_found");
    let deleted = session.delete(left[0]["id"].as_str().expect("id")).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(session.list().await, Vec::<Value>::new());
    session.findings.assert_only(12, &[]);
    key.findings.assert_only(3, &[]);
}

#[tokio::test]
async fn an_end_user_token_cannot_manage_webhooks_or_alert_thresholds() {
    let p = Platform::register(Quotas::Raised).await;
    let id = created_id(
        &p.call(Method::POST, "/v1/webhooks").json(&hook("https://example.com/x")).send().await,
    );
    let me = ClerkStandIn::from_env().end_user_of(&p.id).await;
    let mut as_end_user = Checked::at(&base_url(Quotas::Raised), |m: Method, path: &str| {
        Call::new(Quotas::Raised, m, path).key(&me.token)
    })
    .await;
    as_end_user.create(hook("https://example.com/mine")).await.assert_error(403, "forbidden");
    as_end_user.ask(Method::GET, "/v1/webhooks", "", None).await.assert_error(403, "forbidden");
    as_end_user.delete(&id).await.assert_error(403, "forbidden");
    as_end_user.rotate(&id).await.assert_error(403, "forbidden");
    as_end_user.alerts().await.assert_error(403, "forbidden");
    let put = as_end_user.put_alerts(json!({"thresholds": [1]})).await;
    put.assert_error(403, "forbidden");
    as_end_user.findings.assert_only(6, &[]);

    let mut api = with_key(&p).await;
    assert_eq!(api.list().await.len(), 1, "the endpoint is still there");
    assert_eq!(api.alerts().await.body["thresholds"], json!([80, 100]));
}
