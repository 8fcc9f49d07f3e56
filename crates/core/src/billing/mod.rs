//! End-user billing: which Stripe account a platform's end-users pay through, which
//! tiers need a Stripe price, what a Stripe event means for an end-user, and the
//! preview limit.
//!
//! A platform starts in preview: its end-users pay through dream-api's own Stripe
//! account (objects tagged `metadata[platformId]`), for at most [`PREVIEW_END_USERS`]
//! end-users. Once the developer connects a Stripe account, it is in production: every
//! Stripe call carries `Stripe-Account: acct_…`, and Connect events must name that
//! account.
//!
//! - [`accounts`]: Stripe account ids, ours-or-connected, the sealed Connect record.
//! - [`pricing`]: which tiers need a Stripe price, and checkout's parameters.
//! - [`events`]: what a Stripe event means for an end-user, applied once and in order.

mod accounts;
mod events;
mod pricing;
#[cfg(test)]
mod tests;

pub use accounts::*;
pub use events::*;
pub use pricing::*;

/// How many distinct end-users a platform in preview may serve.
pub const PREVIEW_END_USERS: u64 = 100;
