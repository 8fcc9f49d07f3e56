//! "One writer per piece of platform state" (API.md): each rule, against the real
//! workers. Every change a platform can see goes through its one Durable Object, so
//! races between rotations, credentials, plan events and Connect all end in one state.

use crate::connect::{authorize_url, get};
use crate::end_user_billing::deliver;
use dream_e2e::{
    all_at_once, browser, count_status, eventually, now_seconds, signature, Answer, Call,
    ClerkStandIn, Developer, Platform, Quotas, StripeStandIn,
};
use reqwest::Method;
use serde_json::json;

async fn rotate(platform: &Platform, key: &str, grace: u64) -> Answer {
    Call::new(platform.quotas, Method::POST, "/v1/keys/rotate")
        .key(key)
        .json(&json!({ "graceSeconds": grace }))
        .send()
        .await
}

async fn platform_with(platform: &Platform, key: &str) -> Answer {
    Call::new(platform.quotas, Method::GET, "/v1/platform").key(key).send().await
}

#[tokio::test]
async fn eight_simultaneous_rotations_leave_one_current_key_and_no_other_key_works() {
    let platform = Platform::register(Quotas::Raised).await;
    let answers = all_at_once(8, |_| rotate(&platform, &platform.key, 0)).await;
    assert_eq!(
        count_status(&answers, 200),
        1,
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    for refused in answers.iter().filter(|a| a.status != 200) {
        refused.assert_error(401, "invalid_api_key");
    }
    let winner = answers.iter().find(|a| a.status == 200).expect("one rotation");
    let new_key = winner.body["apiKey"].as_str().expect("apiKey");
    assert_eq!(platform_with(&platform, new_key).await.status, 200);
    platform_with(&platform, &platform.key).await.assert_error(401, "invalid_api_key");
}

#[tokio::test]
async fn a_key_in_its_grace_period_cannot_rotate_and_a_new_rotation_ends_its_grace_at_once() {
    let platform = Platform::register(Quotas::Raised).await;
    let first = rotate(&platform, &platform.key, 3600).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let second_key = first.body["apiKey"].as_str().expect("apiKey").to_string();
    assert_eq!(platform_with(&platform, &platform.key).await.status, 200, "in its grace period");

    let leaked = rotate(&platform, &platform.key, 0).await;
    leaked.assert_error(403, "forbidden");
    assert_eq!(platform_with(&platform, &second_key).await.status, 200, "the owner's key stands");

    let again = rotate(&platform, &second_key, 3600).await;
    assert_eq!(again.status, 200, "{}", again.body);
    platform_with(&platform, &platform.key).await.assert_error(401, "invalid_api_key");
    assert_eq!(platform_with(&platform, &second_key).await.status, 200, "now the one in grace");
}

#[tokio::test]
async fn eight_simultaneous_credential_requests_create_exactly_one_platform() {
    let dev = Developer::sign_in(json!({})).await;
    let answers = all_at_once(8, |_| dev.call(Method::POST, "/v1/credentials").send()).await;
    assert_eq!(count_status(&answers, 201), 1);
    for other in answers.iter().filter(|a| a.status != 201) {
        other.assert_error(409, "conflict");
    }
    let created = answers.iter().find(|a| a.status == 201).expect("one");
    let me = dev.call(Method::GET, "/v1/me").send().await;
    assert_eq!(me.body["platform"]["platformId"], created.body["platformId"]);
}

fn plan_event(id: &str, kind: &str, created: i64, platform: &Platform, sub: &str) -> String {
    let names = json!({ "dreamApiPlatform": platform.id });
    let object = match kind {
        "checkout.session.completed" => json!({
            "client_reference_id": platform.id, "subscription": sub,
            "customer": format!("cus_{}", platform.id), "metadata": names
        }),
        _ => json!({ "id": sub, "status": "canceled", "metadata": names }),
    };
    json!({"id": id, "object": "event", "type": kind, "created": created, "data": {"object": object}})
        .to_string()
}

async fn deliver_plan_event(dev: &Developer, body: String) -> Answer {
    dev.call(Method::POST, "/webhooks/stripe")
        .header("Stripe-Signature", &signature(&body))
        .raw("application/json", body)
        .send()
        .await
}

/// A plan webhook and a Stripe connect at the same moment; `connect_first` orders them
/// in the race.
async fn plan_and_connect_race(connect_first: bool) {
    let dev = Developer::sign_in(json!({})).await;
    let platform = dev.credentials().await;
    let callback = StripeStandIn::from_env().approve(&authorize_url(&dev).await).await;
    let paid = plan_event(
        &format!("evt_race_{}", platform.id),
        "checkout.session.completed",
        now_seconds(),
        &platform,
        &format!("sub_race_{}", platform.id),
    );
    let (connected, plan) = if connect_first {
        futures::join!(get(&callback), deliver_plan_event(&dev, paid))
    } else {
        let (plan, connected) = futures::join!(deliver_plan_event(&dev, paid), get(&callback));
        (connected, plan)
    };
    assert_eq!(connected.status, 302, "{}", connected.body);
    assert_eq!(plan.status, 200, "{}", plan.body);
    let seen = platform.call(Method::GET, "/v1/platform").send().await;
    assert_eq!(
        (seen.body["plan"].as_str(), seen.body["mode"].as_str()),
        (Some("paid"), Some("production"))
    );
    let me = dev.call(Method::GET, "/v1/me").send().await;
    assert_eq!(
        (me.body["plan"].as_str(), me.body["platform"]["mode"].as_str()),
        (Some("paid"), Some("production"))
    );
}

#[tokio::test]
async fn a_plan_webhook_and_a_stripe_connect_racing_with_the_connect_first_end_paid_and_in_production(
) {
    plan_and_connect_race(true).await;
}

#[tokio::test]
async fn a_plan_webhook_and_a_stripe_connect_racing_with_the_plan_first_end_paid_and_in_production()
{
    plan_and_connect_race(false).await;
}

#[tokio::test]
async fn cancelling_a_subscription_that_is_not_the_current_one_changes_nothing() {
    let dev = Developer::sign_in(json!({})).await;
    let platform = dev.credentials().await;
    let t = now_seconds();
    let (old, new) = (format!("sub_old_{}", platform.id), format!("sub_new_{}", platform.id));
    for (id, sub, at) in [("a", &old, t - 30), ("b", &new, t - 20)] {
        let body = plan_event(
            &format!("evt_{id}_{}", platform.id),
            "checkout.session.completed",
            at,
            &platform,
            sub,
        );
        assert_eq!(deliver_plan_event(&dev, body).await.status, 200);
    }
    let end_old = plan_event(
        &format!("evt_c_{}", platform.id),
        "customer.subscription.deleted",
        t - 10,
        &platform,
        &old,
    );
    assert_eq!(deliver_plan_event(&dev, end_old).await.status, 200);
    let seen = platform.call(Method::GET, "/v1/platform").send().await;
    assert_eq!(seen.body["plan"], "paid", "the current subscription still stands");
    let end_new = plan_event(
        &format!("evt_d_{}", platform.id),
        "customer.subscription.deleted",
        t,
        &platform,
        &new,
    );
    assert_eq!(deliver_plan_event(&dev, end_new).await.status, 200);
    assert_eq!(platform.call(Method::GET, "/v1/platform").send().await.body["plan"], "free");
}

#[tokio::test]
async fn a_plan_event_for_a_platform_that_does_not_exist_is_acknowledged_and_changes_nothing() {
    let dev = Developer::sign_in(json!({})).await;
    let ghost =
        Platform { quotas: Quotas::Default, id: "plt_0000000ghost".into(), key: String::new() };
    let body =
        plan_event("evt_ghost_1", "checkout.session.completed", now_seconds(), &ghost, "sub_ghost");
    let answer = deliver_plan_event(&dev, body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn a_plan_event_for_a_developer_clerk_no_longer_has_is_applied_and_acknowledged() {
    let dev = Developer::sign_in(json!({})).await;
    let platform = dev.credentials().await;
    ClerkStandIn::from_env().delete_user(&dev.user_id).await;
    let body = plan_event(
        &format!("evt_gone_{}", platform.id),
        "checkout.session.completed",
        now_seconds(),
        &platform,
        &format!("sub_gone_{}", platform.id),
    );
    let answer = deliver_plan_event(&dev, body).await;
    assert_eq!(answer.status, 200, "Clerk answering 404 is no reason to retry: {}", answer.body);
    assert_eq!(platform.call(Method::GET, "/v1/platform").send().await.body["plan"], "paid");
}

/// An end-user's purchase of `tier`, as Stripe sends it to the api worker.
fn end_user_purchase(platform: &Platform, user: &str, tier: &str) -> String {
    json!({"id": format!("evt_{tier}_{}", platform.id), "object": "event",
        "type": "checkout.session.completed", "created": now_seconds(), "data": {"object": {
        "client_reference_id": user, "customer": format!("cus_{user}"), "subscription": format!("sub_{user}"),
        "metadata": {"platformId": platform.id, "userId": user, "tierId": tier}}}})
    .to_string()
}

/// Free (5 calls) and a paid tier `id` (50 calls, $9), priced on Stripe.
async fn with_paid_tier(platform: &Platform, id: &str) {
    let tiers = platform
        .put_tiers(json!([
            {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
            {"id": id, "name": id, "priceCents": 900, "limit": 50}
        ]))
        .await;
    assert_eq!(tiers.status, 200, "{}", tiers.body);
}

#[tokio::test]
async fn a_purchase_of_a_tier_added_a_moment_later_is_applied_on_stripes_retry() {
    let platform = Platform::register(Quotas::Raised).await;
    let event = end_user_purchase(&platform, "ana", "gold");
    let early = deliver(&platform, event.clone()).await;
    assert!(early.status.is_server_error(), "not applicable yet: {} {}", early.status, early.body);
    assert_eq!(platform.usage("ana").await.body["plan"], "free");

    with_paid_tier(&platform, "gold").await;
    let retried = deliver(&platform, event).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(platform.usage("ana").await.body["plan"], "gold");
}

#[tokio::test]
async fn an_end_user_token_may_meter_one_call_at_a_time_and_never_sees_the_platform_quota() {
    let platform = Platform::register(Quotas::Default).await;
    let me = ClerkStandIn::from_env().end_user_of(&platform.id).await;
    let as_me = |amount: u64| {
        Call::new(Quotas::Default, Method::POST, "/v1/usage/track")
            .key(&me.token)
            .json(&json!({ "amount": amount }))
            .send()
    };
    as_me(5).await.assert_error(403, "forbidden");
    assert_eq!(platform.platform_count().await, 0, "nothing was counted");
    for _ in 0..5 {
        assert_eq!(as_me(1).await.status, 200);
    }
    let over = as_me(1).await;
    over.assert_error(403, "platform_quota_reached");
    assert!(
        over.body.get("usage").is_none(),
        "the platform's quota is not the end-user's: {}",
        over.body
    );
}

#[tokio::test]
async fn a_platform_registered_through_the_api_upgrades_with_its_key_and_gets_the_paid_quota() {
    let platform = Platform::register(Quotas::Default).await;
    for i in 0..5 {
        assert_eq!(platform.track(&format!("u{i}")).await.status, 200);
    }
    platform.track("u5").await.assert_error(403, "platform_quota_reached");
    let urls =
        json!({ "successUrl": "https://app.example/ok", "cancelUrl": "https://app.example/" });
    let checkout = platform.call(Method::POST, "/v1/platform/checkout").json(&urls).send().await;
    assert_eq!(checkout.status, 200, "{}", checkout.body);
    let pay =
        browser().post(checkout.body["url"].as_str().expect("url")).send().await.expect("pay");
    assert_eq!(pay.status(), 303);
    eventually(
        "the paid plan",
        || platform.call(Method::GET, "/v1/platform").send(),
        |a| a.body["plan"] == "paid",
    )
    .await;
    let next = platform.track("u5").await;
    assert_eq!(next.status, 200, "the very next track has the paid quota: {}", next.body);
    assert_eq!(platform.call(Method::GET, "/v1/platform").send().await.body["usage"]["limit"], 500);

    platform
        .call(Method::POST, "/v1/platform/checkout")
        .json(&urls)
        .send()
        .await
        .assert_error(409, "conflict");
    let portal = platform
        .call(Method::POST, "/v1/platform/portal")
        .json(&json!({ "returnUrl": "https://app.example/" }))
        .send()
        .await;
    assert_eq!(portal.status, 200, "{}", portal.body);
    assert!(portal.body["url"].as_str().is_some_and(|u| u.starts_with("http")));
}

#[tokio::test]
async fn right_after_a_burst_of_tracks_the_end_user_list_agrees_with_the_platform_count() {
    let platform = Platform::register(Quotas::Raised).await;
    let answers =
        all_at_once(40, |i| platform.track_body(json!({ "userId": format!("burst-{}", i % 4) })))
            .await;
    assert_eq!(count_status(&answers, 200), 40);
    let users = platform.call(Method::GET, "/v1/users").send().await;
    let listed: u64 = users.body["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["usage"]["count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(listed, platform.platform_count().await);
    assert_eq!(listed, 40);
}

#[tokio::test]
async fn an_event_signed_with_the_second_of_two_configured_secrets_is_applied() {
    let platform = Platform::register(Quotas::Raised).await;
    let second = std::env::var("DREAM_STRIPE_CONNECT_WEBHOOK_SECRET")
        .expect("set by scripts/test.sh: the workers' second webhook secret");
    let body = end_user_purchase(&platform, "bo", "pro");
    let t = now_seconds();
    let signed = format!(
        "t={t},v1={}",
        dream_core::stripe::WebhookSecret::new(&second).sign(t, body.as_bytes())
    );
    with_paid_tier(&platform, "pro").await;
    let answer = platform
        .call(Method::POST, "/webhooks/stripe")
        .header("Stripe-Signature", &signed)
        .raw("application/json", body)
        .send()
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(platform.usage("bo").await.body["plan"], "pro");
}

#[tokio::test]
async fn tier_changes_that_create_stripe_prices_are_limited_to_ten_a_minute_per_platform() {
    let platform = Platform::register(Quotas::Raised).await;
    for i in 0..10 {
        let tiers = json!([{"id": "free", "name": "Free", "priceCents": 0, "limit": 10 + i}]);
        assert_eq!(platform.put_tiers(tiers).await.status, 200, "change {i}");
    }
    let eleventh = platform
        .put_tiers(json!([{"id": "free", "name": "Free", "priceCents": 0, "limit": 1}]))
        .await;
    eleventh.assert_error(429, "rate_limited");
    assert!(eleventh.header("Retry-After").is_some());
    let other = Platform::register(Quotas::Raised).await;
    let tiers = json!([{"id": "free", "name": "Free", "priceCents": 0, "limit": 1}]);
    assert_eq!(other.put_tiers(tiers).await.status, 200, "another platform has its own ten");
}

#[tokio::test]
async fn registrations_from_one_ipv6_64_share_one_limit() {
    let prefix = format!("2001:db8:{:x}:{:x}", std::process::id() & 0xffff, now_seconds() & 0xffff);
    let register = |host: u32| {
        Call::new(Quotas::Raised, Method::POST, "/v1/developers")
            .header("CF-Connecting-IP", &format!("{prefix}::{host:x}"))
            .json(&json!({ "email": "v6@example.com" }))
            .send()
    };
    for host in 1..=5 {
        assert_eq!(register(host).await.status, 201, "registration {host}");
    }
    register(0xffff).await.assert_error(429, "rate_limited");
}

#[tokio::test]
async fn the_dashboard_backend_checks_checkout_and_portal_urls_as_the_api_worker_does() {
    let dev = Developer::sign_in(json!({})).await;
    dev.call(Method::POST, "/v1/checkout")
        .json(&json!({}))
        .send()
        .await
        .assert_error(404, "not_found");
    dev.credentials().await;
    for body in [
        json!({ "successUrl": "javascript:alert(1)" }),
        json!({ "cancelUrl": "/relative" }),
        json!({ "successUrl": "https://ok.example/ with space" }),
    ] {
        let answer = dev.call(Method::POST, "/v1/checkout").json(&body).send().await;
        answer.assert_error(400, "invalid_request");
    }
    let portal = dev
        .call(Method::POST, "/v1/portal")
        .json(&json!({ "returnUrl": "ftp://x.example/" }))
        .send()
        .await;
    portal.assert_error(400, "invalid_request");
}

#[tokio::test]
async fn stripe_not_answering_within_ten_seconds_is_a_502_after_ten_seconds_and_nothing_changes() {
    let platform = Platform::register(Quotas::Raised).await;
    let slow = format!("Slow {}", platform.id);
    StripeStandIn::from_env().delay(&slow, 15_000).await;
    let started = std::time::Instant::now();
    let answer = platform
        .put_tiers(json!([
            {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
            {"id": "slow", "name": slow, "priceCents": 900, "limit": 50}
        ]))
        .await;
    let took = started.elapsed();
    answer.assert_error(502, "upstream_error");
    assert!(
        answer.body["error"]["message"].as_str().is_some_and(|m| m.contains("10 s")),
        "{}",
        answer.body
    );
    // A 502 at all means the worker did not wait for Stripe's answer at 15 s.
    assert!(took >= std::time::Duration::from_secs(10), "gave up after only {took:?}");
    let tiers = platform.call(Method::GET, "/v1/tiers").send().await;
    assert_eq!(tiers.body["tiers"].as_array().map(Vec::len), Some(1), "nothing was stored");
}
