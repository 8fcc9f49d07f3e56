//! Counts are exact under concurrency: with limit L and N simultaneous calls, exactly
//! min(L, N) are allowed, for the end-user limit, the rate limit and the platform quota.

use dream_e2e::{all_at_once, count_status, Platform, Quotas};

#[tokio::test]
async fn of_300_simultaneous_tracks_for_one_end_user_with_limit_50_exactly_50_are_allowed() {
    let p = Platform::with_free_limit(Quotas::Raised, 50).await;
    let answers = all_at_once(300, |_| p.track("hot-user")).await;
    assert_eq!(count_status(&answers, 200), 50);
    assert_eq!(count_status(&answers, 403), 250);
    assert!(answers
        .iter()
        .filter(|a| a.status == 403)
        .all(|a| a.error_code() == "tier_limit_reached"));
    assert_eq!(p.count("hot-user").await, 50);
    assert_eq!(p.platform_count().await, 50);
}

#[tokio::test]
async fn of_300_simultaneous_tracks_with_limit_1000_the_rate_limit_allows_exactly_100() {
    let p = Platform::with_free_limit(Quotas::Raised, 1000).await;
    let answers = all_at_once(300, |_| p.track("bursty-user")).await;
    assert_eq!(count_status(&answers, 200), 100);
    assert_eq!(count_status(&answers, 429), 200);
    assert_eq!(p.count("bursty-user").await, 100);
}

#[tokio::test]
async fn with_the_default_quota_the_sixth_track_across_end_users_is_refused() {
    let p = Platform::register(Quotas::Default).await;
    for i in 0..5 {
        let a = p.track(&format!("user-{i}")).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let sixth = p.track("user-5").await;
    sixth.assert_error(403, "platform_quota_reached");
    assert_eq!(sixth.body["usage"]["count"], 5);
    assert_eq!(sixth.body["usage"]["limit"], 5);
    assert_eq!(p.count("user-5").await, 0, "a refused call counts nothing for the end-user");
    assert_eq!(p.platform_count().await, 5);
}

#[tokio::test]
async fn of_300_simultaneous_tracks_over_300_end_users_exactly_the_platform_quota_is_allowed() {
    let p = Platform::register(Quotas::Default).await;
    let answers = all_at_once(300, |i| {
        let user = format!("crowd-{i}");
        let p = p.clone();
        async move { p.track(&user).await }
    })
    .await;
    assert_eq!(count_status(&answers, 200), 5);
    assert_eq!(count_status(&answers, 403), 295);
    assert!(answers
        .iter()
        .filter(|a| a.status == 403)
        .all(|a| a.error_code() == "platform_quota_reached"));
    assert_eq!(p.platform_count().await, 5);
    // Every refused end-user's reservation was given back.
    let mut counted = 0;
    for (i, a) in answers.iter().enumerate() {
        let c = p.count(&format!("crowd-{i}")).await;
        assert_eq!(c, u64::from(a.status == 200), "crowd-{i}");
        counted += c;
    }
    assert_eq!(counted, 5);
}

/// Both limits binding at once: a platform quota with 100 calls left, and 300
/// simultaneous tracks mixing end-users already at their tier limit, fresh end-users
/// with room, and idempotent replays of earlier calls.
#[tokio::test]
async fn with_both_limits_binding_at_once_exactly_the_eligible_calls_that_fit_the_quota_are_allowed(
) {
    let dev = dream_e2e::Developer::sign_in(serde_json::json!({})).await;
    let p = dev.credentials().await;
    dev.upgrade(&p).await; // a quota of 500
    let tiers = p
        .put_tiers(
            serde_json::json!([{ "id": "free", "name": "Free", "priceCents": 0, "limit": 10 }]),
        )
        .await;
    assert_eq!(tiers.status, 200, "{}", tiers.body);
    // 40 end-users at their limit of 10: 400 of the 500 calls used.
    let filled = all_at_once(400, |i| {
        let body = serde_json::json!({ "userId": format!("full-{}", i % 40), "idempotencyKey": format!("k-{i}") });
        p.track_body(body)
    })
    .await;
    assert_eq!(count_status(&filled, 200), 400);

    let answers = all_at_once(300, |i| match i % 6 {
        // 100 calls for end-users at their tier limit: never eligible.
        0 | 1 => p.track_body(serde_json::json!({ "userId": format!("full-{}", i % 40) })),
        // 50 replays of calls counted before: allowed, counting nothing.
        2 => p.track_body(serde_json::json!({ "userId": format!("full-{}", i % 40), "idempotencyKey": format!("k-{i}") })),
        // 150 calls for 50 fresh end-users, 3 each: all eligible, 100 fit the quota.
        _ => p.track_body(serde_json::json!({ "userId": format!("fresh-{}", i % 50) })),
    })
    .await;

    let replays: Vec<&dream_e2e::Answer> =
        answers.iter().filter(|a| a.header("Idempotent-Replayed") == Some("true")).collect();
    assert_eq!(replays.len(), 50, "every replay answered with its first answer");
    let fresh_allowed = answers
        .iter()
        .filter(|a| a.status == 200 && a.header("Idempotent-Replayed").is_none())
        .collect::<Vec<_>>();
    assert_eq!(fresh_allowed.len(), 100, "min(quota left, eligible calls)");
    assert!(fresh_allowed
        .iter()
        .all(|a| a.body["userId"].as_str().is_some_and(|u| u.starts_with("fresh-"))));
    for refused in answers.iter().filter(|a| a.status != 200) {
        assert_eq!(refused.status, 403, "{}", refused.body);
        let code = refused.error_code();
        let user = refused.body["userId"].as_str().unwrap_or("");
        assert!(
            code == "platform_quota_reached"
                || (code == "tier_limit_reached" && user.starts_with("full-")),
            "an eligible call was refused for its own limit: {}",
            refused.body
        );
    }
    assert_eq!(p.platform_count().await, 500);
    // Each end-user's allowed answers count 1, 2, … up to their final count.
    let mut by_user: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for a in &fresh_allowed {
        let user = a.body["userId"].as_str().expect("userId").to_string();
        by_user.entry(user).or_default().push(a.body["usage"]["count"].as_u64().expect("count"));
    }
    let mut total = 0;
    for (user, mut counts) in by_user {
        counts.sort_unstable();
        let final_count = p.count(&user).await;
        assert_eq!(counts, (1..=final_count).collect::<Vec<_>>(), "{user}");
        total += final_count;
    }
    assert_eq!(total, 100);
}
