//! Stripe Connect through the stripe-oauth worker and the Stripe stand-in: OAuth with a
//! signed, expiring, single-use state; billing on the connected account; the preview's
//! end-user limit; disconnecting; Account Links onboarding.

use crate::end_user_billing::{priced, upgrade_and_cancel};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dream_core::ids::PlatformId;
use dream_core::sealed::SealingKey;
use dream_e2e::{browser, eventually, now_seconds, Answer, Developer, Platform, StripeStandIn};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A paid developer (quota 500) with a platform.
async fn developer() -> (Developer, Platform) {
    let dev = Developer::sign_in(json!({})).await;
    let platform = dev.credentials().await;
    dev.upgrade(&platform).await;
    (dev, platform)
}

async fn status(dev: &Developer) -> Value {
    let answer = dev.connect_call(Method::GET, "/v1/connect/status").send().await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

pub(crate) async fn authorize_url(dev: &Developer) -> String {
    let answer = dev.connect_call(Method::POST, "/v1/connect/authorize").send().await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["url"].as_str().expect("url").to_string()
}

pub(crate) async fn get(url: &str) -> Answer {
    Answer::read(browser().get(url).send().await.expect("the worker answers")).await
}

/// The callback URL with its query replaced by `query`.
fn callback_with(callback: &str, query: &str) -> String {
    format!("{}?{query}", callback.split('?').next().expect("a URL"))
}

fn query_param(url: &str, name: &str) -> String {
    reqwest::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{url} has no {name}"))
}

/// Connects through OAuth and waits until the api worker bills on the account.
pub(crate) async fn connect(dev: &Developer, platform: &Platform) -> String {
    let callback = StripeStandIn::from_env().approve(&authorize_url(dev).await).await;
    let back = get(&callback).await;
    assert_eq!(back.status, 302, "{}", back.body);
    assert!(back.header("location").is_some_and(|l| l.ends_with("/settings?connected=1")));
    let connected = status(dev).await;
    assert_eq!(
        (connected["connected"].as_bool(), connected["mode"].as_str()),
        (Some(true), Some("production"))
    );
    eventually(
        "production in the api worker",
        || platform.call(Method::GET, "/v1/platform").send(),
        |a| a.body["mode"] == "production",
    )
    .await;
    connected["stripeUserId"].as_str().expect("acct_").to_string()
}

/// Every file under the workers' state directory (`DREAM_STATE_DIR`, where KV and the
/// Durable Objects' SQLite live) with its bytes. An I/O error fails the test; only a file
/// removed between listing and reading (a store's short-lived journal) is left out.
pub(crate) fn state_files() -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
            let path = entry.path();
            let kind = entry.file_type().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if kind.is_dir() {
                walk(&path, out);
            } else {
                match std::fs::read(&path) {
                    Ok(bytes) => out.push((path, bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => panic!("reading {}: {e}", path.display()),
                }
            }
        }
    }
    let dir = std::env::var("DREAM_STATE_DIR").expect("set by scripts/test.sh");
    let mut files = vec![];
    walk(Path::new(&dir), &mut files);
    files
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What every sealed value (`v1.` and base64url) in `bytes` opens to under `key`; a
/// value that does not open (another key, or not a sealed value at all) is left out.
fn opened_sealed_values(bytes: &[u8], key: &SealingKey) -> Vec<Vec<u8>> {
    let base64url = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    let mut opened = vec![];
    for start in (0..bytes.len().saturating_sub(3)).filter(|&i| bytes[i..].starts_with(b"v1.")) {
        let body: Vec<u8> =
            bytes[start + 3..].iter().take_while(|b| base64url(b)).copied().collect();
        let sealed = format!("v1.{}", String::from_utf8_lossy(&body));
        if let Ok(plain) = key.open(&sealed) {
            opened.push(plain);
        }
    }
    opened
}

fn sealing_key() -> SealingKey {
    SealingKey::from_base64(
        &std::env::var("DREAM_TOKEN_ENCRYPTION_KEY").expect("set by scripts/test.sh"),
    )
    .expect("a key")
}

#[tokio::test]
async fn after_connecting_through_oauth_end_users_pay_on_the_connected_account() {
    let (dev, platform) = developer().await;
    let before = status(&dev).await;
    assert_eq!(
        (before["connected"].as_bool(), before["mode"].as_str()),
        (Some(false), Some("preview"))
    );
    let account = connect(&dev, &platform).await;
    assert!(account.starts_with("acct_"));

    let stripe = StripeStandIn::from_env();
    let records = stripe.connect_records().await;
    let token = records["tokens"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["stripe_user_id"] == account.as_str()))
        .expect("a token was issued")
        .clone();
    let files = state_files();
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    assert!(bytes > 0, "the state directory holds the workers' stores ({} files)", files.len());
    // The scan reaches where the account is kept: it finds the sealed record there, and
    // it opens to this very account and token.
    let key = sealing_key();
    let sealed: Vec<Value> = files
        .iter()
        .flat_map(|(_, b)| opened_sealed_values(b, &key))
        .filter_map(|plain| serde_json::from_slice(&plain).ok())
        .collect();
    assert!(
        sealed.iter().any(|r| r["stripeUserId"] == account.as_str()
            && r["accessToken"] == token["access_token"]
            && r["refreshToken"] == token["refresh_token"]),
        "no sealed record of {account} in {} files ({bytes} bytes); sealed values found: {}",
        files.len(),
        sealed.len()
    );
    for secret in ["access_token", "refresh_token"] {
        let value = token[secret].as_str().expect("a token");
        let clear = files.iter().find(|(_, b)| contains(b, value.as_bytes()));
        assert!(clear.is_none(), "the {secret} is stored in clear in {:?}", clear.map(|c| &c.0));
    }
    let clear = files.iter().find(|(_, b)| contains(b, account.as_bytes()));
    assert!(clear.is_none(), "the account id is stored in clear in {:?}", clear.map(|c| &c.0));

    let price = priced(&platform).await;
    assert_eq!(stripe.get(&format!("/v1/prices/{price}"), Some(&account)).await.status, 200);
    assert_eq!(stripe.get(&format!("/v1/prices/{price}"), None).await.status, 404, "not on ours");
    let tracked = platform.track("someone-else").await;
    assert!(tracked.body.get("preview").is_none(), "production answers carry no preview flag");
    upgrade_and_cancel(&platform, "connected-buyer", Some(&account)).await;
    // Priced and bought on the connected account: still nowhere in clear.
    let files = state_files();
    let clear = files.iter().find(|(_, b)| contains(b, account.as_bytes()));
    assert!(clear.is_none(), "the account id is stored in clear in {:?}", clear.map(|c| &c.0));

    let disconnected = dev.connect_call(Method::POST, "/v1/connect/deauthorize").send().await;
    assert_eq!(disconnected.body, json!({"connected": false, "mode": "preview"}));
    let records = stripe.connect_records().await;
    let revoked = records["tokens"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["stripe_user_id"] == account.as_str()));
    assert_eq!(revoked.map(|t| t["revoked"].clone()), Some(json!(true)));
    assert_eq!(status(&dev).await["connected"], false);
}

#[tokio::test]
async fn an_event_from_another_connected_account_changes_nothing() {
    let (dev, platform) = developer().await;
    connect(&dev, &platform).await;
    priced(&platform).await;
    let body = json!({"id": format!("evt_other_{}", platform.id), "object": "event", "type": "checkout.session.completed",
        "created": now_seconds(), "account": "acct_notthisone",
        "data": {"object": {"client_reference_id": "u1", "customer": "cus_x", "subscription": "sub_x",
            "metadata": {"platformId": platform.id, "userId": "u1", "tierId": "pro"}}}})
    .to_string();
    let answer = platform
        .call(Method::POST, "/webhooks/stripe")
        .header("Stripe-Signature", &dream_e2e::signature(&body))
        .raw("application/json", body)
        .send()
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(platform.usage("u1").await.body["plan"], "free");
}

#[tokio::test]
async fn a_forged_expired_reused_or_rewritten_state_is_refused_and_changes_nothing() {
    let (dev, platform) = developer().await;
    let callback = StripeStandIn::from_env().approve(&authorize_url(&dev).await).await;
    let code = query_param(&callback, "code");
    let state = query_param(&callback, "state");

    get(&callback_with(&callback, &format!("code={code}&state=forged.state")))
        .await
        .assert_error(400, "invalid_request");
    let (payload, signature) = state.split_once('.').expect("payload.signature");
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("json");
    claims["p"] = json!("plt_000000000000");
    let rewritten = format!("{}.{signature}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    get(&callback_with(&callback, &format!("code={code}&state={rewritten}")))
        .await
        .assert_error(400, "invalid_request");

    let key = SealingKey::from_base64(
        &std::env::var("DREAM_TOKEN_ENCRYPTION_KEY").expect("set by scripts/test.sh"),
    )
    .expect("a key");
    let old = dream_core::oauth_state::issue(
        &key.derive("stripe-connect-oauth-state"),
        &PlatformId::parse(&platform.id).expect("id"),
        "n0nce",
        now_seconds() - 700,
    );
    let expired = get(&callback_with(&callback, &format!("code={code}&state={old}"))).await;
    expired.assert_error(400, "invalid_request");
    assert!(expired.body["error"]["message"].as_str().unwrap_or("").contains("expired"));
    assert_eq!(status(&dev).await["connected"], false, "nothing changed");

    assert_eq!(get(&callback).await.status, 302, "the real state works once");
    let reused = get(&callback).await;
    reused.assert_error(400, "invalid_request");
    assert!(reused.body["error"]["message"].as_str().unwrap_or("").contains("already used"));
}

#[tokio::test]
async fn a_missing_code_or_one_stripe_refuses_is_a_clear_error_and_connects_nothing() {
    let (dev, _) = developer().await;
    let stripe = StripeStandIn::from_env();
    let callback = stripe.approve(&authorize_url(&dev).await).await;
    let state = query_param(&callback, "state");
    let missing = get(&callback_with(&callback, &format!("state={state}"))).await;
    missing.assert_error(400, "invalid_request");
    assert!(missing.body["error"]["message"].as_str().unwrap_or("").contains("code"));

    let callback = stripe.approve(&authorize_url(&dev).await).await;
    let state = query_param(&callback, "state");
    let refused =
        get(&callback_with(&callback, &format!("code=ac_never_issued&state={state}"))).await;
    refused.assert_error(400, "invalid_request");
    assert!(refused.body["error"]["message"].as_str().unwrap_or("").contains("invalid_grant"));
    let after = status(&dev).await;
    assert_eq!(
        (after["connected"].as_bool(), after["mode"].as_str()),
        (Some(false), Some("preview"))
    );
}

#[tokio::test]
async fn the_101st_preview_end_user_is_refused_until_stripe_is_connected() {
    let (dev, platform) = developer().await;
    priced(&platform).await;
    platform.fill_preview("p").await;
    let refused = platform.track("p100").await;
    refused.assert_error(403, "forbidden");
    assert!(refused.body["error"]["message"].as_str().unwrap_or("").contains("connect Stripe"));
    assert_eq!(platform.count("p100").await, 0, "a refused end-user is not counted");
    assert_eq!(platform.track("p7").await.status, 200, "end-users already served still are");
    let checkout = |user: &str| {
        platform
            .call(Method::POST, "/v1/checkout")
            .json(&json!({"userId": user, "tier": "pro", "successUrl": "https://a.example/", "cancelUrl": "https://a.example/"}))
            .send()
    };
    let served_checkout = checkout("p7").await;
    assert_eq!(served_checkout.status, 200, "a served end-user may buy: {}", served_checkout.body);
    let refused_checkout = checkout("p101").await;
    refused_checkout.assert_error(403, "forbidden");
    let message = refused_checkout.body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("at most 100 end-users") && message.contains("connect Stripe"));
    assert_eq!(refused_checkout.body["preview"], true);

    connect(&dev, &platform).await;
    let served = platform.track("p100").await;
    assert_eq!(served.status, 200, "{}", served.body);
}

#[tokio::test]
async fn a_checkout_that_cannot_start_takes_no_seat_of_the_preview() {
    let (_dev, platform) = developer().await;
    priced(&platform).await;
    platform.serve_end_users("s", 99).await;
    let checkout = |user: &str, tier: &str| {
        platform
            .call(Method::POST, "/v1/checkout")
            .json(&json!({"userId": user, "tier": tier, "successUrl": "https://a.example/", "cancelUrl": "https://a.example/"}))
            .send()
    };
    let unknown = checkout("newcomer", "gold").await;
    unknown.assert_error(400, "invalid_request");
    assert!(unknown.body["error"]["message"].as_str().unwrap_or("").contains("free, pro"));
    checkout("newcomer", "free").await.assert_error(400, "invalid_request");
    let hundredth = platform.track("last-seat").await;
    assert_eq!(hundredth.status, 200, "the refused checkouts took no seat: {}", hundredth.body);
    platform.track("one-too-many").await.assert_error(403, "forbidden");
}

#[tokio::test]
async fn account_links_onboarding_connects_once_stripe_says_the_account_can_charge() {
    let (dev, platform) = developer().await;
    let started = dev.connect_call(Method::POST, "/v1/connect/onboarding").send().await;
    assert_eq!(started.status, 200, "{}", started.body);
    let pending = status(&dev).await;
    assert_eq!(pending["connected"], false);
    assert!(pending["stripeUserId"].as_str().is_some_and(|a| a.starts_with("acct_")));
    let done =
        browser().post(started.body["url"].as_str().expect("url")).send().await.expect("onboard");
    assert_eq!(done.status(), 303);
    assert!(done.headers()["location"]
        .to_str()
        .is_ok_and(|l| l.ends_with("/settings?onboarding=done")));
    let ready = status(&dev).await;
    assert_eq!(
        (ready["connected"].as_bool(), ready["mode"].as_str()),
        (Some(true), Some("production"))
    );
    dev.connect_call(Method::POST, "/v1/connect/onboarding")
        .send()
        .await
        .assert_error(409, "conflict");
    eventually(
        "production in the api worker",
        || platform.call(Method::GET, "/v1/platform").send(),
        |a| a.body["mode"] == "production",
    )
    .await;
}

#[tokio::test]
async fn a_subscription_bought_in_preview_still_ends_after_the_developer_connects() {
    let (dev, platform) = developer().await;
    priced(&platform).await;
    let stripe = StripeStandIn::from_env();
    let checkout = platform
        .call(Method::POST, "/v1/checkout")
        .json(&json!({"userId": "early", "tier": "pro", "successUrl": "https://a.example/", "cancelUrl": "https://a.example/"}))
        .send()
        .await;
    assert_eq!(checkout.status, 200, "{}", checkout.body);
    stripe.pay(checkout.body["url"].as_str().expect("url")).await;
    eventually("the preview purchase", || platform.usage("early"), |a| a.body["plan"] == "pro")
        .await;
    let session = checkout.body["sessionId"].as_str().expect("sessionId");
    let paid = stripe.get(&format!("/v1/checkout/sessions/{session}"), None).await;
    let subscription = paid.body["subscription"].as_str().expect("a subscription").to_string();

    connect(&dev, &platform).await;
    let ended = stripe.delete(&format!("/v1/subscriptions/{subscription}"), None).await;
    assert_eq!(ended.status, 200, "{}", ended.body);
    eventually(
        "the end of the preview subscription",
        || platform.usage("early"),
        |a| a.body["plan"] == "free",
    )
    .await;
}

#[tokio::test]
async fn revoking_access_from_stripe_s_side_returns_the_platform_to_preview() {
    let (dev, platform) = developer().await;
    let account = connect(&dev, &platform).await;
    let revoked = StripeStandIn::from_env().revoke(&account).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    eventually(
        "preview in the api worker",
        || platform.call(Method::GET, "/v1/platform").send(),
        |a| a.body["mode"] == "preview",
    )
    .await;
    let after = status(&dev).await;
    assert_eq!(
        (after["connected"].as_bool(), after["mode"].as_str()),
        (Some(false), Some("preview"))
    );
    assert_eq!(platform.track("after-revoke").await.body["preview"], true);
}
