//! End-user billing: which Stripe account a platform's end-users pay through, which
//! tiers need a Stripe price, what a Stripe event means for an end-user, and the
//! preview limit.
//!
//! A platform starts in preview: its end-users pay through dream-api's own Stripe
//! account (objects tagged `metadata[platformId]`), for at most [`PREVIEW_END_USERS`]
//! end-users. Once the developer connects a Stripe account, it is in production: every
//! Stripe call carries `Stripe-Account: acct_…`, and Connect events must name that
//! account.

use crate::error::Invalid;
use crate::ids::{PlatformId, TierId, UserId};
use crate::tier::{Tier, TierConfig};
use crate::webhook::{Admission, EventLedger, StripeEvent};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt;

/// How many distinct end-users a platform in preview may serve.
pub const PREVIEW_END_USERS: u64 = 100;

/// A connected Stripe account id, `acct_…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StripeAccountId(String);

impl StripeAccountId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let rest = s.strip_prefix("acct_").unwrap_or_default();
        if rest.is_empty() || rest.len() > 64 || !rest.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Invalid::new(
                "a Stripe account id looks like acct_ followed by letters and digits",
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StripeAccountId {
    type Error = Invalid;
    fn try_from(s: String) -> Result<Self, Invalid> {
        Self::parse(&s)
    }
}

impl From<StripeAccountId> for String {
    fn from(id: StripeAccountId) -> Self {
        id.0
    }
}

impl fmt::Display for StripeAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Stripe account a platform's end-users pay through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BillingAccount {
    /// dream-api's own account (preview).
    Ours,
    /// The developer's connected account (production).
    Connected(StripeAccountId),
}

impl BillingAccount {
    /// The `Stripe-Account` header to send, if any.
    pub fn header(&self) -> Option<&str> {
        match self {
            Self::Ours => None,
            Self::Connected(id) => Some(id.as_str()),
        }
    }

    /// The account a webhook event came from (its `account` field, absent for ours).
    pub fn of_event(event_account: Option<&str>) -> Option<Self> {
        match event_account {
            None => Some(Self::Ours),
            Some(id) => StripeAccountId::parse(id).ok().map(Self::Connected),
        }
    }

    fn label(&self) -> &str {
        self.header().unwrap_or("ours")
    }
}

/// A Stripe secret issued to us for a connected account. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StripeToken(String);

impl StripeToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for StripeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StripeToken(…)")
    }
}

/// How the account was connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectedVia {
    /// Connect OAuth: the developer approved us on their existing account.
    OAuth,
    /// Account Links: we created the account and Stripe onboarded the developer.
    Onboarding,
}

/// `platform:{id}:stripe`: the connected account, stored sealed
/// (`crate::sealed`), never in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectRecord {
    pub stripe_user_id: StripeAccountId,
    pub via: ConnectedVia,
    pub livemode: bool,
    /// Whether the account can take payments (OAuth: at once; onboarding: once Stripe
    /// says `charges_enabled`). The platform is in production only when it is.
    pub ready: bool,
    pub access_token: Option<StripeToken>,
    pub refresh_token: Option<StripeToken>,
    pub scope: Option<String>,
    pub connected_at: String,
}

/// What `POST /oauth/token` answers (the parts kept).
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthToken {
    pub access_token: StripeToken,
    pub refresh_token: Option<StripeToken>,
    pub stripe_user_id: StripeAccountId,
    #[serde(default)]
    pub livemode: bool,
    pub scope: Option<String>,
}

impl OAuthToken {
    pub fn into_record(self, connected_at: String) -> ConnectRecord {
        ConnectRecord {
            stripe_user_id: self.stripe_user_id,
            via: ConnectedVia::OAuth,
            livemode: self.livemode,
            ready: true,
            access_token: Some(self.access_token),
            refresh_token: self.refresh_token,
            scope: self.scope,
            connected_at,
        }
    }
}

/// A tier configuration as stored: the tiers and the account their `stripePriceId`s
/// were created on (`None`: none yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedTiers {
    pub config: TierConfig,
    pub account: Option<BillingAccount>,
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
    let same_account = previous.account.as_ref() == Some(account);
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

/// A URL an end-user is sent back to: absolute `http` or `https`.
pub fn return_url(field: &str, value: &str) -> Result<String, Invalid> {
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 2048
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(value.to_string())
    } else {
        Err(Invalid::new(format!("{field} must be an absolute http(s) URL")))
    }
}

/// What an event means for one end-user of one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndUserEvent {
    pub platform_id: PlatformId,
    pub user_id: UserId,
    pub change: EndUserChange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EndUserChange {
    /// A subscription is (still) paid for: move to the tier of `price_id`.
    Subscribed {
        price_id: Option<String>,
        tier_id: Option<String>,
        customer_id: Option<String>,
        subscription_id: Option<String>,
    },
    /// The subscription stopped: back to the first tier.
    Cancelled { subscription_id: String },
}

const PAID_STATUSES: [&str; 3] = ["active", "trialing", "past_due"];

/// The connected account that revoked our access (`account.application.deauthorized`,
/// sent when a developer disconnects dream-api from Stripe's own dashboard).
pub fn deauthorized_account(event: &StripeEvent) -> Option<StripeAccountId> {
    if event.kind != "account.application.deauthorized" {
        return None;
    }
    StripeAccountId::parse(event.account.as_deref()?).ok()
}

/// Whether an event is about an end-user's subscription (its object names a platform
/// and end-user in its metadata), as opposed to a developer's own.
pub fn is_end_user_event(event: &StripeEvent) -> bool {
    event.object.pointer("/metadata/platformId").is_some()
}

/// The end-user change an event asks for; `None` for events about anything else.
pub fn end_user_event(event: &StripeEvent) -> Option<EndUserEvent> {
    let o = &event.object;
    let text = |path: &str| o.pointer(path).and_then(Value::as_str).map(str::to_string);
    let platform_id = PlatformId::parse(&text("/metadata/platformId")?).ok()?;
    let user = text("/metadata/userId").or_else(|| text("/client_reference_id"))?;
    let user_id = UserId::parse(&user).ok()?;
    let change = match event.kind.as_str() {
        "checkout.session.completed" => EndUserChange::Subscribed {
            price_id: text("/metadata/priceId"),
            tier_id: text("/metadata/tierId"),
            customer_id: text("/customer"),
            subscription_id: text("/subscription"),
        },
        "customer.subscription.updated" | "customer.subscription.deleted" => {
            let subscription_id = text("/id")?;
            let paid = text("/status").is_some_and(|s| PAID_STATUSES.contains(&s.as_str()));
            if event.kind.ends_with("deleted") || !paid {
                EndUserChange::Cancelled { subscription_id }
            } else {
                let price_id =
                    text("/items/data/0/price/id").or_else(|| text("/items/data/0/price"));
                EndUserChange::Subscribed {
                    price_id,
                    tier_id: text("/metadata/tierId"),
                    customer_id: text("/customer"),
                    subscription_id: Some(subscription_id),
                }
            }
        }
        _ => return None,
    };
    Some(EndUserEvent { platform_id, user_id, change })
}

/// The tier an end-user bought: the one whose `stripePriceId` is the price paid, else
/// the paid tier the checkout was for (its price may have changed since).
pub fn tier_bought<'a>(
    config: &'a TierConfig,
    price_id: Option<&str>,
    tier_id: Option<&str>,
) -> Option<&'a Tier> {
    let by_price = price_id
        .and_then(|p| config.tiers().iter().find(|t| t.stripe_price_id.as_deref() == Some(p)));
    by_price.or_else(|| tier_id.and_then(|id| config.find(id)).filter(|t| !t.is_free()))
}

/// An end-user's billing, kept by their meter: their Stripe customer and current
/// subscription, and which events have been applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndUserBilling {
    pub customer_id: Option<String>,
    /// The account the customer exists on (a customer of ours is unknown to a connected
    /// account, and the other way round).
    pub customer_account: Option<BillingAccount>,
    pub subscription_id: Option<String>,
    pub ledger: EventLedger,
}

/// What applying an event does to the end-user's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PlanUpdate {
    /// Move to this tier.
    Set { tier: String },
    /// Back to the first tier.
    Reset,
    /// Nothing changes (a duplicate, an older event, or one about a subscription that
    /// is no longer theirs).
    Keep,
}

impl EndUserBilling {
    /// Applies `event` at most once and in order per subscription. `tier` is the tier
    /// bought, for a subscription. `current` is the account the platform's end-users
    /// pay through now: a purchase counts only there, while the end of a subscription
    /// counts on the account the subscription lives on, which may be an earlier one
    /// (bought in preview, before the developer connected Stripe). A cancellation moves
    /// the end-user back only if it is their current subscription, so a new
    /// subscription is never undone by the end of an old one.
    ///
    /// `None`: a purchase of a tier that does not exist (yet): nothing is recorded, so
    /// Stripe's retry can apply it once the tier is there.
    pub fn apply(
        &mut self,
        event: &StripeEvent,
        change: &EndUserChange,
        tier: Option<&str>,
        current: &BillingAccount,
    ) -> Option<PlanUpdate> {
        let from = BillingAccount::of_event(event.account.as_deref());
        let from_current = from.as_ref() == Some(current);
        let accepted = match change {
            EndUserChange::Subscribed { .. } => from_current,
            EndUserChange::Cancelled { .. } => {
                from_current || (from.is_some() && from == self.customer_account)
            }
        };
        if !accepted || self.ledger.check(event) != Admission::Apply {
            return Some(PlanUpdate::Keep);
        }
        let update = match change {
            EndUserChange::Subscribed { customer_id, subscription_id, .. } => {
                let tier = tier?;
                if customer_id.is_some() {
                    self.customer_id.clone_from(customer_id);
                    self.customer_account = from;
                }
                if subscription_id.is_some() {
                    self.subscription_id.clone_from(subscription_id);
                }
                PlanUpdate::Set { tier: tier.to_string() }
            }
            EndUserChange::Cancelled { subscription_id } => {
                if self.subscription_id.as_deref() == Some(subscription_id.as_str()) {
                    self.subscription_id = None;
                    PlanUpdate::Reset
                } else {
                    PlanUpdate::Keep
                }
            }
        };
        self.ledger.record(event);
        Some(update)
    }
}

/// Whether a platform in preview may serve one more end-user: one it already serves
/// always; a new one while fewer than `limit` are served. `None`: no limit (production).
pub fn preview_admits(already_served: bool, served: u64, limit: Option<u64>) -> bool {
    already_served || limit.is_none_or(|l| served < l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform() -> PlatformId {
        PlatformId::parse("plt_0123456789ab").expect("valid")
    }

    fn tiers(v: Value) -> TierConfig {
        TierConfig::from_request(v.as_array().expect("array")).expect("valid")
    }

    fn free_and_pro(pro_cents: u64) -> TierConfig {
        tiers(json!([
            {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
            {"id": "pro", "name": "Pro", "priceCents": pro_cents, "limit": 50},
        ]))
    }

    fn acct(id: &str) -> BillingAccount {
        BillingAccount::Connected(StripeAccountId::parse(id).expect("valid"))
    }

    fn event(
        id: &str,
        kind: &str,
        created: i64,
        account: Option<&str>,
        object: Value,
    ) -> StripeEvent {
        StripeEvent {
            id: id.into(),
            kind: kind.into(),
            created,
            account: account.map(Into::into),
            object,
        }
    }

    fn completed(id: &str, created: i64, sub: &str) -> StripeEvent {
        event(
            id,
            "checkout.session.completed",
            created,
            None,
            json!({"client_reference_id": "u1", "customer": "cus_1", "subscription": sub,
                   "metadata": {"platformId": "plt_0123456789ab", "userId": "u1", "tierId": "pro", "priceId": "price_pro"}}),
        )
    }

    fn deleted(id: &str, created: i64, sub: &str) -> StripeEvent {
        event(
            id,
            "customer.subscription.deleted",
            created,
            None,
            json!({"id": sub, "status": "canceled", "metadata": {"platformId": "plt_0123456789ab", "userId": "u1"}}),
        )
    }

    #[test]
    fn a_paid_tier_without_a_price_gets_one_with_stable_idempotency_keys() {
        let none = PricedTiers { config: TierConfig::default_for_new_platform(), account: None };
        let (config, create) =
            plan_prices(&platform(), &none, &free_and_pro(900), &BillingAccount::Ours);
        assert_eq!(create.len(), 1);
        assert_eq!(create[0].tier_id.as_str(), "pro");
        assert_eq!(create[0].price["unit_amount"], 900);
        assert_eq!(create[0].price["recurring"]["interval"], "month");
        assert_eq!(create[0].product["metadata"]["platformId"], "plt_0123456789ab");
        assert!(config.tiers().iter().all(|t| t.stripe_price_id.is_none()));
        let (_, again) = plan_prices(&platform(), &none, &free_and_pro(900), &BillingAccount::Ours);
        assert_eq!(again, create, "a retry asks for the same objects under the same keys");
    }

    #[test]
    fn a_tier_keeps_its_price_until_its_price_or_the_account_changes() {
        let priced =
            with_price(&free_and_pro(900), &TierId::parse("pro").expect("id"), "price_pro");
        let previous = PricedTiers { config: priced, account: Some(BillingAccount::Ours) };
        let (same, create) =
            plan_prices(&platform(), &previous, &free_and_pro(900), &BillingAccount::Ours);
        assert!(create.is_empty());
        assert_eq!(same.find("pro").and_then(|t| t.stripe_price_id.as_deref()), Some("price_pro"));

        let (changed, create) =
            plan_prices(&platform(), &previous, &free_and_pro(1200), &BillingAccount::Ours);
        assert_eq!(create.len(), 1);
        assert_eq!(changed.find("pro").and_then(|t| t.stripe_price_id.clone()), None);
        assert_ne!(
            create[0].price_key,
            plan_prices(&platform(), &previous, &free_and_pro(900), &acct("acct_1")).1[0].price_key
        );

        let (moved, create) =
            plan_prices(&platform(), &previous, &free_and_pro(900), &acct("acct_1"));
        assert_eq!(create.len(), 1, "prices on our account cannot be used on a connected one");
        assert!(create[0].price_key.contains("acct_1"));
        assert_eq!(moved.find("pro").and_then(|t| t.stripe_price_id.clone()), None);
    }

    #[test]
    fn only_a_paid_tier_of_the_platform_can_be_checked_out() {
        let config = free_and_pro(900);
        assert!(checkout_tier(&config, "pro").is_ok());
        assert!(checkout_tier(&config, "free").unwrap_err().0.contains("free"));
        assert!(checkout_tier(&config, "gold").unwrap_err().0.contains("free, pro"));
    }

    #[test]
    fn checkout_names_the_platform_and_end_user_on_the_session_and_subscription() {
        let config = free_and_pro(900);
        let user = UserId::parse("u1").expect("valid");
        let tier = checkout_tier(&config, "pro").expect("paid");
        let params = CheckoutRequest {
            platform: &platform(),
            user: &user,
            tier,
            price_id: "price_pro",
            success_url: "https://app.example/ok",
            cancel_url: "https://app.example/no",
            email: Some("e@x.co"),
            customer: None,
        }
        .params();
        assert_eq!(params["client_reference_id"], "u1");
        assert_eq!(params["metadata"]["platformId"], "plt_0123456789ab");
        assert_eq!(params["subscription_data"]["metadata"]["userId"], "u1");
        assert_eq!(params["line_items"][0]["price"], "price_pro");
        assert_eq!(params["customer_email"], "e@x.co");
    }

    #[test]
    fn return_urls_must_be_absolute_http() {
        assert!(return_url("successUrl", "https://a.example/x?y=1").is_ok());
        for bad in ["/relative", "javascript:alert(1)", "ftp://x", "https://a b", ""] {
            assert!(return_url("successUrl", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn events_name_their_end_user_and_the_change() {
        let e = end_user_event(&completed("evt_1", 1, "sub_1")).expect("an end-user event");
        assert_eq!((e.platform_id.as_str(), e.user_id.as_str()), ("plt_0123456789ab", "u1"));
        assert!(
            matches!(e.change, EndUserChange::Subscribed { ref price_id, .. } if price_id.as_deref() == Some("price_pro"))
        );
        let cancel = end_user_event(&deleted("evt_2", 2, "sub_1")).expect("an end-user event");
        assert_eq!(cancel.change, EndUserChange::Cancelled { subscription_id: "sub_1".into() });
        let unpaid = event(
            "evt_3",
            "customer.subscription.updated",
            3,
            None,
            json!({"id": "sub_1", "status": "unpaid", "metadata": {"platformId": "plt_0123456789ab", "userId": "u1"}}),
        );
        assert!(matches!(
            end_user_event(&unpaid).map(|e| e.change),
            Some(EndUserChange::Cancelled { .. })
        ));
    }

    #[test]
    fn a_developer_s_own_subscription_is_not_an_end_user_event() {
        let developer = event(
            "evt_1",
            "checkout.session.completed",
            1,
            None,
            json!({"client_reference_id": "user_abc", "subscription": "sub_1", "metadata": {}}),
        );
        assert!(!is_end_user_event(&developer));
        assert_eq!(end_user_event(&developer), None);
        assert!(is_end_user_event(&completed("evt_2", 1, "sub_1")));
    }

    #[test]
    fn an_event_s_account_is_ours_when_absent_and_the_connected_one_when_named() {
        assert_eq!(BillingAccount::of_event(None), Some(BillingAccount::Ours));
        assert_eq!(BillingAccount::of_event(Some("acct_1")), Some(acct("acct_1")));
        assert_eq!(BillingAccount::of_event(Some("not-an-account")), None);
    }

    #[test]
    fn the_tier_bought_is_found_by_price_then_by_the_paid_tier_named() {
        let config =
            with_price(&free_and_pro(900), &TierId::parse("pro").expect("id"), "price_pro");
        assert_eq!(
            tier_bought(&config, Some("price_pro"), None).map(|t| t.id.as_str()),
            Some("pro")
        );
        assert_eq!(
            tier_bought(&config, Some("price_old"), Some("pro")).map(|t| t.id.as_str()),
            Some("pro")
        );
        assert_eq!(tier_bought(&config, Some("price_old"), Some("free")), None);
        assert_eq!(tier_bought(&config, None, Some("gone")), None);
    }

    #[test]
    fn billing_events_apply_once_in_order_and_only_to_the_current_subscription() {
        let mut b = EndUserBilling::default();
        let sub = |e: &StripeEvent| end_user_event(e).expect("end-user").change;
        let c1 = completed("evt_1", 10, "sub_1");
        assert_eq!(
            b.apply(&c1, &sub(&c1), Some("pro"), &BillingAccount::Ours),
            Some(PlanUpdate::Set { tier: "pro".into() })
        );
        assert_eq!(b.customer_id.as_deref(), Some("cus_1"));
        assert_eq!(b.customer_account, Some(BillingAccount::Ours));
        assert_eq!(
            b.apply(&c1, &sub(&c1), Some("pro"), &BillingAccount::Ours),
            Some(PlanUpdate::Keep),
            "a duplicate"
        );

        let c2 = completed("evt_2", 20, "sub_2");
        b.apply(&c2, &sub(&c2), Some("pro"), &BillingAccount::Ours);
        let old_end = deleted("evt_3", 30, "sub_1");
        assert_eq!(
            b.apply(&old_end, &sub(&old_end), None, &BillingAccount::Ours),
            Some(PlanUpdate::Keep),
            "not the current subscription"
        );
        let end = deleted("evt_4", 40, "sub_2");
        assert_eq!(b.apply(&end, &sub(&end), None, &BillingAccount::Ours), Some(PlanUpdate::Reset));
        assert_eq!(b.subscription_id, None);
    }

    #[test]
    fn a_purchase_of_a_tier_not_there_yet_is_not_recorded_so_a_retry_applies_it() {
        let mut b = EndUserBilling::default();
        let change = |e: &StripeEvent| end_user_event(e).expect("end-user").change;
        let bought = completed("evt_1", 10, "sub_1");
        assert_eq!(b.apply(&bought, &change(&bought), None, &BillingAccount::Ours), None);
        assert_eq!(b.subscription_id, None, "nothing recorded");
        assert_eq!(
            b.apply(&bought, &change(&bought), Some("pro"), &BillingAccount::Ours),
            Some(PlanUpdate::Set { tier: "pro".into() })
        );
    }

    #[test]
    fn a_cancellation_delivered_before_its_checkout_leaves_the_end_user_on_the_first_tier() {
        let mut b = EndUserBilling::default();
        let end = deleted("evt_2", 20, "sub_1");
        let start = completed("evt_1", 10, "sub_1");
        let change = |e: &StripeEvent| end_user_event(e).expect("end-user").change;
        assert_eq!(
            b.apply(&end, &change(&end), None, &BillingAccount::Ours),
            Some(PlanUpdate::Keep)
        );
        assert_eq!(
            b.apply(&start, &change(&start), Some("pro"), &BillingAccount::Ours),
            Some(PlanUpdate::Keep)
        );
        assert_eq!(b.subscription_id, None);
    }

    #[test]
    fn a_subscription_bought_in_preview_still_ends_after_the_developer_connects_stripe() {
        let mut b = EndUserBilling::default();
        let change = |e: &StripeEvent| end_user_event(e).expect("end-user").change;
        let bought = completed("evt_1", 10, "sub_1");
        b.apply(&bought, &change(&bought), Some("pro"), &BillingAccount::Ours);
        let connected = acct("acct_1");

        let late_purchase = completed("evt_2", 20, "sub_2");
        assert_eq!(
            b.apply(&late_purchase, &change(&late_purchase), Some("pro"), &connected),
            Some(PlanUpdate::Keep),
            "new purchases count only on the platform's current account"
        );
        let mut elsewhere = deleted("evt_3", 30, "sub_1");
        elsewhere.account = Some("acct_other".into());
        assert_eq!(
            b.apply(&elsewhere, &change(&elsewhere), None, &connected),
            Some(PlanUpdate::Keep)
        );
        let end = deleted("evt_4", 40, "sub_1");
        assert_eq!(
            b.apply(&end, &change(&end), None, &connected),
            Some(PlanUpdate::Reset),
            "the end comes from the account the subscription lives on"
        );
    }

    #[test]
    fn a_deauthorization_names_the_account_that_revoked_access() {
        let revoked = event(
            "evt_1",
            "account.application.deauthorized",
            1,
            Some("acct_1"),
            json!({"id": "ca_1"}),
        );
        assert_eq!(
            deauthorized_account(&revoked),
            Some(StripeAccountId::parse("acct_1").expect("valid"))
        );
        let unnamed = event("evt_2", "account.application.deauthorized", 1, None, json!({}));
        assert_eq!(deauthorized_account(&unnamed), None);
        assert_eq!(deauthorized_account(&completed("evt_3", 1, "sub_1")), None);
    }

    #[test]
    fn preview_serves_a_hundred_end_users_and_always_the_ones_it_serves() {
        let limit = Some(PREVIEW_END_USERS);
        assert!(preview_admits(false, 99, limit));
        assert!(!preview_admits(false, 100, limit));
        assert!(preview_admits(true, 100, limit));
        assert!(preview_admits(false, 1_000_000, None));
    }

    #[test]
    fn account_ids_and_tokens_keep_their_shape_and_tokens_never_print() {
        assert!(StripeAccountId::parse("acct_1Abc").is_ok());
        for bad in ["acct_", "cus_1", "acct_a-b", ""] {
            assert!(StripeAccountId::parse(bad).is_err(), "{bad}");
        }
        let token = StripeToken::new("sk_test_secret");
        assert!(!format!("{token:?}").contains("secret"));
        let record = OAuthToken {
            access_token: token,
            refresh_token: None,
            stripe_user_id: StripeAccountId::parse("acct_1").expect("valid"),
            livemode: false,
            scope: Some("read_write".into()),
        }
        .into_record("2026-11-25T00:00:00Z".into());
        assert!(!format!("{record:?}").contains("sk_test_secret"));
        assert!(record.ready);
    }
}
