//! The dashboard's demo end-user (`dream-api:demo`): the developer checks out on their
//! own pricing page through the platform-auth worker, pays on the Stripe stand-in's
//! page, and the api worker's webhook moves the demo end-user to the tier bought.
//! And `GET /v1/me` telling while a rotated-out key still works.

use dream_e2e::{eventually, Developer, StripeStandIn};
use reqwest::Method;
use serde_json::{json, Value};

const DEMO: &str = "dream-api:demo";

fn free_and_pro() -> Value {
    json!({"tiers": [
        {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
        {"id": "pro", "name": "Pro", "priceCents": 900, "limit": 50},
    ]})
}

fn demo_checkout(tier: &str) -> Value {
    json!({"tier": tier, "successUrl": "https://app.example/ok", "cancelUrl": "https://app.example/no"})
}

/// A developer with credentials and the tiers Free (5) and Pro ($9, 50).
async fn developer_with_tiers() -> (Developer, dream_e2e::Platform) {
    let dev = Developer::sign_in(json!({})).await;
    let platform = dev.credentials().await;
    let tiers = dev.call(Method::PUT, "/v1/tiers").json(&free_and_pro()).send().await;
    assert_eq!(tiers.status, 200, "{}", tiers.body);
    (dev, platform)
}

#[tokio::test]
async fn a_developers_demo_end_user_buys_the_paid_tier_through_the_demo_checkout_and_is_shown_on_it(
) {
    let (dev, platform) = developer_with_tiers().await;
    let before = dev.call(Method::GET, "/v1/demo").send().await;
    assert_eq!(before.status, 200, "{}", before.body);
    assert_eq!(before.body["userId"], DEMO);
    assert_eq!(before.body["plan"], "free", "the first tier before anything happened");
    assert_eq!(
        (before.body["usage"]["count"].as_u64(), before.body["usage"]["limit"].as_u64()),
        (Some(0), Some(5))
    );

    let checkout =
        dev.call(Method::POST, "/v1/demo/checkout").json(&demo_checkout("pro")).send().await;
    assert_eq!(checkout.status, 200, "{}", checkout.body);
    let session = checkout.body["sessionId"].as_str().expect("sessionId");
    let stripe = StripeStandIn::from_env();
    // In preview the session is on dream-api's own account, named as the api worker's
    // end-user checkouts are, so its webhook finds the demo end-user again.
    let on_stripe = stripe.get(&format!("/v1/checkout/sessions/{session}"), None).await;
    assert_eq!(on_stripe.status, 200, "{}", on_stripe.body);
    assert_eq!(on_stripe.body["metadata"]["platformId"], platform.id.as_str());
    assert_eq!(on_stripe.body["metadata"]["userId"], DEMO);
    stripe.pay(checkout.body["url"].as_str().expect("url")).await;

    let pro = eventually(
        "the demo end-user's move to Pro",
        || dev.call(Method::GET, "/v1/demo").send(),
        |a| a.body["plan"] == "pro",
    )
    .await;
    assert_eq!(pro.status, 200, "{}", pro.body);
    assert_eq!(pro.body["usage"]["limit"], 50);
    // The same end-user the api worker serves: its own answer for it agrees.
    let mut via_key = platform.usage(DEMO).await;
    assert_eq!(via_key.status, 200, "{}", via_key.body);
    via_key.body.as_object_mut().expect("an object").remove("preview");
    assert_eq!(via_key.body, pro.body);
}

#[tokio::test]
async fn the_demo_checkout_refuses_a_free_or_unknown_tier_and_bad_return_urls_and_needs_credentials(
) {
    let dev = Developer::sign_in(json!({})).await;
    let early =
        dev.call(Method::POST, "/v1/demo/checkout").json(&demo_checkout("pro")).send().await;
    early.assert_error(404, "not_found");
    dev.call(Method::GET, "/v1/demo").send().await.assert_error(404, "not_found");

    dev.credentials().await;
    let tiers = dev.call(Method::PUT, "/v1/tiers").json(&free_and_pro()).send().await;
    assert_eq!(tiers.status, 200, "{}", tiers.body);
    let checkout = |body: Value| dev.call(Method::POST, "/v1/demo/checkout").json(&body).send();
    let free = checkout(demo_checkout("free")).await;
    free.assert_error(400, "invalid_request");
    assert!(
        free.body["error"]["message"].as_str().is_some_and(|m| m.contains("free")),
        "{}",
        free.body
    );
    let unknown = checkout(demo_checkout("gold")).await;
    unknown.assert_error(400, "invalid_request");
    let listed = unknown.body["error"]["message"].as_str().unwrap_or("");
    assert!(listed.contains("free, pro"), "the message lists the platform's tiers: {listed}");
    let mut bad_url = demo_checkout("pro");
    bad_url["successUrl"] = json!("javascript:alert(1)");
    checkout(bad_url).await.assert_error(400, "invalid_request");
    checkout(json!({"successUrl": "https://app.example/ok"}))
        .await
        .assert_error(400, "invalid_request");

    let demo = dev.call(Method::GET, "/v1/demo").send().await;
    assert_eq!(
        (demo.status.as_u16(), demo.body["plan"].clone()),
        (200, json!("free")),
        "{}",
        demo.body
    );
    assert!(demo.header("RateLimit-Remaining").is_some(), "one of the developer's calls");
}

#[tokio::test]
async fn me_shows_when_a_rotated_out_key_stops_working_and_null_once_a_rotation_gave_none() {
    let dev = Developer::sign_in(json!({})).await;
    dev.credentials().await;
    let me = || dev.call(Method::GET, "/v1/me").send();
    let fresh = me().await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(fresh.body["platform"]["previousKeyExpiresAt"], Value::Null, "{}", fresh.body);

    let rotate = |grace: u64| {
        dev.call(Method::POST, "/v1/credentials/rotate")
            .json(&json!({"graceSeconds": grace}))
            .send()
    };
    let graced = rotate(600).await;
    assert_eq!(graced.status, 200, "{}", graced.body);
    let expires = graced.body["previousKeyExpiresAt"].as_str().expect("previousKeyExpiresAt");
    let during = me().await;
    assert_eq!(during.body["platform"]["previousKeyExpiresAt"], expires, "{}", during.body);

    // A rotation without grace ends the earlier key's grace at once, and its own
    // replaced key stops now: no key is in its grace period.
    let sharp = rotate(0).await;
    assert_eq!(sharp.status, 200, "{}", sharp.body);
    let after = me().await;
    assert_eq!(after.body["platform"]["previousKeyExpiresAt"], Value::Null, "{}", after.body);
}
