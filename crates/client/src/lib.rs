//! `dream-api-client`: dream-api from Rust, natively or inside a Worker
//! (`wasm32-unknown-unknown`, where requests go through `fetch`).
//!
//! ```no_run
//! # async fn run() -> Result<(), dream_api_client::Error> {
//! use dream_api_client::{Client, Track, TrackOptions};
//!
//! let dream = Client::new("pk_live_…", "https://api.example.com")?;
//! match dream.track("user_123", TrackOptions::default()).await? {
//!     Track::Allowed { usage, .. } => println!("go ahead; {:?} left", usage.remaining),
//!     Track::Denied { reason, .. } => println!("refused: {}", reason.code()),
//!     Track::Degraded => println!("dream-api unreachable; failing open"),
//! }
//! # Ok(()) }
//! ```
//!
//! Every method returns `Result<_, Error>`. Calls are retried (by default twice) with
//! exponential backoff and jitter after a connection failure, a timeout, a `5xx` or a
//! `429`, waiting at least the answer's `Retry-After`. `track` always sends an
//! idempotency key (its own when the caller gives none) and every retry reuses it, so a
//! retried call is counted once; its refusals (`tier_limit_reached`,
//! `platform_quota_reached`, `rate_limited`) are [`Track::Denied`] and are not retried.
//!
//! [`Client::users`] is a [`Stream`](futures_util::Stream) of pages, each a
//! `Vec<UserUsage>`, fetched one at a time as the stream is polled.
//!
//! The wire types `dream-core` defines are used as they are: [`Usage`], [`Tier`],
//! [`Stats`], [`LogPage`], [`Revenue`], [`Mode`], [`PlatformPlan`], [`UserId`], [`TierId`],
//! [`PlatformId`], [`IdempotencyKey`], [`ApiKey`].

mod client;
mod error;
mod retry;
mod runtime;
mod track;
mod transport;
mod types;

pub use client::{
    Client, ClientBuilder, TokenProvider, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, MAX_USERS_PAGE,
};
pub use error::Error;
pub use runtime::{BoxFuture, MaybeSend, MaybeSendSync};
pub use track::{DenyReason, Track, TrackOptions};
pub use types::{
    CheckoutRequest, CheckoutSession, LogQuery, PlatformInfo, PortalRequest, PortalSession,
    Rotation, UserUsage,
};

pub use dream_core::api_key::ApiKey;
pub use dream_core::ids::{IdempotencyKey, PlatformId, TierId, UserId};
pub use dream_core::logs::LogEntry;
pub use dream_core::meter::Usage;
pub use dream_core::platform::{Mode, PlatformPlan};
pub use dream_core::protocol::activity::LogPage;
pub use dream_core::revenue::{Revenue, RevenueDay, TierRevenue};
pub use dream_core::stats::{DailyCount, Stats};
pub use dream_core::tier::Tier;
