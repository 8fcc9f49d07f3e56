//! What a platform's paid tiers earn (API.md "Request log and revenue"), from the
//! end-user subscription events the platform's object already applies: a purchase
//! starts a subscription at the tier's price at that moment, a cancellation ends it, a
//! move between paid tiers changes its price. The object keeps the active
//! subscriptions and one row per day with something in it; [`assemble`] turns them
//! into the answer.
//!
//! MRR (monthly recurring revenue) is the sum of the active subscriptions' monthly
//! prices. Subscriptions a developer set by hand (`PUT /v1/users/{id}/plan`) are not
//! revenue: nobody pays for them.

use crate::billing::PlanUpdate;
use crate::tier::TierConfig;
use crate::time::{date, Instant};
use chrono::Duration;
use serde::{Deserialize, Serialize};

/// How many days `daily` covers.
pub const DAYS: u64 = 90;

/// An end-user's paid subscription: its tier and the monthly price it was bought at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub tier: String,
    pub price_cents: u64,
}

/// What one applied plan update does to the revenue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The end-user's subscription from now on (`None`: they have none).
    pub now: Option<Subscription>,
    pub new_subscriptions: u64,
    pub cancellations: u64,
}

/// The revenue effect of `update` for an end-user whose subscription was `before`;
/// `None` when it has none (a duplicate, a move to a free tier from a free tier, the
/// same paid tier again: a subscription keeps the price it was bought at, as Stripe
/// keeps billing a subscription's price after the developer changes the tier's).
pub fn change(
    before: Option<&Subscription>,
    update: &PlanUpdate,
    tiers: &TierConfig,
) -> Option<Change> {
    let now = match update {
        PlanUpdate::Keep => return None,
        PlanUpdate::Reset => None,
        PlanUpdate::Set { tier } => tiers
            .find(tier)
            .filter(|t| t.price_cents > 0)
            .map(|t| Subscription { tier: t.id.to_string(), price_cents: t.price_cents }),
    };
    if before.map(|b| &b.tier) == now.as_ref().map(|n| &n.tier) {
        return None;
    }
    let (new_subscriptions, cancellations) = match (before, &now) {
        (None, Some(_)) => (1, 0),
        (Some(_), None) => (0, 1),
        _ => (0, 0),
    };
    Some(Change { now, new_subscriptions, cancellations })
}

/// One day as the object keeps it: what happened and the MRR at the day's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevenueDay {
    pub date: String,
    pub new_subscriptions: u64,
    pub cancellations: u64,
    pub mrr_cents: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TierRevenue {
    pub tier: String,
    pub subscriptions: u64,
    pub mrr_cents: u64,
}

/// `GET /v1/revenue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revenue {
    pub currency: String,
    pub mrr_cents: u64,
    pub active_subscriptions: u64,
    pub by_tier: Vec<TierRevenue>,
    pub daily: Vec<RevenueDay>,
}

/// The first date of the [`DAYS`]-day window ending today; the object reads the days
/// from there on, and the last day before it (whose MRR the window starts from).
pub fn window_start(now: Instant) -> String {
    date(now - Duration::days(DAYS as i64 - 1))
}

/// The answer from the active subscriptions and the kept days (any order; a day before
/// the window only gives its MRR). Every day of the window is listed, oldest first: a
/// day with nothing in it carries the MRR of the last day that had something. Tiers
/// are listed in the platform's order, tiers it no longer has after them.
pub fn assemble(
    now: Instant,
    active: &[Subscription],
    kept: &[RevenueDay],
    tiers: &TierConfig,
) -> Revenue {
    let mut kept: Vec<&RevenueDay> = kept.iter().collect();
    kept.sort_by(|a, b| a.date.cmp(&b.date));
    let mut mrr = 0;
    let mut next = kept.iter().peekable();
    let mut daily = Vec::with_capacity(DAYS as usize);
    for back in (0..DAYS as i64).rev() {
        let day = date(now - Duration::days(back));
        let mut happened = (0, 0);
        while let Some(kept_day) = next.next_if(|d| d.date <= day) {
            mrr = kept_day.mrr_cents;
            if kept_day.date == day {
                happened = (kept_day.new_subscriptions, kept_day.cancellations);
            }
        }
        daily.push(RevenueDay {
            date: day,
            new_subscriptions: happened.0,
            cancellations: happened.1,
            mrr_cents: mrr,
        });
    }
    let mut by_tier: Vec<TierRevenue> = Vec::new();
    for s in active {
        match by_tier.iter_mut().find(|t| t.tier == s.tier) {
            Some(t) => {
                t.subscriptions += 1;
                t.mrr_cents += s.price_cents;
            }
            None => by_tier.push(TierRevenue {
                tier: s.tier.clone(),
                subscriptions: 1,
                mrr_cents: s.price_cents,
            }),
        }
    }
    let order = |tier: &str| tiers.tiers().iter().position(|t| t.id.as_str() == tier);
    by_tier.sort_by(|a, b| {
        (order(&a.tier).is_none(), order(&a.tier), &a.tier).cmp(&(
            order(&b.tier).is_none(),
            order(&b.tier),
            &b.tier,
        ))
    });
    Revenue {
        currency: "usd".into(),
        mrr_cents: active.iter().map(|s| s.price_cents).sum(),
        active_subscriptions: active.len() as u64,
        by_tier,
        daily,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tiers() -> TierConfig {
        TierConfig::from_request(&[
            json!({"id": "free", "name": "Free", "priceCents": 0, "limit": 5}),
            json!({"id": "pro", "name": "Pro", "priceCents": 900, "limit": 50}),
            json!({"id": "max", "name": "Max", "priceCents": 2900, "limit": 500}),
        ])
        .expect("valid tiers")
    }

    fn sub(tier: &str, price_cents: u64) -> Subscription {
        Subscription { tier: tier.into(), price_cents }
    }

    fn set(tier: &str) -> PlanUpdate {
        PlanUpdate::Set { tier: tier.into() }
    }

    #[test]
    fn a_purchase_starts_a_subscription_at_the_tiers_price_and_a_cancellation_ends_it() {
        let bought = change(None, &set("pro"), &tiers()).expect("a change");
        assert_eq!(
            bought,
            Change { now: Some(sub("pro", 900)), new_subscriptions: 1, cancellations: 0 }
        );
        let ended = change(Some(&sub("pro", 900)), &PlanUpdate::Reset, &tiers()).expect("a change");
        assert_eq!(ended, Change { now: None, new_subscriptions: 0, cancellations: 1 });
    }

    #[test]
    fn moving_between_paid_tiers_changes_the_price_without_counting_a_purchase() {
        let moved = change(Some(&sub("pro", 900)), &set("max"), &tiers()).expect("a change");
        assert_eq!(
            moved,
            Change { now: Some(sub("max", 2900)), new_subscriptions: 0, cancellations: 0 }
        );
        let to_free = change(Some(&sub("pro", 900)), &set("free"), &tiers()).expect("a change");
        assert_eq!(to_free.cancellations, 1);
    }

    #[test]
    fn duplicates_free_tiers_and_the_same_subscription_again_change_nothing() {
        assert_eq!(change(None, &PlanUpdate::Keep, &tiers()), None);
        assert_eq!(change(None, &set("free"), &tiers()), None);
        assert_eq!(change(None, &PlanUpdate::Reset, &tiers()), None);
        assert_eq!(change(Some(&sub("pro", 900)), &set("pro"), &tiers()), None);
        assert_eq!(change(None, &set("gone"), &tiers()), None, "a tier the platform lacks");
    }

    #[test]
    fn a_subscription_keeps_the_price_it_was_bought_at() {
        // Bought at 700 before the developer raised Pro to 900: Stripe goes on billing
        // the price the subscription has, so an update that leaves it on pro (a
        // renewal, a new card) changes nothing.
        assert_eq!(change(Some(&sub("pro", 700)), &set("pro"), &tiers()), None);
    }

    #[test]
    fn every_day_of_the_window_is_listed_and_quiet_days_carry_the_last_mrr() {
        let now: Instant = "2026-12-03T10:00:00Z".parse().expect("valid");
        let day = |date: &str, new, cancelled, mrr| RevenueDay {
            date: date.into(),
            new_subscriptions: new,
            cancellations: cancelled,
            mrr_cents: mrr,
        };
        let kept = [
            day("2026-12-01", 2, 0, 1800),
            day("2026-08-01", 1, 0, 900),
            day("2026-12-02", 0, 1, 900),
        ];
        let r = assemble(now, &[sub("pro", 900)], &kept, &tiers());
        assert_eq!(r.daily.len(), 90);
        assert_eq!(r.daily[0].date, window_start(now));
        assert_eq!(r.daily[0].mrr_cents, 900, "from the day before the window");
        assert_eq!(r.daily[0].new_subscriptions, 0);
        let dec = |d: &str| r.daily.iter().find(|x| x.date == d).expect("listed").clone();
        assert_eq!(dec("2026-11-30").mrr_cents, 900);
        assert_eq!(dec("2026-12-01"), day("2026-12-01", 2, 0, 1800));
        assert_eq!(dec("2026-12-02"), day("2026-12-02", 0, 1, 900));
        assert_eq!(dec("2026-12-03"), day("2026-12-03", 0, 0, 900));
        assert_eq!(r.daily.last().map(|d| d.date.as_str()), Some("2026-12-03"));
    }

    #[test]
    fn mrr_and_tiers_sum_the_active_subscriptions_in_the_platforms_tier_order() {
        let now: Instant = "2026-12-03T10:00:00Z".parse().expect("valid");
        let active = [sub("max", 2900), sub("pro", 900), sub("old", 100), sub("pro", 700)];
        let r = assemble(now, &active, &[], &tiers());
        assert_eq!((r.currency.as_str(), r.mrr_cents, r.active_subscriptions), ("usd", 4600, 4));
        let by: Vec<(&str, u64, u64)> =
            r.by_tier.iter().map(|t| (t.tier.as_str(), t.subscriptions, t.mrr_cents)).collect();
        assert_eq!(by, [("pro", 2, 1600), ("max", 1, 2900), ("old", 1, 100)]);
        assert!(r.daily.iter().all(|d| d.mrr_cents == 0), "no day was kept");
    }
}
