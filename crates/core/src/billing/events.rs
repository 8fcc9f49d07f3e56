//! What a Stripe event means for one end-user, and their billing applied once and in
//! order; the preview's end-user limit.

use super::{BillingAccount, StoredAccount, StripeAccountId};
use crate::ids::{PlatformId, UserId};
use crate::tier::{Tier, TierConfig};
use crate::webhook::{subscription_is_paid, Admission, EventLedger, StripeEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
            let paid = text("/status").is_some_and(|s| subscription_is_paid(&s));
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
    pub customer_account: Option<StoredAccount>,
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
                from_current
                    || (from.is_some()
                        && from.as_ref().map(StoredAccount::from) == self.customer_account)
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
                    self.customer_account = from.as_ref().map(StoredAccount::from);
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
