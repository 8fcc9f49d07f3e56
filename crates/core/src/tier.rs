//! A platform's tiers: what end-users can be on, with their monthly limits.

use crate::error::Invalid;
use crate::ids::TierId;
use crate::json::{whole_number, JsonObject};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const MAX_TIERS: usize = 20;
pub const MAX_PRICE_CENTS: u64 = 99_999_999;
const MAX_NAME_CHARS: usize = 64;
const MAX_FEATURES: usize = 20;
const MAX_FEATURE_CHARS: usize = 200;

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
        if tiers.is_empty() || tiers.len() > MAX_TIERS {
            return Err(Invalid::new(format!("tiers must hold 1 to {MAX_TIERS} tiers")));
        }
        let mut parsed: Vec<Tier> = Vec::with_capacity(tiers.len());
        for (i, value) in tiers.iter().enumerate() {
            let tier = parse_tier(value).map_err(|e| Invalid::new(format!("tiers[{i}].{e}")))?;
            if parsed.iter().any(|t| t.id == tier.id) {
                return Err(Invalid::new(format!("tiers[{i}].id \"{}\" is used twice", tier.id)));
            }
            parsed.push(tier);
        }
        if !parsed[0].is_free() {
            return Err(Invalid::new(
                "tiers[0].priceCents must be 0: new end-users start on the first tier, which is free",
            ));
        }
        Ok(Self { tiers: parsed })
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

fn parse_tier(value: &Value) -> Result<Tier, String> {
    let Value::Object(map) = value else {
        return Err("must be an object".into());
    };
    let o = JsonObject::from_map(map.clone());
    let id = TierId::parse(o.required_str("id").map_err(|e| e.0)?)
        .map_err(|_| "id must be 1 to 32 characters of a-z, 0-9 and -".to_string())?;
    let name = o.required_str("name").map_err(|e| e.0)?.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("name must be 1 to {MAX_NAME_CHARS} characters"));
    }
    let price_cents = o
        .optional_int("priceCents", 0, MAX_PRICE_CENTS)
        .map_err(|e| e.0)?
        .ok_or("priceCents is required")?;
    let limit = match o.get("limit") {
        None if map.contains_key("limit") => None,
        None => return Err("limit is required (an integer ≥ 0, or null for unlimited)".into()),
        Some(v) => {
            Some(whole_number(v).ok_or("limit must be an integer ≥ 0, or null for unlimited")?)
        }
    };
    let features = match o.get("features") {
        None => vec![],
        Some(Value::Array(items)) if items.len() <= MAX_FEATURES => items
            .iter()
            .map(|f| match f {
                Value::String(s) if s.chars().count() <= MAX_FEATURE_CHARS => Ok(s.clone()),
                _ => Err(format!(
                    "features must be strings of at most {MAX_FEATURE_CHARS} characters"
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(format!("features must be an array of at most {MAX_FEATURES} strings"))
        }
    };
    let popular = o.optional_bool("popular").map_err(|e| e.0)?.unwrap_or(false);
    Ok(Tier { id, name, price_cents, limit, features, popular, stripe_price_id: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: Value) -> Result<TierConfig, Invalid> {
        TierConfig::from_request(v.as_array().expect("array"))
    }

    fn free_and_pro() -> Value {
        json!([
            {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
            {"id": "pro", "name": "Pro", "priceCents": 900, "limit": 50, "features": ["Priority"], "popular": true},
            {"id": "max", "name": "Max", "priceCents": 2900, "limit": null},
        ])
    }

    #[test]
    fn a_valid_list_keeps_its_order_and_fields() {
        let c = config(free_and_pro()).expect("valid");
        assert_eq!(c.tiers().len(), 3);
        assert_eq!(c.first().id.as_str(), "free");
        assert_eq!(c.find("pro").map(|t| t.limit), Some(Some(50)));
        assert_eq!(c.find("max").map(|t| t.limit), Some(None));
        assert!(c.find("pro").is_some_and(|t| t.popular && t.features == ["Priority"]));
    }

    #[test]
    fn the_server_sets_stripe_price_ids_never_the_request() {
        let c = config(json!([{"id": "free", "name": "F", "priceCents": 0, "limit": 1, "stripePriceId": "price_x"}]))
            .expect("valid");
        assert_eq!(c.first().stripe_price_id, None);
    }

    #[test]
    fn the_first_tier_must_be_free() {
        let err = config(json!([{"id": "pro", "name": "Pro", "priceCents": 100, "limit": 5}]))
            .unwrap_err();
        assert!(err.0.starts_with("tiers[0].priceCents must be 0"), "{err}");
    }

    #[test]
    fn ids_must_be_unique_slugs() {
        let dup = config(json!([
            {"id": "free", "name": "A", "priceCents": 0, "limit": 1},
            {"id": "free", "name": "B", "priceCents": 0, "limit": 2},
        ]));
        assert_eq!(dup.unwrap_err().0, "tiers[1].id \"free\" is used twice");
        let bad = config(json!([{"id": "Free!", "name": "A", "priceCents": 0, "limit": 1}]));
        assert!(bad.unwrap_err().0.starts_with("tiers[0].id must be"));
    }

    #[test]
    fn every_broken_field_is_named_in_the_message() {
        let cases = [
            (json!({"id": "f", "priceCents": 0, "limit": 1}), "tiers[0].name is required"),
            (json!({"id": "f", "name": " ", "priceCents": 0, "limit": 1}), "tiers[0].name must be"),
            (
                json!({"id": "f", "name": "F", "priceCents": -1, "limit": 1}),
                "tiers[0].priceCents must be",
            ),
            (
                json!({"id": "f", "name": "F", "priceCents": "0", "limit": 1}),
                "tiers[0].priceCents must be",
            ),
            (json!({"id": "f", "name": "F", "limit": 1}), "tiers[0].priceCents is required"),
            (json!({"id": "f", "name": "F", "priceCents": 0}), "tiers[0].limit is required"),
            (
                json!({"id": "f", "name": "F", "priceCents": 0, "limit": -5}),
                "tiers[0].limit must be",
            ),
            (
                json!({"id": "f", "name": "F", "priceCents": 0, "limit": 2.5}),
                "tiers[0].limit must be",
            ),
            (
                json!({"id": "f", "name": "F", "priceCents": 0, "limit": 1, "features": "x"}),
                "tiers[0].features must be",
            ),
            (
                json!({"id": "f", "name": "F", "priceCents": 0, "limit": 1, "features": [1]}),
                "tiers[0].features must be",
            ),
            (
                json!({"id": "f", "name": "F", "priceCents": 0, "limit": 1, "popular": "yes"}),
                "tiers[0].popular must be",
            ),
            (json!("free"), "tiers[0].must be an object"),
        ];
        for (tier, expected) in cases {
            let err = config(json!([tier])).unwrap_err();
            assert!(err.0.starts_with(expected), "{tier}: got {err}");
        }
    }

    #[test]
    fn between_one_and_twenty_tiers_are_allowed() {
        assert!(config(json!([])).is_err());
        let many: Vec<Value> = (0..21)
            .map(|i| json!({"id": format!("t{i}"), "name": "T", "priceCents": 0, "limit": 1}))
            .collect();
        assert!(config(Value::Array(many[..20].to_vec())).is_ok());
        assert!(config(Value::Array(many)).is_err());
    }

    #[test]
    fn the_default_is_one_free_tier_of_100_calls() {
        let c = TierConfig::default_for_new_platform();
        assert_eq!(
            serde_json::to_value(c.tiers()).expect("json"),
            json!([
                {"id": "free", "name": "Free", "priceCents": 0, "limit": 100, "features": [], "popular": false, "stripePriceId": null}
            ])
        );
    }
}
