//! A developer's platform: its stored metadata, its plan with us and that plan's quota.

use crate::error::Invalid;
use crate::ids::{Email, PlatformId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The developer's plan with dream-api, which sets their platform's monthly quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformPlan {
    #[default]
    Free,
    Paid,
}

/// `preview`: end-user payments run on dream-api's Stripe account, for trying things out;
/// `production`: on the developer's own connected account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Preview,
    Production,
}

/// `platform:{id}:meta` in KV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformMeta {
    pub platform_id: PlatformId,
    pub name: Option<String>,
    pub email: Email,
    #[serde(default)]
    pub plan: PlatformPlan,
    #[serde(default)]
    pub mode: Mode,
    pub created_at: String,
}

/// `PLATFORM_TIERS`: each plan's monthly call quota (`null` limit = unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformTiers {
    pub free: Option<u64>,
    pub paid: Option<u64>,
}

impl Default for PlatformTiers {
    fn default() -> Self {
        Self { free: Some(5), paid: Some(500) }
    }
}

impl PlatformTiers {
    /// Parses `{"free": {"limit": 5}, "paid": {"limit": 500}}`; a plan left out keeps
    /// its default. An unset variable is the default.
    pub fn parse(config: Option<&str>) -> Result<Self, Invalid> {
        let mut tiers = Self::default();
        let Some(text) = config.filter(|t| !t.trim().is_empty()) else {
            return Ok(tiers);
        };
        let bad = || {
            Invalid::new("PLATFORM_TIERS must look like {\"free\": {\"limit\": 5}, \"paid\": {\"limit\": 500}}")
        };
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
            return Err(bad());
        };
        for (plan, value) in map {
            let limit = match value.get("limit") {
                Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().ok_or_else(bad)?),
                None => return Err(bad()),
            };
            match plan.as_str() {
                "free" => tiers.free = limit,
                "paid" => tiers.paid = limit,
                _ => return Err(bad()),
            }
        }
        Ok(tiers)
    }

    pub fn limit(&self, plan: PlatformPlan) -> Option<u64> {
        match plan {
            PlatformPlan::Free => self.free,
            PlatformPlan::Paid => self.paid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_tiers_default_to_five_free_and_five_hundred_paid() {
        let t = PlatformTiers::parse(None).expect("default");
        assert_eq!(t.limit(PlatformPlan::Free), Some(5));
        assert_eq!(t.limit(PlatformPlan::Paid), Some(500));
    }

    #[test]
    fn platform_tiers_can_be_raised_or_made_unlimited() {
        let t =
            PlatformTiers::parse(Some(r#"{"free": {"limit": 100000}, "paid": {"limit": null}}"#))
                .expect("valid");
        assert_eq!((t.free, t.paid), (Some(100_000), None));
        let partial = PlatformTiers::parse(Some(r#"{"free": {"limit": 7}}"#)).expect("valid");
        assert_eq!((partial.free, partial.paid), (Some(7), Some(500)));
    }

    #[test]
    fn malformed_platform_tiers_are_rejected_not_guessed() {
        for bad in [
            "[]",
            "{\"free\": 5}",
            "{\"gold\": {\"limit\": 1}}",
            "{\"free\": {\"limit\": -1}}",
            "nope",
        ] {
            assert!(PlatformTiers::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn metadata_written_before_plans_existed_reads_as_free_preview() {
        let meta: PlatformMeta = serde_json::from_str(
            r#"{"platformId": "plt_0123456789ab", "name": null, "email": "a@b.co", "createdAt": "2026-11-25T00:00:00Z"}"#,
        )
        .expect("valid");
        assert_eq!((meta.plan, meta.mode), (PlatformPlan::Free, Mode::Preview));
    }
}
