//! `--state DIR`: the stand-ins come back after a restart as they were, Stripe Connect
//! included (which account owns each object, connected accounts, OAuth tokens).

use serde_json::{json, Value};
use std::process::{Child, Command};
use std::time::Duration;

const CLERK: &str = "http://127.0.0.1:18881";
const STRIPE: &str = "http://127.0.0.1:18882";
const SECRET: &str = "sk_test_dream_standin";
const CLIENT_ID: &str = "ca_state_test";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(dir: &std::path::Path) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_dream-standins"))
        .args(["--clerk", "127.0.0.1:18881", "--stripe", "127.0.0.1:18882", "--state"])
        .arg(dir)
        .args(["--client-id", CLIENT_ID])
        .env_remove("CLERK_SECRET_KEY")
        .env_remove("STRIPE_SECRET_KEY")
        .env_remove("STRIPE_CLIENT_ID")
        .spawn()
        .expect("starts");
    let running = Running(child);
    for _ in 0..200 {
        if reqwest::get(format!("{CLERK}/sign-in")).await.is_ok() {
            return running;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the stand-ins did not start");
}

async fn jwks(http: &reqwest::Client) -> Value {
    http.get(format!("{CLERK}/v1/jwks"))
        .bearer_auth(SECRET)
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("JSON")
}

/// A form-encoded Stripe call with the secret key, as the platform or as `account`.
async fn stripe(
    http: &reqwest::Client,
    path: &str,
    form: &str,
    account: Option<&str>,
) -> (reqwest::StatusCode, Value) {
    let mut req = if form.is_empty() {
        http.get(format!("{STRIPE}{path}"))
    } else {
        http.post(format!("{STRIPE}{path}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_string())
    };
    if let Some(account) = account {
        req = req.header("Stripe-Account", account);
    }
    let resp = req.bearer_auth(SECRET).send().await.expect("answer");
    (resp.status(), resp.json().await.expect("JSON"))
}

/// Connects an account through OAuth: the token endpoint's answer.
async fn oauth_connect(http: &reqwest::Client) -> Value {
    let approve = format!(
        "response_type=code&client_id={CLIENT_ID}&scope=read_write&state=s1&redirect_uri=http%3A%2F%2F127.0.0.1%3A8790%2Fcb&decision=approve"
    );
    let resp = http
        .post(format!("{STRIPE}/oauth/authorize"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(approve)
        .send()
        .await
        .expect("approve");
    assert_eq!(resp.status(), 302);
    let callback =
        reqwest::Url::parse(resp.headers()["location"].to_str().expect("ascii")).expect("URL");
    let code = callback.query_pairs().find(|(k, _)| k == "code").expect("code").1.into_owned();
    let (status, token) =
        stripe(http, "/oauth/token", &format!("grant_type=authorization_code&code={code}"), None)
            .await;
    assert_eq!(status, 200, "{token}");
    token
}

#[tokio::test]
async fn users_keys_and_stripe_objects_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("dream-standins-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let (user_id, keys, product_id, acct, theirs, token) = {
        let _running = start(&dir).await;
        let user: Value = http
            .post(format!("{CLERK}/v1/users"))
            .bearer_auth(SECRET)
            .json(&json!({"email_address": ["kept@example.com"]}))
            .send()
            .await
            .expect("user")
            .json()
            .await
            .expect("JSON");
        let (_, product) = stripe(&http, "/v1/products", "name=Kept", None).await;
        let (_, account) = stripe(&http, "/v1/accounts", "email=dev%40example.com", None).await;
        let acct = account["id"].as_str().expect("id").to_string();
        let (status, theirs) = stripe(&http, "/v1/products", "name=Theirs", Some(&acct)).await;
        assert_eq!(status, 200, "{theirs}");
        (
            user["id"].as_str().expect("id").to_string(),
            jwks(&http).await,
            product["id"].as_str().expect("id").to_string(),
            acct,
            theirs["id"].as_str().expect("id").to_string(),
            oauth_connect(&http).await,
        )
    };

    let _running = start(&dir).await;
    let user: Value = http
        .get(format!("{CLERK}/v1/users/{user_id}"))
        .bearer_auth(SECRET)
        .send()
        .await
        .expect("user")
        .json()
        .await
        .expect("JSON");
    assert_eq!(user["email_addresses"][0]["email_address"], "kept@example.com");
    assert_eq!(jwks(&http).await, keys, "the same signing keys");
    let (status, _) = stripe(&http, &format!("/v1/products/{product_id}"), "", None).await;
    assert_eq!(status, 200);

    // Each object still belongs to its account.
    let (status, _) = stripe(&http, &format!("/v1/products/{theirs}"), "", Some(&acct)).await;
    assert_eq!(status, 200, "the connected account's product, under its header");
    let (status, _) = stripe(&http, &format!("/v1/products/{theirs}"), "", None).await;
    assert_eq!(status, 404, "and still not the platform's");
    let (status, _) = stripe(&http, &format!("/v1/products/{product_id}"), "", Some(&acct)).await;
    assert_eq!(status, 404, "nor the platform's the account's");

    // The OAuth-connected account and its token are kept too.
    let oauth_acct = token["stripe_user_id"].as_str().expect("acct");
    let (status, _) = stripe(&http, "/v1/products", "name=Later", Some(oauth_acct)).await;
    assert_eq!(status, 200);
    let resp = http
        .get(format!("{STRIPE}/v1/products/{theirs}"))
        .bearer_auth(token["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 404, "the token acts as its own account, not another");
    let connect: Value = http
        .get(format!("{STRIPE}/dev/connect"))
        .send()
        .await
        .expect("dev")
        .json()
        .await
        .expect("JSON");
    assert_eq!(connect["tokens"][0]["access_token"], token["access_token"]);
    assert_eq!(connect["accounts"].as_array().expect("accounts").len(), 2);

    // --client-id is the application OAuth accepts.
    let page = http
        .get(format!(
            "{STRIPE}/oauth/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8790%2Fcb"
        ))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let other = http
        .get(format!(
            "{STRIPE}/oauth/authorize?response_type=code&client_id=ca_dream_standin&redirect_uri=http%3A%2F%2F127.0.0.1%3A8790%2Fcb"
        ))
        .send()
        .await
        .expect("page");
    assert_eq!(other.status(), 400);
    let _ = std::fs::remove_dir_all(&dir);
}
