//! dream-api's domain logic, with no I/O: every rule the workers apply lives here and
//! is tested natively. Time, randomness and stored state are arguments.
//!
//! - [`access`]: the headers every answer carries, and each request's log line.
//! - [`account`]: creating a platform.
//! - [`keys`]: a platform's key set: which key may call, rotation with a grace period.
//! - [`api_key`]: `pk_live_` keys — generate, checksum, parse, hash.
//! - [`ids`]: identifiers and other validated strings (`PlatformId`, `UserId`, …).
//! - [`tier`]: a platform's tiers and their validation.
//! - [`period`]: the UTC-month billing period.
//! - [`meter`]: exact metering — per-end-user usage, rate windows, platform quota.
//! - [`alerts`]: usage-alert thresholds, and which counts cross them (the meter raises
//!   them; `webhooks` delivers them).
//! - [`platform`]: everything a platform owns (`PlatformRecord`), its plan and quota
//!   configuration, and the plan events' rule.
//! - [`stats`]: daily usage statistics.
//! - [`logs`]: the platform's request log — what an entry says, the ring's bounds.
//! - [`revenue`]: what paid tiers earn — subscriptions from plan updates, MRR by day.
//! - [`command`]: one typed way to call a Durable Object (`Command`, `PlatformCommand`).
//! - [`protocol`]: every Durable Object command, and the rules of a `track`'s answer.
//! - [`cors`]: which origins may read responses.
//! - [`cache`]: the in-isolate read cache's expiry rules.
//! - [`storage`]: KV key names and stored records.
//! - [`routing`]: route tables with `404`/`405` answers.
//! - [`clerk`]: Clerk session-token verification and JWKS refresh rules.
//! - [`developer`]: a developer as Clerk's Backend API returns them, and the plan copy
//!   dream-api keeps in their `public_metadata`.
//! - [`oauth_state`]: signed, expiring Stripe Connect OAuth `state`.
//! - [`sealed`]: AES-256-GCM sealing of secrets at rest (Connect tokens).
//! - [`stripe`]: Stripe webhook signature verification.
//! - [`stripe_form`]: Stripe's `a[b][0]=v` form encoding, both ways.
//! - [`webhook`]: Stripe events → plan changes; which events to apply, once, in order.
//! - [`webhooks`]: webhooks to developers — signing, endpoints, usage alerts, delivery.
//! - [`json`]: request-body field parsing with messages a person can act on.
//! - [`error`]: the error codes of the HTTP contract.

pub mod access;
pub mod account;
pub mod alerts;
pub mod api_key;
pub mod billing;
pub mod cache;
pub mod clerk;
pub mod command;
pub mod cors;
pub mod developer;
pub mod error;
pub mod ids;
pub mod json;
pub mod keys;
pub mod logs;
pub mod meter;
pub mod oauth_state;
pub mod period;
pub mod platform;
pub mod protocol;
pub mod random;
pub mod revenue;
pub mod routing;
pub mod sealed;
pub mod stats;
pub mod storage;
pub mod stripe;
pub mod stripe_form;
pub mod tier;
pub mod time;
pub mod webhook;
pub mod webhooks;
