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
