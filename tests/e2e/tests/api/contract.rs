//! The conventions every answer follows, and the OpenAPI document's fidelity.

use dream_e2e::{Call, Platform, Quotas};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn health_answers_ok_with_a_request_id() {
    let answer = Call::new(Quotas::Default, Method::GET, "/health").send().await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, json!({"ok": true}));
    assert!(answer.header("X-Request-Id").is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn every_operation_in_the_openapi_document_is_served_and_nothing_else() {
    let doc = Call::new(Quotas::Default, Method::GET, "/openapi.json").send().await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
    let p = Platform::register(Quotas::Raised).await;
    let paths = doc.body["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path.replace("{userId}", "someone").replace("{platformId}", &p.id);
        for method in ["get", "put", "post", "delete", "patch"] {
            let Some(op) = item.get(method) else { continue };
            operations += 1;
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let answer = p.call(m, &concrete).json(&json!({})).send().await;
            // Whatever the outcome (an empty body may well be invalid), the route exists.
            assert_ne!(answer.error_code(), "not_found", "{method} {path}: {}", answer.body);
            assert_ne!(answer.status.as_u16(), 405, "{method} {path}");
            let documented = op["responses"].as_object().expect("responses");
            assert!(
                documented.contains_key(answer.status.as_str()),
                "{method} {path} answered {} which is not documented",
                answer.status
            );
        }
    }
    assert_eq!(operations, 18, "the document lists every route of the worker");
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
