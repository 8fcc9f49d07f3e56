//! From an event to deliveries. The platform's object decides an event (a crossed
//! threshold in a `track`, a purchase, a rotation), stores one delivery per endpoint
//! that takes it in the same step, and hands the queue only ids ([`Job`]); the queue's
//! consumer asks the object for the attempt each time ([`Attempt`]) and reports the
//! answer back, so the object remains the one writer of the delivery history.

use super::endpoint::Endpoint;
use super::events::{Event, EventType};
use super::ids::{EndpointId, MessageId};
use crate::billing::PlanUpdate;
use crate::ids::{PlatformId, TierId, UserId};
use crate::meter::{Alerts, Usage};
use crate::platform::PlatformPlan;
use serde::{Deserialize, Serialize};

/// What the queue carries for one delivery: ids only. The message, the endpoint's URL
/// and its secrets stay in the platform's object and are read at each attempt, so a
/// retry after a rotation is signed with the new secret too, and an endpoint deleted or
/// disabled meanwhile gets nothing more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub platform_id: PlatformId,
    pub endpoint_id: EndpointId,
    pub message_id: MessageId,
}

/// One attempt as the object hands it to the consumer: where, with which (sealed)
/// secrets, and the body, the same bytes on every attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub url: String,
    pub sealed_secrets: String,
    pub body: String,
}

/// The endpoints an event goes to: enabled and subscribed to its type, oldest first.
/// A test message is sent to the one endpoint it names instead (`POST
/// /v1/webhooks/{id}/test`), not through here.
pub fn recipients(event_type: EventType, endpoints: &[Endpoint]) -> Vec<&Endpoint> {
    endpoints.iter().filter(|e| !e.disabled && event_type.delivered_to(&e.events)).collect()
}

/// The usage alerts of one allowed `track`, as events: the end-user's against their tier
/// (`plan`, `usage`), the platform's against its own plan's quota.
pub fn alert_events(
    alerts: &Alerts,
    user_id: &UserId,
    plan: &TierId,
    usage: &Usage,
    platform_plan: PlatformPlan,
    platform_usage: &Usage,
) -> Vec<Event> {
    let user = alerts.user.iter().map(|&threshold| Event::UsageThresholdReached {
        user_id: user_id.clone(),
        plan: plan.clone(),
        threshold,
        usage: usage.clone(),
    });
    let platform = alerts.platform.iter().map(|&threshold| Event::PlatformQuotaThresholdReached {
        threshold,
        plan: platform_plan,
        usage: platform_usage.clone(),
    });
    user.chain(platform).collect()
}

/// The event an end-user's plan change through Stripe raises, if their plan changed: a
/// purchase (`PlanUpdate::Set`) is `subscription.created`, its end (`Reset`, back to the
/// first tier, `first`) `subscription.canceled`. An event that moves nobody raises
/// none: `Keep` (a duplicate, an older event), and a `Set` to the tier they are on
/// already (Stripe sends several events for one purchase). `previous` is the tier
/// before.
pub fn subscription_event(
    user_id: &UserId,
    update: &PlanUpdate,
    previous: &TierId,
    first: &TierId,
) -> Option<Event> {
    let tier = match update {
        PlanUpdate::Set { tier } => TierId::parse(tier).ok()?,
        PlanUpdate::Reset => first.clone(),
        PlanUpdate::Keep => return None,
    };
    if &tier == previous {
        return None;
    }
    let (user_id, previous_tier) = (user_id.clone(), previous.clone());
    Some(match update {
        PlanUpdate::Set { .. } => Event::SubscriptionCreated { user_id, tier, previous_tier },
        _ => Event::SubscriptionCanceled { user_id, tier, previous_tier },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::from_millis;

    fn endpoint(id: &str, events: &[EventType], disabled: bool) -> Endpoint {
        Endpoint {
            id: EndpointId::parse(id).expect("an id"),
            url: "https://example.com/hook".into(),
            events: events.to_vec(),
            description: None,
            disabled,
            created_at: "2026-12-03T00:00:00Z".into(),
        }
    }

    #[test]
    fn an_event_goes_to_every_enabled_endpoint_subscribed_to_its_type_and_no_other() {
        let endpoints = [
            endpoint("we_000000000000000a", &EventType::ALL, false),
            endpoint("we_000000000000000b", &[EventType::KeyRotated], false),
            endpoint("we_000000000000000c", &EventType::ALL, true),
            endpoint("we_000000000000000d", &[EventType::UsageThresholdReached], false),
        ];
        let ids = |t| -> Vec<&str> {
            recipients(t, &endpoints).into_iter().map(|e| e.id.as_str()).collect()
        };
        assert_eq!(ids(EventType::KeyRotated), ["we_000000000000000a", "we_000000000000000b"]);
        assert_eq!(
            ids(EventType::UsageThresholdReached),
            ["we_000000000000000a", "we_000000000000000d"]
        );
        assert_eq!(ids(EventType::SubscriptionCanceled), ["we_000000000000000a"]);
        assert!(recipients(EventType::KeyRotated, &[]).is_empty());
    }

    #[test]
    fn a_tracks_alerts_become_one_event_each_the_end_users_first() {
        let now = from_millis(1_764_000_000_000);
        let usage = Usage::new(10, Some(10), now);
        let quota = Usage::new(400, Some(500), now);
        let alerts = Alerts { user: vec![80, 100], platform: vec![80] };
        let user = UserId::parse("u1").expect("valid");
        let plan = TierId::parse("free").expect("valid");
        let events = alert_events(&alerts, &user, &plan, &usage, PlatformPlan::Paid, &quota);
        let summary: Vec<(EventType, serde_json::Value)> =
            events.iter().map(|e| (e.event_type(), e.data()["threshold"].clone())).collect();
        assert_eq!(
            summary,
            [
                (EventType::UsageThresholdReached, 80.into()),
                (EventType::UsageThresholdReached, 100.into()),
                (EventType::PlatformQuotaThresholdReached, 80.into()),
            ]
        );
        assert_eq!(events[2].data()["usage"]["count"], 400);
        assert_eq!(events[0].data()["userId"], "u1");
        assert!(alert_events(&Alerts::default(), &user, &plan, &usage, PlatformPlan::Free, &quota)
            .is_empty());
    }

    #[test]
    fn a_purchase_is_subscription_created_its_end_canceled_and_what_moves_nobody_nothing() {
        let user = UserId::parse("u1").expect("valid");
        let tier = |s: &str| TierId::parse(s).expect("valid");
        let bought = PlanUpdate::Set { tier: "pro".into() };
        let created = subscription_event(&user, &bought, &tier("free"), &tier("free"));
        let created = created.expect("an event");
        assert_eq!(created.event_type(), EventType::SubscriptionCreated);
        assert_eq!(
            created.data(),
            serde_json::json!({"userId": "u1", "tier": "pro", "previousTier": "free"})
        );
        let canceled = subscription_event(&user, &PlanUpdate::Reset, &tier("pro"), &tier("free"));
        let canceled = canceled.expect("an event");
        assert_eq!(canceled.event_type(), EventType::SubscriptionCanceled);
        assert_eq!(
            canceled.data(),
            serde_json::json!({"userId": "u1", "tier": "free", "previousTier": "pro"})
        );
        assert_eq!(subscription_event(&user, &PlanUpdate::Keep, &tier("pro"), &tier("free")), None);
        let again = PlanUpdate::Set { tier: "pro".into() };
        assert_eq!(subscription_event(&user, &again, &tier("pro"), &tier("free")), None);
        assert_eq!(
            subscription_event(&user, &PlanUpdate::Reset, &tier("free"), &tier("free")),
            None
        );
    }

    #[test]
    fn a_job_carries_ids_only_in_camel_case() {
        let job = Job {
            platform_id: PlatformId::parse("plt_0123456789ab").expect("valid"),
            endpoint_id: EndpointId::parse("we_0123456789abcdef").expect("valid"),
            message_id: MessageId::parse("msg_p5jXN8AQM9LWM0D4loKWxJek").expect("valid"),
        };
        let wire = serde_json::to_value(&job).expect("JSON");
        assert_eq!(
            wire,
            serde_json::json!({"platformId": "plt_0123456789ab",
                "endpointId": "we_0123456789abcdef", "messageId": "msg_p5jXN8AQM9LWM0D4loKWxJek"})
        );
        assert_eq!(serde_json::from_value::<Job>(wire).expect("reads back"), job);
    }
}
