//! The developer's own plan, through the Stripe stand-in: checkout, webhook, portal.

use dream_e2e::{
    browser, eventually, now_seconds, signature_at, webhook_secret, Answer, ClerkStandIn,
    Developer, Platform,
};
use reqwest::Method;
use serde_json::{json, Value};

async fn plan(dev: &Developer) -> Answer {
    dev.call(Method::GET, "/v1/me").send().await
}

#[tokio::test]
async fn the_paid_plan_follows_checkout_and_cancellation_through_stripe() {
    let dev = Developer::sign_in(json!({})).await;
    let platform: Platform = dev.credentials().await;
    for i in 0..5 {
        assert_eq!(platform.track(&format!("u{i}")).await.status, 200);
    }
    platform.track("u5").await.assert_error(403, "platform_quota_reached");

    let checkout = dev.call(Method::POST, "/v1/checkout").json(&json!({})).send().await;
    assert_eq!(checkout.status, 200, "{}", checkout.body);
    let pay =
        browser().post(checkout.body["url"].as_str().expect("url")).send().await.expect("pay");
    assert_eq!(pay.status(), 303);

    let me = eventually(
        "the upgrade",
        || plan(&dev),
        |a| a.body["plan"] == "paid" && a.body["usage"]["limit"] == 500,
    )
    .await;
    assert_eq!(me.body["subscribed"], true);
    assert_eq!(me.body["usage"]["limit"], 500);
    // Clerk's copy is written right after the platform's object applies the event, so
    // it may land a moment after the plan itself.
    let clerk = ClerkStandIn::from_env();
    let metadata = eventually(
        "Clerk's copy of the paid plan",
        || clerk.public_metadata(&dev.user_id),
        |metadata| metadata["plan"] == "paid",
    )
    .await;
    assert_eq!(
        (metadata["plan"].as_str(), metadata["subscribed"].as_bool()),
        (Some("paid"), Some(true))
    );
    assert!(metadata["stripeCustomerId"].as_str().is_some_and(|s| s.starts_with("cus_")));
    assert_eq!(platform.track("u5").await.status, 200, "the very next track has the paid quota");

    dev.call(Method::POST, "/v1/checkout")
        .json(&json!({}))
        .send()
        .await
        .assert_error(409, "conflict");
    let portal = dev.call(Method::POST, "/v1/portal").json(&json!({})).send().await;
    assert_eq!(portal.status, 200, "{}", portal.body);
    let portal_url = portal.body["url"].as_str().expect("url").to_string();
    let page = browser().get(&portal_url).send().await.expect("page").text().await.expect("html");
    let action =
        page.split("action=\"").nth(1).and_then(|a| a.split('"').next()).expect("a cancel form");
    let origin: String = portal_url.split('/').take(3).collect::<Vec<_>>().join("/");
    let cancel = browser().post(format!("{origin}{action}")).send().await.expect("cancel");
    assert_eq!(cancel.status(), 303);

    let me = eventually("the cancellation", || plan(&dev), |a| a.body["plan"] == "free").await;
    assert_eq!(me.body["subscribed"], false);
    platform.track("u6").await.assert_error(403, "platform_quota_reached");
}

fn event(id: &str, kind: &str, created: i64, object: Value) -> String {
    json!({"id": id, "object": "event", "type": kind, "created": created, "data": {"object": object}}).to_string()
}

/// Delivers `body` signed now with `secret` (the signature computed by the test itself).
async fn deliver(dev: &Developer, body: &str, secret: &str) -> Answer {
    let signature = signature_at(secret, now_seconds(), body);
    dev.call(Method::POST, "/webhooks/stripe")
        .header("Stripe-Signature", &signature)
        .raw("application/json", body.to_string())
        .send()
        .await
}

#[tokio::test]
async fn webhook_events_apply_once_in_order_and_only_with_a_good_signature() {
    let dev = Developer::sign_in(json!({})).await;
    let platform = dev.credentials().await;
    let secret = webhook_secret();
    let tag = dev.user_id.clone();
    let sub = format!("sub_{tag}");
    let names = json!({ "dreamApiPlatform": platform.id });
    let completed = event(
        &format!("evt_done_{tag}"),
        "checkout.session.completed",
        1_000,
        json!({"client_reference_id": platform.id, "subscription": sub, "customer": format!("cus_{tag}"), "metadata": names}),
    );

    let forged = deliver(&dev, &completed, "whsec_not_ours").await;
    forged.assert_error(400, "invalid_request");
    assert!(
        forged.body["error"]["message"].as_str().is_some_and(|m| m.contains("matches the body")),
        "refused for its HMAC, not its age: {}",
        forged.body
    );
    assert_eq!(plan(&dev).await.body["plan"], "free", "a bad signature changes nothing");

    assert_eq!(deliver(&dev, &completed, &secret).await.status, 200);
    assert_eq!(plan(&dev).await.body["plan"], "paid");

    let stale = event(
        &format!("evt_old_{tag}"),
        "customer.subscription.deleted",
        900,
        json!({"id": sub, "metadata": names}),
    );
    assert_eq!(deliver(&dev, &stale, &secret).await.status, 200);
    assert_eq!(plan(&dev).await.body["plan"], "paid", "an older event changes nothing");

    let deleted = event(
        &format!("evt_del_{tag}"),
        "customer.subscription.deleted",
        1_100,
        json!({"id": sub, "metadata": names}),
    );
    assert_eq!(deliver(&dev, &deleted, &secret).await.status, 200);
    assert_eq!(plan(&dev).await.body["plan"], "free");

    let again = deliver(&dev, &completed, &secret).await;
    assert_eq!(again.status, 200, "a duplicate is acknowledged");
    assert_eq!(plan(&dev).await.body["plan"], "free", "and changes nothing");

    let unknown = event(&format!("evt_inv_{tag}"), "invoice.paid", 1_200, json!({"id": "in_1"}));
    assert_eq!(deliver(&dev, &unknown, &secret).await.status, 200);
}
