//! A developer's platform: everything it owns ([`PlatformRecord`]), its plan with us and
//! that plan's quota, and the rules that change them.

use crate::api_key::ApiKeyHash;
use crate::billing::{
    account_hash, BillingAccount, ConnectRecord, PricedTiers, StoredAccount, PREVIEW_END_USERS,
};
use crate::error::Invalid;
use crate::ids::{Email, PlatformId};
use crate::keys::KeySet;
use crate::tier::{Tier, TierConfig};
use crate::webhook::{Admission, EventLedger, PlanChange, StripeEvent, PLATFORM_PLAN_KEY};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

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

/// Everything a platform owns that can change, as its Durable Object keeps it: the one
/// writer of each field. Plan (written by plan events) and mode (derived from the
/// connection, written by Connect) are separate fields, so neither can undo the other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformRecord {
    pub platform_id: PlatformId,
    pub name: Option<String>,
    pub email: Email,
    pub created_at: String,
    /// The Clerk user who owns it, for a platform created in the dashboard.
    #[serde(default)]
    pub developer: Option<String>,
    pub keys: KeySet,
    #[serde(default)]
    pub subscription: Subscription,
    #[serde(default)]
    pub connection: Option<Connection>,
    pub tiers: Vec<Tier>,
    /// The account the tiers' Stripe prices were created on (`None`: none yet).
    #[serde(default)]
    pub prices_account: Option<StoredAccount>,
}

/// The platform's own subscription to dream-api.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub plan: PlatformPlan,
    pub subscription_id: Option<String>,
    pub customer_id: Option<String>,
    pub ledger: EventLedger,
}

/// The developer's connected Stripe account: sealed (it holds OAuth tokens), with the
/// SHA-256 of its id so events can be matched without opening it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub sealed: String,
    pub account_hash: String,
    /// Stripe says the account can take payments (OAuth: at once; onboarding: once
    /// `charges_enabled`). Only a ready account puts the platform in production.
    pub ready: bool,
}

impl PlatformRecord {
    /// A new platform: free, in preview, with the default tiers and `key` as its key.
    pub fn new(
        platform_id: PlatformId,
        email: Email,
        name: Option<String>,
        key: ApiKeyHash,
        created_at: String,
    ) -> Self {
        Self {
            platform_id,
            name,
            email,
            created_at,
            developer: None,
            keys: KeySet::new(key),
            subscription: Subscription::default(),
            connection: None,
            tiers: TierConfig::default_for_new_platform().tiers().to_vec(),
            prices_account: None,
        }
    }

    pub fn mode(&self) -> Mode {
        match &self.connection {
            Some(c) if c.ready => Mode::Production,
            _ => Mode::Preview,
        }
    }

    pub fn plan(&self) -> PlatformPlan {
        self.subscription.plan
    }

    /// Makes `connection` the platform's connected account (a ready one puts it in
    /// production). Returns the connection it replaced when that was another account,
    /// whose index entry must go.
    pub fn connect(&mut self, connection: Connection) -> Option<Connection> {
        let hash = connection.account_hash.clone();
        self.connection.replace(connection).filter(|old| old.account_hash != hash)
    }

    /// Forgets the connected account, back to preview: any account when `account_hash`
    /// is `None` (the developer disconnects), or only that one (Stripe says that
    /// account revoked us; a later connection to another account stays). Returns what it
    /// removed.
    pub fn disconnect(&mut self, account_hash: Option<&str>) -> Option<Connection> {
        let matches = |c: &Connection| account_hash.is_none_or(|h| h == c.account_hash);
        if self.connection.as_ref().is_some_and(matches) {
            self.connection.take()
        } else {
            None
        }
    }

    pub fn tier_config(&self) -> TierConfig {
        TierConfig::from_stored(self.tiers.clone())
            .unwrap_or_else(TierConfig::default_for_new_platform)
    }

    pub fn priced_tiers(&self) -> PricedTiers {
        PricedTiers { config: self.tier_config(), account: self.prices_account.clone() }
    }

    /// How many distinct end-users the platform may serve: [`PREVIEW_END_USERS`] in
    /// preview, any number in production.
    pub fn preview_limit(&self) -> Option<u64> {
        (self.mode() == Mode::Preview).then_some(PREVIEW_END_USERS)
    }

    /// Whether `account` is the one the platform's end-users pay through now: ours in
    /// preview, the ready connected account in production.
    pub fn pays_through(&self, account: &BillingAccount) -> bool {
        match (account, &self.connection) {
            (BillingAccount::Ours, _) => self.mode() == Mode::Preview,
            (BillingAccount::Connected(id), Some(c)) => {
                c.ready && c.account_hash == account_hash(id)
            }
            (BillingAccount::Connected(_), None) => false,
        }
    }
}

/// The account a platform's end-users pay through: ours in preview; in production the
/// connected account (`connected`, opened), which must be ready. `None` for production
/// without a ready account, which the platform's object never allows (a connection
/// puts a platform in production only once its account is ready).
pub fn paying_account(mode: Mode, connected: Option<&ConnectRecord>) -> Option<BillingAccount> {
    match (mode, connected) {
        (Mode::Preview, _) => Some(BillingAccount::Ours),
        (Mode::Production, Some(record)) if record.ready => {
            Some(BillingAccount::Connected(record.stripe_user_id.clone()))
        }
        (Mode::Production, _) => None,
    }
}

impl Subscription {
    /// Applies a plan event at most once and in order per subscription. A purchase
    /// makes the plan paid; a cancellation makes it free only if it ends the current
    /// subscription, so the end of an old subscription never undoes a newer one.
    /// Whether anything changed.
    pub fn apply(&mut self, event: &StripeEvent, change: &PlanChange) -> bool {
        if self.ledger.admit(event) != Admission::Apply {
            return false;
        }
        match change {
            PlanChange::Subscribed { subscription_id, customer_id, .. } => {
                self.plan = PlatformPlan::Paid;
                if subscription_id.is_some() {
                    self.subscription_id.clone_from(subscription_id);
                }
                if customer_id.is_some() {
                    self.customer_id.clone_from(customer_id);
                }
                true
            }
            PlanChange::Cancelled { subscription_id, .. } => {
                if self.subscription_id.as_deref() != Some(subscription_id.as_str()) {
                    return false;
                }
                self.plan = PlatformPlan::Free;
                self.subscription_id = None;
                true
            }
        }
    }

    pub fn subscribed(&self) -> bool {
        self.subscription_id.is_some()
    }
}

/// The Stripe Checkout parameters of a platform's own paid plan (`STRIPE_PRICE_ID`):
/// both the session and the subscription name the platform, which is what the plan
/// events are applied to.
pub fn plan_checkout_params(
    platform: &PlatformId,
    price_id: &str,
    success_url: &str,
    cancel_url: &str,
    email: Option<&str>,
) -> Value {
    let metadata = json!({ PLATFORM_PLAN_KEY: platform });
    let mut params = json!({
        "mode": "subscription",
        "line_items": [{ "price": price_id, "quantity": 1 }],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": platform,
        "metadata": metadata,
        "subscription_data": { "metadata": metadata },
    });
    if let Some(email) = email {
        params["customer_email"] = json!(email);
    }
    params
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
    use crate::billing::StripeAccountId;

    fn connected(ready: bool) -> ConnectRecord {
        ConnectRecord {
            stripe_user_id: StripeAccountId::parse("acct_1Dev").expect("an account id"),
            via: crate::billing::ConnectedVia::OAuth,
            livemode: false,
            ready,
            access_token: None,
            refresh_token: None,
            scope: None,
            connected_at: "2026-12-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn end_users_pay_through_ours_in_preview_and_the_ready_connected_account_in_production() {
        assert_eq!(paying_account(Mode::Preview, None), Some(BillingAccount::Ours));
        assert_eq!(
            paying_account(Mode::Preview, Some(&connected(true))),
            Some(BillingAccount::Ours)
        );
        assert_eq!(
            paying_account(Mode::Production, Some(&connected(true))),
            Some(BillingAccount::Connected(StripeAccountId::parse("acct_1Dev").unwrap()))
        );
        assert_eq!(paying_account(Mode::Production, Some(&connected(false))), None);
        assert_eq!(paying_account(Mode::Production, None), None);
    }

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

    use crate::api_key::ApiKey;
    use crate::random::seeded;
    use serde_json::json;

    fn connection(hash: &str, ready: bool) -> Connection {
        Connection { sealed: "v1.sealed".into(), account_hash: hash.into(), ready }
    }

    #[test]
    fn a_ready_connection_puts_the_platform_in_production_and_reports_the_account_it_replaced() {
        let mut r = record();
        assert_eq!(r.connect(connection("aaa", false)), None);
        assert_eq!(r.mode(), Mode::Preview);
        assert_eq!(r.connect(connection("aaa", true)), None, "the same account, now ready");
        assert_eq!(r.mode(), Mode::Production);
        let replaced = r.connect(connection("bbb", true));
        assert_eq!(replaced.map(|c| c.account_hash), Some("aaa".to_string()));
    }

    #[test]
    fn disconnecting_removes_any_account_or_only_the_one_named() {
        let mut r = record();
        r.connect(connection("bbb", true));
        assert_eq!(r.disconnect(Some("aaa")), None, "another account revoked us: no change");
        assert_eq!(r.mode(), Mode::Production);
        let removed = r.disconnect(Some("bbb"));
        assert_eq!(removed.map(|c| c.account_hash), Some("bbb".to_string()));
        assert_eq!(r.mode(), Mode::Preview);
        r.connect(connection("ccc", true));
        assert!(r.disconnect(None).is_some());
        assert_eq!(r.disconnect(None), None, "nothing left to remove");
    }

    fn record() -> PlatformRecord {
        PlatformRecord::new(
            PlatformId::parse("plt_0123456789ab").expect("valid"),
            Email::parse("ada@example.com").expect("valid"),
            None,
            ApiKey::generate(&mut seeded(1)).hash(),
            "2026-11-25T00:00:00Z".into(),
        )
    }

    fn event(id: &str, kind: &str, created: i64, object: Value) -> StripeEvent {
        let body = json!({"id": id, "type": kind, "created": created, "data": {"object": object}});
        StripeEvent::parse(body.to_string().as_bytes()).expect("valid")
    }

    fn subscribed(id: &str, sub: &str, created: i64) -> (StripeEvent, PlanChange) {
        let e = event(
            id,
            "checkout.session.completed",
            created,
            json!({"subscription": sub, "customer": "cus_1"}),
        );
        let change = PlanChange::Subscribed {
            platform: None,
            subscription_id: Some(sub.into()),
            customer_id: Some("cus_1".into()),
        };
        (e, change)
    }

    fn cancelled(id: &str, sub: &str, created: i64) -> (StripeEvent, PlanChange) {
        let e = event(id, "customer.subscription.deleted", created, json!({"id": sub}));
        (e, PlanChange::Cancelled { platform: None, subscription_id: sub.into() })
    }

    #[test]
    fn a_new_platform_is_free_in_preview_with_the_default_tiers() {
        let r = record();
        assert_eq!((r.plan(), r.mode()), (PlatformPlan::Free, Mode::Preview));
        assert_eq!(r.tier_config(), TierConfig::default_for_new_platform());
        assert_eq!(r.preview_limit(), Some(PREVIEW_END_USERS));
    }

    #[test]
    fn the_mode_follows_a_ready_connection_and_the_plan_never_touches_it() {
        let mut r = record();
        let (e, change) = subscribed("evt_1", "sub_1", 10);
        assert!(r.subscription.apply(&e, &change));
        r.connection =
            Some(Connection { sealed: "v1.x".into(), account_hash: "h".into(), ready: false });
        assert_eq!((r.plan(), r.mode()), (PlatformPlan::Paid, Mode::Preview), "not ready yet");
        r.connection.as_mut().expect("set").ready = true;
        assert_eq!((r.plan(), r.mode()), (PlatformPlan::Paid, Mode::Production));
        assert_eq!(r.preview_limit(), None);
    }

    #[test]
    fn cancelling_a_subscription_that_is_not_the_current_one_changes_nothing() {
        let mut s = Subscription::default();
        let (e, c) = subscribed("evt_1", "sub_old", 10);
        s.apply(&e, &c);
        let (e, c) = subscribed("evt_2", "sub_new", 20);
        s.apply(&e, &c);
        let (e, c) = cancelled("evt_3", "sub_old", 30);
        assert!(!s.apply(&e, &c));
        assert_eq!((s.plan, s.subscription_id.as_deref()), (PlatformPlan::Paid, Some("sub_new")));
        let (e, c) = cancelled("evt_4", "sub_new", 40);
        assert!(s.apply(&e, &c));
        assert_eq!((s.plan, s.subscribed()), (PlatformPlan::Free, false));
    }

    #[test]
    fn a_plan_event_is_applied_once_and_an_older_one_changes_nothing() {
        let mut s = Subscription::default();
        let (e, c) = subscribed("evt_1", "sub_1", 10);
        assert!(s.apply(&e, &c));
        assert!(!s.apply(&e, &c), "a duplicate");
        let (late, c) = cancelled("evt_0", "sub_1", 5);
        let (newer, c2) = subscribed("evt_2", "sub_1", 20);
        s.apply(&newer, &c2);
        assert!(!s.apply(&late, &c), "older than the last event applied to sub_1");
        assert_eq!(s.plan, PlatformPlan::Paid);
    }

    #[test]
    fn only_the_account_end_users_pay_through_now_may_price_tiers() {
        let mut r = record();
        let acct = StripeAccountId::parse("acct_1Dev").expect("valid");
        assert!(r.pays_through(&BillingAccount::Ours));
        assert!(!r.pays_through(&BillingAccount::Connected(acct.clone())));
        r.connection = Some(Connection {
            sealed: "v1.x".into(),
            account_hash: account_hash(&acct),
            ready: true,
        });
        assert!(r.pays_through(&BillingAccount::Connected(acct)));
        assert!(!r.pays_through(&BillingAccount::Ours));
    }

    #[test]
    fn the_plan_checkout_names_the_platform_on_the_session_and_the_subscription() {
        let p = PlatformId::parse("plt_0123456789ab").expect("valid");
        let params = plan_checkout_params(
            &p,
            "price_1",
            "https://a.test/ok",
            "https://a.test/",
            Some("a@b.co"),
        );
        assert_eq!(params["metadata"][PLATFORM_PLAN_KEY], "plt_0123456789ab");
        assert_eq!(params["subscription_data"]["metadata"][PLATFORM_PLAN_KEY], "plt_0123456789ab");
        assert_eq!(params["customer_email"], "a@b.co");
    }
}
