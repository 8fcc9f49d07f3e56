//! Every other operation of the client: tiers, usage, plans, users, statistics, the
//! platform, its request log and revenue, checkout and portal, key rotation.

use crate::{allowed, client};
use dream_api_client::{
    CheckoutRequest, Client, LogQuery, Mode, PlatformPlan, PortalRequest, Tier, TierId, UserId,
    UserUsage,
};
use dream_e2e::{Platform, Quotas, StripeStandIn};
use futures::StreamExt;
use reqwest::Method;
use std::time::Duration;

fn tier(id: &str, price_cents: u64, limit: Option<u64>) -> Tier {
    Tier {
        id: TierId::parse(id).expect("a tier id"),
        name: id.to_uppercase(),
        price_cents,
        limit,
        features: vec![format!("{id} feature")],
        popular: price_cents > 0,
        stripe_price_id: None,
    }
}

/// Polls the end-user's usage until their plan is `plan` (a Stripe event on its way).
async fn plan_becomes(client: &Client, user: &str, plan: &str) -> UserUsage {
    for _ in 0..150 {
        let usage = client.usage(user).await.expect("usage");
        if usage.plan.as_str() == plan {
            return usage;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{user} did not move to {plan} within 30 s");
}

#[tokio::test]
async fn tiers_usage_plans_statistics_and_the_platform_read_and_write_through_the_client() {
    let platform = Platform::register(Quotas::Raised).await;
    let client = client(&platform);
    let stored = client.set_tiers(&[tier("free", 0, Some(1)), tier("pro", 900, Some(50))]).await;
    let stored = stored.expect("tiers stored");
    assert!(stored[1].stripe_price_id.is_some(), "the paid tier got its Stripe price");
    assert_eq!(client.tiers().await.expect("tiers"), stored);

    allowed(&client, "cy").await;
    let usage = client.usage("cy").await.expect("usage");
    assert_eq!((usage.plan.as_str(), usage.usage.count, usage.usage.limit), ("free", 1, Some(1)));
    let moved = client.set_plan("cy", "pro").await.expect("moved");
    assert_eq!((moved.plan.as_str(), moved.usage.remaining), ("pro", Some(49)));
    let unknown = client.set_plan("cy", "gold").await.expect_err("no such tier");
    assert_eq!((unknown.status, unknown.code.as_str()), (400, "invalid_request"), "{unknown}");

    let stats = client.stats(7).await.expect("stats");
    assert_eq!((stats.total_calls, stats.denied_calls, stats.unique_users), (1, 0, 1));
    assert_eq!(stats.daily.len(), 7);
    let info = client.platform().await.expect("the platform");
    assert_eq!(info.platform_id.as_str(), platform.id);
    assert_eq!((info.mode, info.plan), (Mode::Preview, PlatformPlan::Free));
    assert_eq!((info.usage.count, info.usage.limit), (1, None), "raised quotas are unlimited");
}

#[tokio::test]
async fn the_log_pages_back_through_a_users_calls_and_revenue_starts_at_zero() {
    let platform = Platform::register(Quotas::Raised).await;
    let client = client(&platform);
    for amount in [1, 2, 3] {
        platform.track_body(serde_json::json!({"userId": "lou", "amount": amount})).await;
    }
    platform.track("someone-else").await;
    let lou = UserId::parse("lou").expect("an id");
    let query = LogQuery { user_id: Some(lou.clone()), limit: Some(2), ..LogQuery::default() };
    let first = client.logs(&query).await.expect("a page");
    let amounts: Vec<u64> = first.entries.iter().map(|e| e.amount).collect();
    assert_eq!(amounts, [3, 2], "newest first");
    assert!(first.entries.iter().all(|e| e.user_id == lou && e.status == 200 && e.code.is_none()));
    let rest = LogQuery { before: first.next_before.clone(), ..query };
    let second = client.logs(&rest).await.expect("the next page");
    assert_eq!(second.entries.iter().map(|e| e.amount).collect::<Vec<_>>(), [1]);
    assert_eq!(second.next_before, None);
    let revenue = client.revenue().await.expect("revenue");
    assert_eq!((revenue.mrr_cents, revenue.active_subscriptions, revenue.daily.len()), (0, 0, 90));
}

#[tokio::test]
async fn users_streams_every_end_user_across_pages_in_user_id_order() {
    let platform = Platform::register(Quotas::Raised).await;
    platform.serve_end_users("page-", 5).await;
    let client = client(&platform);
    let pages: Vec<Vec<UserUsage>> =
        client.users_in_pages_of(2).map(|page| page.expect("a page")).collect().await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1]);
    let ids: Vec<String> = pages.concat().iter().map(|u| u.user_id.to_string()).collect();
    assert_eq!(ids, ["page-0", "page-1", "page-2", "page-3", "page-4"]);
    assert!(pages.concat().iter().all(|u| u.usage.count == 1));
    let whole: Vec<_> = client.users().collect().await;
    assert_eq!(whole.len(), 1, "one page of up to 100");
}

#[tokio::test]
async fn an_end_user_pays_through_checkout_and_reaches_the_portal_through_the_client() {
    let platform = Platform::register(Quotas::Raised).await;
    let client = client(&platform);
    client.set_tiers(&[tier("free", 0, Some(1)), tier("pro", 900, Some(50))]).await.expect("tiers");
    let checkout = CheckoutRequest {
        user_id: "dee".into(),
        tier: "pro".into(),
        success_url: "https://app.example/ok".into(),
        cancel_url: "https://app.example/".into(),
        email: Some("dee@example.com".into()),
    };
    let session = client.checkout(&checkout).await.expect("a checkout session");
    assert!(session.session_id.starts_with("cs_"), "{session:?}");
    StripeStandIn::from_env().pay(&session.url).await;
    assert_eq!(plan_becomes(&client, "dee", "pro").await.usage.limit, Some(50));

    let back = PortalRequest { user_id: "dee".into(), return_url: "https://app.example/".into() };
    let portal = client.portal(&back).await.expect("a portal session");
    assert!(portal.url.starts_with("http"), "{portal:?}");
    let nobody = PortalRequest { user_id: "never-paid".into(), ..back };
    let error = client.portal(&nobody).await.expect_err("no customer");
    assert_eq!((error.status, error.code.as_str()), (404, "not_found"), "{error}");
}

#[tokio::test]
async fn rotating_the_key_moves_the_client_to_the_new_key_while_the_old_one_has_its_grace() {
    let platform = Platform::register(Quotas::Raised).await;
    let client = client(&platform);
    let clone = client.clone();
    let rotation = client.rotate_key(300).await.expect("rotated");
    assert_ne!(rotation.api_key.expose(), platform.key);
    assert!(rotation.previous_key_expires_at.ends_with('Z'), "{rotation:?}");
    // The client and its clones now call with the new key; the old one still works.
    assert_eq!(clone.platform().await.expect("the platform").platform_id.as_str(), platform.id);
    let new = Platform { key: rotation.api_key.expose().to_string(), ..platform.clone() };
    assert_eq!(new.call(Method::GET, "/v1/platform").send().await.status, 200);
    assert_eq!(platform.call(Method::GET, "/v1/platform").send().await.status, 200);
    let again = client.rotate_key(0).await.expect("rotated again");
    assert_ne!(again.api_key, rotation.api_key);
    assert_eq!(platform.call(Method::GET, "/v1/platform").send().await.status, 401);
}
