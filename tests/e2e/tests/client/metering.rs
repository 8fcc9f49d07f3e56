//! `track` through the client: allowed, each kind of denial, idempotency.

use crate::{allowed, builder, client};
use dream_api_client::{DenyReason, IdempotencyKey, Track, TrackOptions};
use dream_e2e::{Platform, Quotas};
use serde_json::json;

async fn denied(client: &dream_api_client::Client, user: &str) -> Track {
    let track = client.track(user, TrackOptions::default()).await.expect("an answer");
    assert!(matches!(track, Track::Denied { .. }), "expected a denial, got {track:?}");
    track
}

#[tokio::test]
async fn tracks_are_counted_until_the_tier_limit_then_denied_and_a_denial_is_not_retried() {
    let platform = Platform::with_free_limit(Quotas::Raised, 2).await;
    let client = client(&platform);
    let first = client.track("ana", TrackOptions::default()).await.expect("an answer");
    let Track::Allowed { user_id, plan, usage, preview } = first else { panic!("{first:?}") };
    assert_eq!((user_id.as_str(), plan.as_str(), preview), ("ana", "free", true));
    assert_eq!((usage.count, usage.limit, usage.remaining), (1, Some(2), Some(1)));
    assert_eq!(allowed(&client, "ana").await.remaining, Some(0));

    let Track::Denied { reason, usage, retry_after_seconds } = denied(&client, "ana").await else {
        unreachable!()
    };
    assert_eq!(reason, DenyReason::TierLimitReached);
    assert_eq!(usage.map(|u| u.count), Some(2));
    assert_eq!(retry_after_seconds, None);
    assert_eq!(platform.count("ana").await, 2);
    // Each denied request is one in the statistics: a retried denial would be three.
    assert_eq!(client.stats(1).await.expect("stats").denied_calls, 1);
}

#[tokio::test]
async fn the_platforms_used_up_quota_is_a_denial_carrying_the_platforms_usage() {
    let platform = Platform::register(Quotas::Default).await;
    let client = client(&platform);
    for n in 0..5 {
        allowed(&client, &format!("user{n}")).await;
    }
    let Track::Denied { reason, usage, .. } = denied(&client, "user5").await else {
        unreachable!()
    };
    assert_eq!(reason, DenyReason::PlatformQuotaReached);
    let usage = usage.expect("the platform's usage");
    assert_eq!((usage.count, usage.limit), (5, Some(5)));
    assert_eq!(platform.platform_count().await, 5);
}

#[tokio::test]
async fn the_101st_track_in_a_minute_is_a_rate_limit_denial_with_its_retry_after() {
    let platform = Platform::register(Quotas::Raised).await;
    let unlimited = json!([{ "id": "free", "name": "Free", "priceCents": 0, "limit": null }]);
    assert_eq!(platform.put_tiers(unlimited).await.status, 200);
    let client = builder(&platform).max_retries(0).build().expect("a client");
    for _ in 0..10 {
        let batch = (0..10).map(|_| allowed(&client, "busy"));
        futures::future::join_all(batch).await;
    }
    let Track::Denied { reason, retry_after_seconds, usage } = denied(&client, "busy").await else {
        unreachable!()
    };
    assert_eq!(reason, DenyReason::RateLimited);
    let wait = retry_after_seconds.expect("Retry-After");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(usage.map(|u| u.count), Some(100));
    assert_eq!(platform.count("busy").await, 100);
}

#[tokio::test]
async fn a_track_repeated_with_the_callers_idempotency_key_counts_once() {
    let platform = Platform::with_free_limit(Quotas::Raised, 5).await;
    let client = client(&platform);
    let key = IdempotencyKey::parse("order-1234").expect("a key");
    let options = TrackOptions { amount: Some(2), idempotency_key: Some(key) };
    let first = client.track("bo", options.clone()).await.expect("an answer");
    let again = client.track("bo", options).await.expect("an answer");
    assert_eq!(first, again, "the first answer, replayed");
    assert_eq!(platform.count("bo").await, 2, "one amount of 2, not two");
    // Without a key of the caller's, each call gets its own and counts.
    allowed(&client, "bo").await;
    assert_eq!(platform.count("bo").await, 3);
}
