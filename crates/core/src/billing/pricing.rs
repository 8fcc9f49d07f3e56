//! Which of a platform's tiers need a Stripe product and price, and the parameters
//! of an end-user's checkout.

use super::{BillingAccount, StoredAccount};
use crate::error::Invalid;
use crate::ids::{PlatformId, TierId, UserId};
use crate::tier::{Tier, TierConfig};
use serde_json::{json, Value};

/// A tier configuration as stored: the tiers and the account their `stripePriceId`s
/// were created on (`None`: none yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedTiers {
    pub config: TierConfig,
    pub account: Option<StoredAccount>,
}

impl PricedTiers {
    /// Whether end-users paying through `account` can buy every tier as priced: there is
    /// no paid tier, or the prices were created on that account. Otherwise (the platform
    /// connected or disconnected Stripe since) the tiers must be priced there first.
    pub fn priced_on(&self, account: &BillingAccount) -> bool {
        let has_paid = self.config.tiers().iter().any(|t| !t.is_free());
        !has_paid || self.account == Some(StoredAccount::from(account))
    }
}

/// A Stripe product and monthly price to create for a paid tier. The idempotency keys
/// depend only on what is being created, so a retried `PUT /v1/tiers` creates nothing
/// twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceToCreate {
    pub tier_id: TierId,
    pub product: Value,
    pub product_key: String,
    /// The price's parameters, except `product`, which is the created product's id.
    pub price: Value,
    pub price_key: String,
}

/// The tiers of `next` with the Stripe prices they can keep from `previous`, and the
/// prices still to create: a paid tier keeps its price when the tier existed with the
/// same id and price on the same account; otherwise it gets a new one. Free tiers have
/// no price.
pub fn plan_prices(
    platform: &PlatformId,
    previous: &PricedTiers,
    next: &TierConfig,
    account: &BillingAccount,
) -> (TierConfig, Vec<PriceToCreate>) {
    let same_account = previous.account == Some(StoredAccount::from(account));
    let mut to_create = vec![];
    let tiers = next
        .tiers()
        .iter()
        .map(|tier| {
            let kept = previous
                .config
                .find(tier.id.as_str())
                .filter(|old| same_account && old.price_cents == tier.price_cents)
                .and_then(|old| old.stripe_price_id.clone());
            let stripe_price_id = if tier.is_free() { None } else { kept };
            if !tier.is_free() && stripe_price_id.is_none() {
                to_create.push(price_to_create(platform, tier, account));
            }
            Tier { stripe_price_id, ..tier.clone() }
        })
        .collect();
    (TierConfig::from_stored(tiers).unwrap_or_else(|| next.clone()), to_create)
}

fn price_to_create(platform: &PlatformId, tier: &Tier, account: &BillingAccount) -> PriceToCreate {
    let key = format!("tier:{platform}:{}:{}:{}", account.label(), tier.id, tier.price_cents);
    let metadata = json!({ "platformId": platform, "tierId": tier.id });
    PriceToCreate {
        tier_id: tier.id.clone(),
        product: json!({ "name": tier.name, "metadata": metadata }),
        product_key: format!("{key}:product"),
        price: json!({
            "unit_amount": tier.price_cents,
            "currency": "usd",
            "recurring": { "interval": "month" },
            "metadata": metadata,
        }),
        price_key: format!("{key}:price"),
    }
}

/// Sets the Stripe price of tier `id` (a price created by [`plan_prices`]).
pub fn with_price(config: &TierConfig, id: &TierId, price_id: &str) -> TierConfig {
    let tiers = config
        .tiers()
        .iter()
        .map(|t| Tier {
            stripe_price_id: if t.id == *id {
                Some(price_id.to_string())
            } else {
                t.stripe_price_id.clone()
            },
            ..t.clone()
        })
        .collect();
    TierConfig::from_stored(tiers).unwrap_or_else(|| config.clone())
}

/// The paid tier an end-user may check out for, or the message of a `400`.
pub fn checkout_tier<'a>(config: &'a TierConfig, id: &str) -> Result<&'a Tier, Invalid> {
    let tier = config.find(id).ok_or_else(|| {
        let ids: Vec<&str> = config.tiers().iter().map(|t| t.id.as_str()).collect();
        Invalid::new(format!("tier must be one of this platform's tiers: {}", ids.join(", ")))
    })?;
    if tier.is_free() {
        return Err(Invalid::new(format!("tier \"{id}\" is free: there is nothing to check out")));
    }
    Ok(tier)
}

/// The Checkout Session parameters for an end-user buying `tier` at `price_id`. The
/// session and its subscription both name the platform and the end-user, which is how
/// the webhook finds them again.
pub struct CheckoutRequest<'a> {
    pub platform: &'a PlatformId,
    pub user: &'a UserId,
    pub tier: &'a Tier,
    pub price_id: &'a str,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    pub email: Option<&'a str>,
    pub customer: Option<&'a str>,
}

impl CheckoutRequest<'_> {
    pub fn params(&self) -> Value {
        let metadata = json!({
            "platformId": self.platform,
            "userId": self.user,
            "tierId": self.tier.id,
            "priceId": self.price_id,
        });
        let mut params = json!({
            "mode": "subscription",
            "line_items": [{ "price": self.price_id, "quantity": 1 }],
            "success_url": self.success_url,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.user,
            "metadata": metadata,
            "subscription_data": { "metadata": metadata },
        });
        if let Some(customer) = self.customer {
            params["customer"] = json!(customer);
        } else if let Some(email) = self.email {
            params["customer_email"] = json!(email);
        }
        params
    }
}

/// A URL an end-user is sent back to: absolute `http` or `https`, at most 2048
/// characters, each one RFC 3986 allows in a URI (an international domain or path is
/// written encoded: punycode, `%XX`), as the documents' `format: uri` says.
pub fn return_url(field: &str, value: &str) -> Result<String, Invalid> {
    let uri_char = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c);
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 2048
        && value.chars().all(uri_char);
    if ok {
        Ok(value.to_string())
    } else {
        Err(Invalid::new(format!("{field} must be an absolute http(s) URL")))
    }
}
