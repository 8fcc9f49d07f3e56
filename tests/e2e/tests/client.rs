//! End-to-end tests of the Rust client (`dream-api-client`) and its axum example,
//! against the api workers the harness starts (see `dream_e2e`). The modules live in
//! `client/`.

#[path = "client/axum_example.rs"]
mod axum_example;
#[path = "client/end_user.rs"]
mod end_user;
#[path = "client/metering.rs"]
mod metering;
#[path = "client/operations.rs"]
mod operations;
#[path = "client/proxy.rs"]
mod proxy;
#[path = "client/resilience.rs"]
mod resilience;

use dream_api_client::{Client, ClientBuilder, Track, TrackOptions, Usage};
use dream_e2e::{base_url, Platform};

/// A client builder for `platform`'s key, on its worker.
pub fn builder(platform: &Platform) -> ClientBuilder {
    Client::builder().api_key(&platform.key).base_url(base_url(platform.quotas))
}

/// A client for `platform`, with the defaults.
pub fn client(platform: &Platform) -> Client {
    builder(platform).build().expect("a client")
}

/// Tracks one call that must be allowed; the end-user's usage after it.
pub async fn allowed(client: &Client, user: &str) -> Usage {
    match client.track(user, TrackOptions::default()).await {
        Ok(Track::Allowed { usage, .. }) => usage,
        other => panic!("expected an allowed track for {user}, got {other:?}"),
    }
}
