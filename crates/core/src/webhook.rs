//! Stripe webhook events: what they mean for plans, and which of them to apply.
//!
//! Stripe delivers at least once and in no particular order, so every event passes
//! the [`EventLedger`] first: an `event.id` is applied at most once, and an event older
//! (by `created`) than the last one applied to the same subscription changes nothing.
//! Unknown event types mean nothing ([`plan_change`] returns `None`).

use crate::error::Invalid;
use crate::ids::PlatformId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};

/// The parts of a Stripe event the rules read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StripeEvent {
    pub id: String,
    pub kind: String,
    /// Seconds since the epoch.
    pub created: i64,
    /// The connected account, for Connect events.
    pub account: Option<String>,
    /// `data.object`.
    pub object: Value,
}

impl StripeEvent {
    pub fn parse(body: &[u8]) -> Result<Self, Invalid> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| Invalid::new("the event is not JSON"))?;
        let str_field = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).map(str::to_string);
        let id = str_field(&value, "id")
            .filter(|id| id.starts_with("evt_"))
            .ok_or_else(|| Invalid::new("the event has no evt_ id"))?;
        let kind =
            str_field(&value, "type").ok_or_else(|| Invalid::new("the event has no type"))?;
        let created = value
            .get("created")
            .and_then(Value::as_i64)
            .ok_or_else(|| Invalid::new("the event has no created time"))?;
        let object = value
            .get("data")
            .and_then(|d| d.get("object"))
            .cloned()
            .ok_or_else(|| Invalid::new("the event has no data.object"))?;
        Ok(Self { id, kind, created, account: str_field(&value, "account"), object })
    }

    fn object_str(&self, path: &[&str]) -> Option<&str> {
        path.iter().try_fold(&self.object, |v, key| v.get(key))?.as_str()
    }

    /// The subscription the event is about: the checkout session's subscription, or
    /// the subscription itself.
    pub fn subscription_id(&self) -> Option<&str> {
        match self.kind.as_str() {
            "checkout.session.completed" => self.object_str(&["subscription"]),
            k if k.starts_with("customer.subscription.") => self.object_str(&["id"]),
            _ => None,
        }
    }
}

/// The metadata key that marks a developer's own dream-api subscription and names its
/// platform, on the checkout session and on the subscription. (End-users' subscriptions
/// carry `platformId` and `userId` instead: `billing::end_user_event`.)
pub const PLATFORM_PLAN_KEY: &str = "dreamApiPlatform";

/// A change of a platform's own plan that an event asks for. `platform` is the
/// platform the subscription was bought for (`None`: not a dream-api plan event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PlanChange {
    /// A checkout completed: the platform now has a subscription.
    Subscribed {
        platform: Option<PlatformId>,
        subscription_id: Option<String>,
        customer_id: Option<String>,
    },
    /// The subscription stopped being active, or was deleted.
    Cancelled { platform: Option<PlatformId>, subscription_id: String },
}

impl PlanChange {
    pub fn platform(&self) -> Option<&PlatformId> {
        match self {
            Self::Subscribed { platform, .. } | Self::Cancelled { platform, .. } => {
                platform.as_ref()
            }
        }
    }
}

/// Subscription statuses under which a plan (ours or an end-user's tier) stays paid.
const PAID_STATUSES: [&str; 3] = ["active", "trialing", "past_due"];

/// Whether a subscription in Stripe's `status` still pays for its plan: `active`,
/// `trialing` and `past_due` (Stripe is still retrying the payment) do; `canceled`,
/// `unpaid`, `incomplete_expired` and the rest do not.
pub fn subscription_is_paid(status: &str) -> bool {
    PAID_STATUSES.contains(&status)
}

pub fn plan_change(event: &StripeEvent) -> Option<PlanChange> {
    let owned = |s: Option<&str>| s.map(str::to_string);
    let platform =
        event.object_str(&["metadata", PLATFORM_PLAN_KEY]).and_then(|p| PlatformId::parse(p).ok());
    match event.kind.as_str() {
        "checkout.session.completed" => Some(PlanChange::Subscribed {
            platform,
            subscription_id: owned(event.object_str(&["subscription"])),
            customer_id: owned(event.object_str(&["customer"])),
        }),
        "customer.subscription.updated"
            if !event.object_str(&["status"]).is_some_and(subscription_is_paid) =>
        {
            Some(PlanChange::Cancelled {
                platform,
                subscription_id: owned(event.object_str(&["id"]))?,
            })
        }
        "customer.subscription.deleted" => Some(PlanChange::Cancelled {
            platform,
            subscription_id: owned(event.object_str(&["id"]))?,
        }),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Admission {
    Apply,
    /// This `event.id` was applied before.
    Duplicate,
    /// A newer event about the same subscription was applied already.
    OutOfOrder,
}

/// What has been applied: recent event ids and, per subscription, the `created` of the
/// newest event applied. Stored by whoever applies events (it serializes to JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLedger {
    seen: VecDeque<String>,
    newest: BTreeMap<String, i64>,
}

impl EventLedger {
    /// Stripe retries for up to three days; this many ids cover far more than that for
    /// one account's plan events.
    pub const REMEMBERED_IDS: usize = 10_000;

    /// Whether `event` should be applied, without recording anything.
    pub fn check(&self, event: &StripeEvent) -> Admission {
        if self.seen.iter().any(|id| *id == event.id) {
            return Admission::Duplicate;
        }
        match event.subscription_id().and_then(|sub| self.newest.get(sub)) {
            Some(&newest) if event.created < newest => Admission::OutOfOrder,
            _ => Admission::Apply,
        }
    }

    /// Records `event` as applied.
    pub fn record(&mut self, event: &StripeEvent) {
        if let Some(sub) = event.subscription_id() {
            let newest = self.newest.entry(sub.to_string()).or_insert(event.created);
            *newest = (*newest).max(event.created);
        }
        self.seen.push_back(event.id.clone());
        if self.seen.len() > Self::REMEMBERED_IDS {
            self.seen.pop_front();
        }
    }

    /// [`Self::check`], then [`Self::record`] if it is to be applied. (A caller whose
    /// applying can fail checks first and records after, so a failure can be retried.)
    pub fn admit(&mut self, event: &StripeEvent) -> Admission {
        let admission = self.check(event);
        if admission == Admission::Apply {
            self.record(event);
        }
        admission
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_pays_while_active_trialing_or_past_due_and_not_after() {
        for status in ["active", "trialing", "past_due"] {
            assert!(subscription_is_paid(status), "{status}");
        }
        for status in ["canceled", "unpaid", "incomplete", "incomplete_expired", "paused", ""] {
            assert!(!subscription_is_paid(status), "{status}");
        }
    }
    use serde_json::json;

    fn event(id: &str, kind: &str, created: i64, object: Value) -> StripeEvent {
        let body = json!({"id": id, "object": "event", "type": kind, "created": created, "data": {"object": object}});
        StripeEvent::parse(body.to_string().as_bytes()).expect("valid event")
    }

    fn checkout(id: &str, created: i64) -> StripeEvent {
        event(
            id,
            "checkout.session.completed",
            created,
            json!({
                "id": "cs_1", "client_reference_id": "plt_0123456789ab", "subscription": "sub_1", "customer": "cus_1",
                "metadata": {"dreamApiPlatform": "plt_0123456789ab"}
            }),
        )
    }

    fn sub_event(id: &str, kind: &str, created: i64, status: &str) -> StripeEvent {
        event(
            id,
            kind,
            created,
            json!({"id": "sub_1", "status": status, "metadata": {"dreamApiPlatform": "plt_0123456789ab"}}),
        )
    }

    fn platform() -> Option<PlatformId> {
        PlatformId::parse("plt_0123456789ab").ok()
    }

    #[test]
    fn a_completed_checkout_subscribes_the_platform_it_names() {
        assert_eq!(
            plan_change(&checkout("evt_1", 100)),
            Some(PlanChange::Subscribed {
                platform: platform(),
                subscription_id: Some("sub_1".into()),
                customer_id: Some("cus_1".into()),
            })
        );
    }

    #[test]
    fn an_inactive_or_deleted_subscription_cancels_and_an_active_one_changes_nothing() {
        let cancelled =
            Some(PlanChange::Cancelled { platform: platform(), subscription_id: "sub_1".into() });
        assert_eq!(
            plan_change(&sub_event("evt_2", "customer.subscription.updated", 1, "canceled")),
            cancelled
        );
        assert_eq!(
            plan_change(&sub_event("evt_3", "customer.subscription.updated", 1, "unpaid")),
            cancelled
        );
        assert_eq!(
            plan_change(&sub_event("evt_4", "customer.subscription.deleted", 1, "canceled")),
            cancelled
        );
        assert_eq!(
            plan_change(&sub_event("evt_5", "customer.subscription.updated", 1, "active")),
            None
        );
    }

    #[test]
    fn unknown_event_types_mean_nothing() {
        assert_eq!(plan_change(&event("evt_6", "invoice.paid", 1, json!({"id": "in_1"}))), None);
    }

    #[test]
    fn an_event_id_is_applied_once() {
        let mut ledger = EventLedger::default();
        assert_eq!(ledger.admit(&checkout("evt_1", 100)), Admission::Apply);
        assert_eq!(ledger.admit(&checkout("evt_1", 100)), Admission::Duplicate);
    }

    #[test]
    fn an_event_older_than_the_last_applied_to_its_subscription_changes_nothing() {
        let mut ledger = EventLedger::default();
        assert_eq!(
            ledger.admit(&sub_event("evt_del", "customer.subscription.deleted", 200, "canceled")),
            Admission::Apply
        );
        assert_eq!(ledger.admit(&checkout("evt_old", 100)), Admission::OutOfOrder);
        assert_eq!(
            ledger.admit(&sub_event("evt_same", "customer.subscription.updated", 200, "canceled")),
            Admission::Apply,
            "same second is not older"
        );
        let other = event("evt_other", "customer.subscription.deleted", 50, json!({"id": "sub_2"}));
        assert_eq!(ledger.admit(&other), Admission::Apply, "ordering is per subscription");
    }

    #[test]
    fn checking_records_nothing_so_a_failed_apply_can_be_retried() {
        let mut ledger = EventLedger::default();
        let event = checkout("evt_1", 100);
        assert_eq!(ledger.check(&event), Admission::Apply);
        assert_eq!(ledger.check(&event), Admission::Apply, "not recorded by a check");
        ledger.record(&event);
        assert_eq!(ledger.check(&event), Admission::Duplicate);
    }

    #[test]
    fn the_ledger_remembers_a_bounded_number_of_ids() {
        let mut ledger = EventLedger::default();
        for i in 0..EventLedger::REMEMBERED_IDS + 5 {
            ledger.admit(&event(&format!("evt_{i}"), "invoice.paid", 1, json!({})));
        }
        assert_eq!(ledger.seen.len(), EventLedger::REMEMBERED_IDS);
        assert_eq!(
            ledger.admit(&event("evt_0", "invoice.paid", 1, json!({}))),
            Admission::Apply,
            "the oldest was forgotten"
        );
    }

    #[test]
    fn events_without_id_type_created_or_object_are_refused() {
        for bad in [
            json!({"type": "x", "created": 1, "data": {"object": {}}}),
            json!({"id": "nope", "type": "x", "created": 1, "data": {"object": {}}}),
            json!({"id": "evt_1", "created": 1, "data": {"object": {}}}),
            json!({"id": "evt_1", "type": "x", "data": {"object": {}}}),
            json!({"id": "evt_1", "type": "x", "created": 1}),
        ] {
            assert!(StripeEvent::parse(bad.to_string().as_bytes()).is_err(), "{bad}");
        }
        assert!(StripeEvent::parse(b"not json").is_err());
    }
}
