//! The Clerk stand-in over HTTP, checked against dream-core's verifier.

use dream_core::clerk::{verify_session_token, Jwks};
use dream_standins::clerk::{Clerk, DEV_SECRET_KEY};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

struct StandIn {
    base: String,
    http: Client,
}

impl StandIn {
    async fn start() -> Self {
        Self::start_with(|clerk| clerk).await
    }

    async fn start_with(configure: impl FnOnce(Clerk) -> Clerk) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let app = configure(Clerk::new(DEV_SECRET_KEY.into(), base.clone())).router();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http =
            Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { base, http }
    }

    async fn backend(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req =
            self.http.request(method, format!("{}{path}", self.base)).bearer_auth(DEV_SECRET_KEY);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("answer");
        (resp.status(), resp.json().await.expect("JSON"))
    }

    async fn jwks(&self) -> Jwks {
        let (status, body) = self.backend(reqwest::Method::GET, "/v1/jwks", None).await;
        assert_eq!(status, StatusCode::OK);
        Jwks::parse(&body.to_string()).expect("a JWKS")
    }

    async fn create_user(&self, email: &str) -> String {
        let (status, user) = self
            .backend(reqwest::Method::POST, "/v1/users", Some(json!({"email_address": [email]})))
            .await;
        assert_eq!(status, StatusCode::OK, "{user}");
        user["id"].as_str().expect("id").to_string()
    }

    async fn mint(&self, user_id: &str) -> String {
        let resp = self
            .http
            .post(format!("{}/dev/sessions", self.base))
            .json(&json!({"user_id": user_id, "azp": "http://127.0.0.1:8790"}))
            .send()
            .await
            .expect("answer");
        let body: Value = resp.json().await.expect("JSON");
        body["jwt"].as_str().expect("jwt").to_string()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs()
        as i64
}

#[tokio::test]
async fn the_backend_api_wants_the_secret_key_and_answers_in_clerks_error_shape() {
    let clerk = StandIn::start().await;
    let resp = clerk.http.get(format!("{}/v1/jwks", clerk.base)).send().await.expect("answer");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["errors"][0]["code"], "authentication_invalid");
    let (status, body) = clerk.backend(reqwest::Method::GET, "/v1/users/user_missing", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["errors"][0]["message"].is_string() && body["errors"][0]["long_message"].is_string()
    );
}

#[tokio::test]
async fn the_jwks_publishes_rsa_2048_keys_with_exponent_65537() {
    let clerk = StandIn::start().await;
    let jwks = clerk.jwks().await;
    assert_eq!(jwks.keys.len(), 1);
    let key = &jwks.keys[0];
    assert_eq!(
        (key.kty.as_str(), key.alg.as_deref(), key.e.as_str()),
        ("RSA", Some("RS256"), "AQAB")
    );
    assert_eq!(key.n.len(), 342, "2048 bits in base64url without padding");
}

#[tokio::test]
async fn the_stand_in_counts_every_jwks_request_and_nothing_else() {
    let clerk = StandIn::start().await;
    let count = || async {
        let resp = clerk
            .http
            .get(format!("{}/dev/jwks-requests", clerk.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json::<Value>().await.expect("JSON")["count"].as_u64().expect("a count")
    };
    assert_eq!(count().await, 0);
    clerk.jwks().await;
    clerk.jwks().await;
    let unauthorized =
        clerk.http.get(format!("{}/v1/jwks", clerk.base)).send().await.expect("answer");
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    clerk.create_user("di@example.com").await;
    assert_eq!(count().await, 3, "refused requests count too; other routes do not");
}

#[tokio::test]
async fn a_minted_session_token_verifies_with_the_published_keys_and_carries_public_metadata() {
    let clerk = StandIn::start().await;
    let user = clerk.create_user("ada@example.com").await;
    let (status, _) = clerk
        .backend(
            reqwest::Method::PATCH,
            &format!("/v1/users/{user}/metadata"),
            Some(json!({"public_metadata": {"plan": "paid", "platformId": "plt_0123456789ab"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = clerk.mint(&user).await;
    let parties = vec!["http://127.0.0.1:8790".to_string()];
    let claims =
        verify_session_token(&token, &clerk.jwks().await, now(), &parties).expect("verifies");
    assert_eq!(claims.user_id, user);
    assert_eq!(claims.metadata_str("plan"), Some("paid"));
    assert_eq!(claims.metadata_str("platformId"), Some("plt_0123456789ab"));
    assert!(claims.expires_at - now() <= 60, "Clerk's default lifetime");
}

#[tokio::test]
async fn a_deleted_user_is_gone_from_reads_and_metadata_patches() {
    let clerk = StandIn::start().await;
    let user = clerk.create_user("gone@example.com").await;
    let (status, deleted) =
        clerk.backend(reqwest::Method::DELETE, &format!("/v1/users/{user}"), None).await;
    assert_eq!((status.as_u16(), deleted["deleted"].as_bool()), (200, Some(true)));
    let (status, _) = clerk.backend(reqwest::Method::GET, &format!("/v1/users/{user}"), None).await;
    assert_eq!(status.as_u16(), 404);
    let patch = Some(json!({"public_metadata": {"plan": "paid"}}));
    let (status, _) =
        clerk.backend(reqwest::Method::PATCH, &format!("/v1/users/{user}/metadata"), patch).await;
    assert_eq!(status.as_u16(), 404);
}

#[tokio::test]
async fn a_metadata_patch_deep_merges_and_null_removes() {
    let clerk = StandIn::start().await;
    let user = clerk.create_user("bo@example.com").await;
    let path = format!("/v1/users/{user}/metadata");
    clerk
        .backend(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"public_metadata": {"plan": "paid", "a": {"x": 1}}})),
        )
        .await;
    let (_, merged) = clerk
        .backend(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"public_metadata": {"subscribed": true, "a": {"y": 2}, "plan": null}})),
        )
        .await;
    assert_eq!(merged["public_metadata"], json!({"subscribed": true, "a": {"x": 1, "y": 2}}));
    let (_, read) = clerk.backend(reqwest::Method::GET, &format!("/v1/users/{user}"), None).await;
    assert_eq!(read["public_metadata"], merged["public_metadata"]);
    assert_eq!(read["email_addresses"][0]["email_address"], "bo@example.com");
}

#[tokio::test]
async fn after_a_key_rotation_new_tokens_use_the_new_kid_and_old_ones_still_verify() {
    let clerk = StandIn::start().await;
    let user = clerk.create_user("cy@example.com").await;
    let old = clerk.mint(&user).await;
    let resp =
        clerk.http.post(format!("{}/dev/rotate-keys", clerk.base)).send().await.expect("answer");
    let kid = resp.json::<Value>().await.expect("JSON")["kid"].as_str().expect("kid").to_string();
    let new = clerk.mint(&user).await;
    let jwks = clerk.jwks().await;
    assert_eq!(jwks.keys.len(), 2);
    assert!(verify_session_token(&old, &jwks, now(), &[]).is_ok());
    assert!(verify_session_token(&new, &jwks, now(), &[]).is_ok());
    let header: Value =
        serde_json::from_slice(&base64_url_decode(new.split('.').next().expect("header")))
            .expect("JSON header");
    assert_eq!(header["kid"], kid.as_str());
}

#[tokio::test]
async fn the_sign_in_page_signs_in_by_email_and_hands_the_token_to_the_redirect() {
    let clerk = StandIn::start().await;
    let page = clerk
        .http
        .get(format!("{}/sign-in?redirect_url=http://127.0.0.1:8790/", clerk.base))
        .send()
        .await;
    let html = page.expect("answer").text().await.expect("text");
    assert!(html.contains("<form") && html.contains("http://127.0.0.1:8790/"));
    let resp = clerk
        .http
        .post(format!("{}/sign-in", clerk.base))
        .form(&[("email", "Dee@Example.com"), ("redirect_url", "http://127.0.0.1:8790/dashboard")])
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()["location"].to_str().expect("ascii").to_string();
    let token = location
        .strip_prefix("http://127.0.0.1:8790/dashboard?__session=")
        .expect("token in redirect");
    let parties = vec!["http://127.0.0.1:8790".to_string()];
    let claims =
        verify_session_token(token, &clerk.jwks().await, now(), &parties).expect("verifies");
    let (_, user) =
        clerk.backend(reqwest::Method::GET, &format!("/v1/users/{}", claims.user_id), None).await;
    assert_eq!(user["email_addresses"][0]["email_address"], "dee@example.com");
}

#[tokio::test]
async fn signing_in_without_a_redirect_shows_a_token_for_the_local_dashboard() {
    let clerk = StandIn::start().await;
    let resp = clerk
        .http
        .post(format!("{}/sign-in", clerk.base))
        .form(&[("email", "eve@example.com")])
        .send()
        .await;
    let html = resp.expect("answer").text().await.expect("text");
    let token = html
        .split("<pre>")
        .nth(1)
        .and_then(|t| t.split("</pre>").next())
        .expect("a token on the page");
    let parties = vec!["http://127.0.0.1:8790".to_string()];
    assert!(verify_session_token(token, &clerk.jwks().await, now(), &parties).is_ok());
}

#[test]
fn the_binary_refuses_to_listen_beyond_loopback() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dream-standins"))
        .args(["--clerk", "0.0.0.0:0"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).expect("base64url")
}

async fn fault(clerk: &StandIn, spec: Value) {
    let resp = clerk
        .http
        .post(format!("{}/dev/faults", clerk.base))
        .json(&spec)
        .send()
        .await
        .expect("set");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_fault_on_the_jwks_answers_in_clerks_error_shape_until_cleared() {
    let clerk = StandIn::start().await;
    fault(&clerk, json!({"method": "GET", "path": "/v1/jwks", "status": 503, "count": 5})).await;
    let (status, body) = clerk.backend(reqwest::Method::GET, "/v1/jwks", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["errors"][0]["code"], "internal_clerk_error", "{body}");
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    let user = clerk.create_user("faults@example.com").await;
    assert!(!user.is_empty(), "other paths are not faulted");
    let count: Value = clerk
        .http
        .get(format!("{}/dev/jwks-requests", clerk.base))
        .send()
        .await
        .expect("count")
        .json()
        .await
        .expect("JSON");
    assert_eq!(count["count"], 0, "a faulted request never reached the JWKS");
    let cleared = clerk.http.delete(format!("{}/dev/faults", clerk.base)).send().await.expect("ok");
    assert_eq!(cleared.json::<Value>().await.expect("JSON")["cleared"], 1);
    assert_eq!(clerk.jwks().await.keys.len(), 1);
}

#[tokio::test]
async fn a_delaying_fault_holds_back_one_users_calls_only() {
    let clerk = StandIn::start().await;
    let slow = clerk.create_user("slow@example.com").await;
    let quick = clerk.create_user("quick@example.com").await;
    fault(&clerk, json!({"path": format!("/v1/users/{slow}"), "ms": 300, "count": 2})).await;
    let started = std::time::Instant::now();
    let (status, _) =
        clerk.backend(reqwest::Method::GET, &format!("/v1/users/{quick}"), None).await;
    assert_eq!(
        (status, started.elapsed() < std::time::Duration::from_millis(300)),
        (StatusCode::OK, true)
    );
    let started = std::time::Instant::now();
    let (status, _) = clerk.backend(reqwest::Method::GET, &format!("/v1/users/{slow}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}

#[tokio::test]
async fn with_rotation_after_two_tokens_the_third_is_signed_by_a_new_key_and_the_first_still_verify(
) {
    let clerk = StandIn::start_with(|clerk| clerk.rotating_after(2)).await;
    let user = clerk.create_user("rotating@example.com").await;
    let (first, second) = (clerk.mint(&user).await, clerk.mint(&user).await);
    let kid = |token: &str| -> Value {
        serde_json::from_slice::<Value>(&base64_url_decode(
            token.split('.').next().expect("header"),
        ))
        .expect("JSON header")["kid"]
            .clone()
    };
    assert_eq!(kid(&first), kid(&second));
    let mut keys = 1;
    for _ in 0..200 {
        keys = clerk.jwks().await.keys.len();
        if keys == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(keys, 2, "the key rotated after the second token");
    let third = clerk.mint(&user).await;
    assert_ne!(kid(&third), kid(&first));
    let jwks = clerk.jwks().await;
    for token in [&first, &second, &third] {
        assert!(verify_session_token(token, &jwks, now(), &[]).is_ok());
    }
    clerk.mint(&user).await;
    assert_eq!(clerk.jwks().await.keys.len(), 2, "it rotates once");
}
