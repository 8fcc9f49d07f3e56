//! End-users' paid tiers in preview: Stripe prices for tiers, checkout, portal and the
//! api worker's webhook, through the Stripe stand-in (payments on dream-api's account).

use dream_e2e::{
    eventually, now_seconds, signature, signature_at, webhook_secret, Answer, Platform, Quotas,
    StripeStandIn,
};
use reqwest::Method;
use serde_json::{json, Value};

fn free_and_pro(pro_cents: u64) -> Value {
    json!([
        {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
        {"id": "pro", "name": "Pro", "priceCents": pro_cents, "limit": 50},
    ])
}

pub(crate) async fn plan(platform: &Platform, user: &str) -> Answer {
    platform.usage(user).await
}

pub(crate) fn checkout_body(user: &str, tier: &str) -> Value {
    json!({"userId": user, "tier": tier, "successUrl": "https://app.example/ok",
           "cancelUrl": "https://app.example/no", "email": "end@user.example"})
}

/// Free (5) and Pro ($9, 50); the Pro price id.
pub async fn priced(platform: &Platform) -> String {
    let tiers = platform.put_tiers(free_and_pro(900)).await;
    assert_eq!(tiers.status, 200, "{}", tiers.body);
    tiers.body["tiers"][1]["stripePriceId"].as_str().expect("a price for Pro").to_string()
}

/// Tracks until the tier limit, upgrades through checkout, tracks on Pro, cancels in
/// the portal and is back on Free; `account` is where every Stripe object must live.
pub async fn upgrade_and_cancel(platform: &Platform, user: &str, account: Option<&str>) {
    let stripe = StripeStandIn::from_env();
    for _ in 0..5 {
        assert_eq!(platform.track(user).await.status, 200);
    }
    platform.track(user).await.assert_error(403, "tier_limit_reached");

    let checkout =
        platform.call(Method::POST, "/v1/checkout").json(&checkout_body(user, "pro")).send().await;
    assert_eq!(checkout.status, 200, "{}", checkout.body);
    let session = checkout.body["sessionId"].as_str().expect("sessionId");
    let on_account = stripe.get(&format!("/v1/checkout/sessions/{session}"), account).await;
    assert_eq!(on_account.status, 200, "the session is on the platform's account");
    assert_eq!(on_account.body["metadata"]["platformId"], platform.id);
    if account.is_some() {
        assert_eq!(stripe.get(&format!("/v1/checkout/sessions/{session}"), None).await.status, 404);
    }
    stripe.pay(checkout.body["url"].as_str().expect("url")).await;

    let pro =
        eventually("the upgrade to Pro", || plan(platform, user), |a| a.body["plan"] == "pro")
            .await;
    assert_eq!(pro.body["usage"]["limit"], 50);
    let tracked = platform.track(user).await;
    assert_eq!(tracked.status, 200, "{}", tracked.body);
    assert_eq!(tracked.body["usage"]["count"], 6);

    let portal = platform
        .call(Method::POST, "/v1/portal")
        .json(&json!({"userId": user, "returnUrl": "https://app.example/account"}))
        .send()
        .await;
    assert_eq!(portal.status, 200, "{}", portal.body);
    stripe.cancel_in_portal(portal.body["url"].as_str().expect("url")).await;
    let free =
        eventually("the fall back to Free", || plan(platform, user), |a| a.body["plan"] == "free")
            .await;
    assert_eq!(free.body["usage"]["limit"], 5);
    platform.track(user).await.assert_error(403, "tier_limit_reached");
}

#[tokio::test]
async fn an_end_user_upgrades_through_checkout_in_preview_and_is_back_on_free_after_cancelling() {
    let platform = Platform::register(Quotas::Raised).await;
    let price = priced(&platform).await;
    let stripe = StripeStandIn::from_env();
    let on_ours = stripe.get(&format!("/v1/prices/{price}"), None).await;
    assert_eq!(on_ours.status, 200, "preview prices are on dream-api's own account");
    assert_eq!(on_ours.body["unit_amount"], 900);
    assert_eq!(on_ours.body["recurring"]["interval"], "month");
    assert_eq!(on_ours.body["metadata"]["platformId"], platform.id);
    upgrade_and_cancel(&platform, "buyer-1", None).await;
}

#[tokio::test]
async fn every_answer_for_a_platform_in_preview_says_so() {
    let platform = Platform::register(Quotas::Raised).await;
    assert_eq!(platform.track("u1").await.body["preview"], true);
    assert_eq!(platform.call(Method::GET, "/v1/tiers").send().await.body["preview"], true);
    let denied =
        platform.call(Method::POST, "/v1/checkout").json(&checkout_body("u1", "gold")).send().await;
    denied.assert_error(400, "invalid_request");
    assert_eq!(denied.body["preview"], true, "errors too");
}

#[tokio::test]
async fn putting_the_same_tiers_again_creates_no_new_price_and_a_new_price_makes_one() {
    let platform = Platform::register(Quotas::Raised).await;
    let first = priced(&platform).await;
    assert!(first.starts_with("price_"));
    assert_eq!(priced(&platform).await, first, "a retry reuses the price");
    let changed = platform.put_tiers(free_and_pro(1200)).await;
    let second = changed.body["tiers"][1]["stripePriceId"].as_str().expect("a price").to_string();
    assert_ne!(second, first);
    let price = StripeStandIn::from_env().get(&format!("/v1/prices/{second}"), None).await;
    assert_eq!(price.body["unit_amount"], 1200);
    let free = &changed.body["tiers"][0]["stripePriceId"];
    assert!(free.is_null(), "a free tier has no price");
}

#[tokio::test]
async fn checkout_refuses_unknown_and_free_tiers_and_bad_urls_and_portal_needs_a_purchase() {
    let platform = Platform::register(Quotas::Raised).await;
    priced(&platform).await;
    let checkout = |body: Value| platform.call(Method::POST, "/v1/checkout").json(&body).send();
    checkout(checkout_body("u1", "gold")).await.assert_error(400, "invalid_request");
    let free = checkout(checkout_body("u1", "free")).await;
    free.assert_error(400, "invalid_request");
    assert!(free.body["error"]["message"].as_str().unwrap_or("").contains("free"));
    let mut relative = checkout_body("u1", "pro");
    relative["successUrl"] = json!("/ok");
    checkout(relative).await.assert_error(400, "invalid_request");
    checkout(json!({"userId": "u1", "tier": "pro"})).await.assert_error(400, "invalid_request");
    let portal = platform
        .call(Method::POST, "/v1/portal")
        .json(&json!({"userId": "u1", "returnUrl": "https://app.example/"}))
        .send()
        .await;
    portal.assert_error(404, "not_found");
}

fn event(id: &str, kind: &str, account: Option<&str>, object: Value) -> String {
    let mut e = json!({"id": id, "object": "event", "type": kind, "created": now_seconds(), "data": {"object": object}});
    if let Some(account) = account {
        e["account"] = json!(account);
    }
    e.to_string()
}

pub(crate) async fn deliver(platform: &Platform, body: String) -> Answer {
    platform
        .call(Method::POST, "/webhooks/stripe")
        .header("Stripe-Signature", &signature(&body))
        .raw("application/json", body)
        .send()
        .await
}

#[tokio::test]
async fn end_user_events_apply_once_and_only_from_the_platform_s_own_account() {
    let platform = Platform::register(Quotas::Raised).await;
    let price = priced(&platform).await;
    let paid = |user: &str, id: &str, account: Option<&str>| {
        event(
            id,
            "checkout.session.completed",
            account,
            json!({
            "client_reference_id": user, "customer": format!("cus_{id}"), "subscription": format!("sub_{id}"),
            "metadata": {"platformId": platform.id, "userId": user, "tierId": "pro", "priceId": price}}),
        )
    };
    let tag = &platform.id;
    let foreign =
        deliver(&platform, paid("u-foreign", &format!("evt_f_{tag}"), Some("acct_someoneelse")))
            .await;
    assert_eq!(foreign.status, 200, "acknowledged");
    assert_eq!(
        plan(&platform, "u-foreign").await.body["plan"],
        "free",
        "an event from another account changes nothing"
    );

    // Signed now, but not with our secret: refused for its HMAC, not for its age. Rightly
    // signed, but over 300 s ago: refused for its age.
    for (id, secret, at, reason) in [
        ("x", "whsec_forged".to_string(), now_seconds(), "matches the body"),
        ("s", webhook_secret(), now_seconds() - 301, "300 seconds old"),
    ] {
        let body = paid("u1", &format!("evt_{id}_{tag}"), None);
        let refused = platform
            .call(Method::POST, "/webhooks/stripe")
            .header("Stripe-Signature", &signature_at(&secret, at, &body))
            .raw("application/json", body)
            .send()
            .await;
        refused.assert_error(400, "invalid_request");
        let message = refused.body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(reason), "{}", refused.body);
    }
    assert_eq!(plan(&platform, "u1").await.body["plan"], "free", "neither changed anything");

    assert_eq!(deliver(&platform, paid("u1", &format!("evt_p_{tag}"), None)).await.status, 200);
    assert_eq!(plan(&platform, "u1").await.body["plan"], "pro");
    let sub = format!("sub_evt_p_{tag}");
    let cancel = event(
        &format!("evt_c_{tag}"),
        "customer.subscription.deleted",
        None,
        json!({
        "id": sub, "status": "canceled", "metadata": {"platformId": platform.id, "userId": "u1"}}),
    );
    assert_eq!(deliver(&platform, cancel).await.status, 200);
    assert_eq!(plan(&platform, "u1").await.body["plan"], "free");
    assert_eq!(deliver(&platform, paid("u1", &format!("evt_p_{tag}"), None)).await.status, 200);
    assert_eq!(plan(&platform, "u1").await.body["plan"], "free", "a duplicate changes nothing");
}
