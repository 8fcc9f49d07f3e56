//! End-user token mode: the client speaks as a signed-in end-user with their Clerk
//! session token, fetched for each call.

use crate::client;
use crate::proxy::Server;
use dream_api_client::{Client, Error, Track, TrackOptions};
use dream_e2e::{base_url, ClerkStandIn, Platform, Quotas};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

#[tokio::test]
async fn an_end_user_meters_and_reads_only_their_own_usage_with_a_token_asked_for_each_call() {
    let platform = Platform::with_free_limit(Quotas::Raised, 3).await;
    let end_user = ClerkStandIn::from_env().end_user_of(&platform.id).await;
    let asked = Arc::new(AtomicU32::new(0));
    let counter = asked.clone();
    let token = end_user.token.clone();
    let provider = move || {
        counter.fetch_add(1, Ordering::SeqCst);
        let token = token.clone();
        async move { Ok::<_, Error>(token) }
    };
    let as_end_user = Client::with_token(provider, &base_url(Quotas::Raised)).expect("a client");
    let me = end_user.user_id.as_str();

    let tracked = as_end_user.track(me, TrackOptions::default()).await.expect("an answer");
    assert!(
        matches!(&tracked, Track::Allowed { user_id, .. } if user_id.as_str() == me),
        "{tracked:?}"
    );
    let usage = as_end_user.usage(me).await.expect("their own usage");
    assert_eq!(usage.usage.count, 1);
    assert_eq!(asked.load(Ordering::SeqCst), 2, "one token per call");
    assert_eq!(client(&platform).usage(me).await.expect("usage").usage.count, 1);

    let someone_else = as_end_user.usage("someone-else").await.expect_err("not theirs");
    assert_eq!((someone_else.status, someone_else.code.as_str()), (403, "forbidden"));
    let tiers = as_end_user.tiers().await.expect_err("developer only");
    assert_eq!((tiers.status, tiers.code.as_str()), (403, "forbidden"), "{tiers}");
}

#[tokio::test]
async fn a_token_provider_that_fails_ends_the_call_with_its_error_and_sends_nothing() {
    let listener = Server::silent().await;
    let signed_out = || async {
        let message = "No session.".to_string();
        Err(Error { status: 0, code: "signed_out".into(), message, request_id: None })
    };
    let as_nobody = Client::with_token(signed_out, &listener.url()).expect("a client");
    let error = as_nobody.track("x", TrackOptions::default()).await.expect_err("no token");
    assert_eq!(error.code, "signed_out");
    assert_eq!(listener.connections(), 0, "nothing was sent");
}
