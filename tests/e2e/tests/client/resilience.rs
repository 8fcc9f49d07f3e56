//! Retries, timeouts and failing open or closed, through misbehaving servers on
//! 127.0.0.1 (`proxy`).

use crate::proxy::{Server, Step};
use dream_api_client::{Client, ClientBuilder, Track, TrackOptions};
use dream_e2e::{base_url, Platform, Quotas};
use std::time::{Duration, Instant};

/// A client of `platform` calling `url` instead of its worker.
fn via(platform: &Platform, url: String, max_retries: u32) -> ClientBuilder {
    Client::builder().api_key(&platform.key).base_url(url).max_retries(max_retries)
}

#[tokio::test]
async fn a_track_through_two_dropped_connections_and_a_503_is_retried_and_counted_exactly_once() {
    let platform = Platform::with_free_limit(Quotas::Raised, 10).await;
    let script = vec![Step::Drop, Step::Drop, Step::ForwardThen503];
    let proxy = Server::flaky_proxy(&base_url(Quotas::Raised), script).await;
    let client = via(&platform, proxy.url(), 3).build().expect("a client");

    let started = Instant::now();
    let tracked = client.track("retried", TrackOptions::default()).await.expect("an answer");
    let Track::Allowed { usage, .. } = tracked else { panic!("allowed: {tracked:?}") };
    // The 503 came after the api worker had counted the call; the retry after it carried
    // the same idempotency key, so it was replayed, not counted again.
    assert_eq!(usage.count, 1);
    assert_eq!(platform.count("retried").await, 1, "the meter counted the call once");
    assert_eq!(proxy.connections(), 4, "two dropped, one 503, one answered");
    assert!(started.elapsed() >= Duration::from_secs(1), "the 503's Retry-After: 1 was waited for");
}

#[tokio::test]
async fn with_fewer_retries_than_failures_the_last_failure_is_the_error_and_nothing_extra_counts() {
    let platform = Platform::with_free_limit(Quotas::Raised, 10).await;
    let proxy = Server::flaky_proxy(&base_url(Quotas::Raised), vec![Step::Drop; 3]).await;
    let client = via(&platform, proxy.url(), 2).build().expect("a client");
    let error = client.track("dropped", TrackOptions::default()).await.expect_err("no answer");
    assert_eq!((error.status, error.code.as_str()), (0, "network_error"), "{error}");
    assert_eq!(proxy.connections(), 3, "the first attempt and two retries");
    assert_eq!(platform.count("dropped").await, 0);
}

#[tokio::test]
async fn a_silent_api_times_out_after_the_timeout_on_each_attempt() {
    let platform = Platform::register(Quotas::Raised).await;
    let silent = Server::silent().await;
    let client = via(&platform, silent.url(), 1)
        .timeout(Duration::from_millis(300))
        .build()
        .expect("a client");
    let started = Instant::now();
    let error = client.usage("anyone").await.expect_err("no answer");
    let elapsed = started.elapsed();
    assert_eq!((error.status, error.code.as_str()), (0, "timeout"), "{error}");
    assert_eq!(error.request_id, None);
    assert_eq!(silent.connections(), 2, "one attempt and one retry");
    // Two timeouts and one backoff of at most 200 ms, not reqwest's or the OS's defaults.
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[tokio::test]
async fn fail_open_lets_an_unreachable_track_through_as_degraded_and_fail_closed_refuses() {
    let platform = Platform::register(Quotas::Raised).await;
    let nowhere = Server::closed_url().await;
    let with = |fail_open| {
        via(&platform, nowhere.clone(), 1).fail_open(fail_open).build().expect("a client")
    };
    let closed = with(false).track("u", TrackOptions::default()).await.expect_err("fails closed");
    assert_eq!((closed.status, closed.code.as_str()), (0, "network_error"), "{closed}");
    let open = with(true).track("u", TrackOptions::default()).await.expect("fails open");
    assert_eq!(open, Track::Degraded);
    assert!(open.is_allowed());

    // A silent api is a failure of the service too.
    let silent = Server::silent().await;
    let timing_out =
        via(&platform, silent.url(), 0).timeout(Duration::from_millis(200)).fail_open(true);
    let degraded = timing_out.build().expect("a client").track("u", TrackOptions::default()).await;
    assert_eq!(degraded, Ok(Track::Degraded));
}

#[tokio::test]
async fn fail_open_never_hides_the_callers_own_mistake() {
    let platform = Platform::register(Quotas::Raised).await;
    let client = crate::builder(&platform).fail_open(true).build().expect("a client");
    let error = client.track("not a valid id", TrackOptions::default()).await.expect_err("refused");
    assert_eq!((error.status, error.code.as_str()), (400, "invalid_request"), "{error}");
    assert!(error.request_id.is_some(), "the answer's X-Request-Id");
}
