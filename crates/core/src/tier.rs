//! A platform's tiers: what end-users can be on, with their monthly limits.

mod check;
mod problem;

pub use check::TierCheck;
pub use problem::{ProblemKind, TierField, TierProblem};

use crate::error::Invalid;
use crate::ids::TierId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const MAX_TIERS: usize = 20;
pub const MAX_PRICE_CENTS: u64 = 99_999_999;
pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_FEATURES: usize = 20;
pub const MAX_FEATURE_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    pub id: TierId,
    pub name: String,
    pub price_cents: u64,
    /// Calls per billing period; `None` is unlimited.
    pub limit: Option<u64>,
    pub features: Vec<String>,
    pub popular: bool,
    /// Set by the server when the tier's Stripe price exists; never taken from input.
    pub stripe_price_id: Option<String>,
}

impl Tier {
    pub fn is_free(&self) -> bool {
        self.price_cents == 0
    }
}

/// An ordered, validated list of tiers. The first is where new end-users start, and
/// is free. Holding one proves the rules below hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierConfig {
    tiers: Vec<Tier>,
}

impl TierConfig {
    /// The configuration of a new platform: one free tier of 100 calls.
    pub fn default_for_new_platform() -> Self {
        Self {
            tiers: vec![Tier {
                id: TierId::parse("free").unwrap_or_else(|_| unreachable!("a valid slug")),
                name: "Free".into(),
                price_cents: 0,
                limit: Some(100),
                features: vec![],
                popular: false,
                stripe_price_id: None,
            }],
        }
    }

    /// Reads `tiers` from a request body, checking every rule; the message of the first
    /// broken rule names the tier and field (`tiers[1].limit …`).
    pub fn from_request(tiers: &[Value]) -> Result<Self, Invalid> {
        Self::check(tiers).into_config().map_err(|problems| {
            problems
                .into_iter()
                .next()
                .map_or_else(|| Invalid::new("tiers are invalid"), Invalid::from)
        })
    }

    /// Checks `tiers` as [`Self::from_request`] does, finding every broken rule and
    /// each tier that is valid on its own.
    pub fn check(tiers: &[Value]) -> TierCheck {
        TierCheck::of(tiers)
    }

    /// Reads a configuration this service stored earlier (already validated).
    pub fn from_stored(tiers: Vec<Tier>) -> Option<Self> {
        (!tiers.is_empty() && tiers[0].is_free()).then_some(Self { tiers })
    }

    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    pub fn first(&self) -> &Tier {
        &self.tiers[0]
    }

    pub fn find(&self, id: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.id.as_str() == id)
    }
}

#[cfg(test)]
mod tests;
