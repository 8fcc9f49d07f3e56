//! The events a developer's endpoint can receive, and the `data` each carries
//! (API.md "Webhooks to developers": the field names are the contract's).

use crate::error::Invalid;
use crate::ids::{TierId, UserId};
use crate::meter::Usage;
use crate::platform::PlatformPlan;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt;

/// An event type, written on the wire as its dotted name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "usage.threshold_reached")]
    UsageThresholdReached,
    #[serde(rename = "platform.quota_threshold_reached")]
    PlatformQuotaThresholdReached,
    #[serde(rename = "subscription.created")]
    SubscriptionCreated,
    #[serde(rename = "subscription.canceled")]
    SubscriptionCanceled,
    #[serde(rename = "key.rotated")]
    KeyRotated,
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    /// Every type, in the contract's order: what an endpoint subscribes to by default.
    pub const ALL: [EventType; 6] = [
        Self::UsageThresholdReached,
        Self::PlatformQuotaThresholdReached,
        Self::SubscriptionCreated,
        Self::SubscriptionCanceled,
        Self::KeyRotated,
        Self::WebhookTest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UsageThresholdReached => "usage.threshold_reached",
            Self::PlatformQuotaThresholdReached => "platform.quota_threshold_reached",
            Self::SubscriptionCreated => "subscription.created",
            Self::SubscriptionCanceled => "subscription.canceled",
            Self::KeyRotated => "key.rotated",
            Self::WebhookTest => "webhook.test",
        }
    }

    /// An unknown name is refused with the list of the valid ones.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| {
            let valid: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
            Invalid::new(format!(
                "unknown event type {s:?}; the event types are {}",
                valid.join(", ")
            ))
        })
    }

    /// Whether an endpoint subscribed to `events` receives this type. A test message is
    /// sent to the one endpoint it was asked for, whatever that endpoint subscribes to.
    pub fn delivered_to(self, events: &[EventType]) -> bool {
        self == Self::WebhookTest || events.contains(&self)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened, with its data: [`Event::event_type`] and [`Event::data`] are a
/// message's `type` and `data`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// An end-user's count crossed `threshold`% of their tier's limit this period.
    UsageThresholdReached { user_id: UserId, plan: TierId, threshold: u8, usage: Usage },
    /// The platform's count crossed `threshold`% of its plan's quota this period.
    PlatformQuotaThresholdReached { threshold: u8, plan: PlatformPlan, usage: Usage },
    /// An end-user's plan changed through Stripe: a purchase.
    SubscriptionCreated { user_id: UserId, tier: TierId, previous_tier: TierId },
    /// An end-user's plan changed through Stripe: the end of a subscription.
    SubscriptionCanceled { user_id: UserId, tier: TierId, previous_tier: TierId },
    /// The platform's API key was rotated; the previous key works until then (RFC 3339).
    KeyRotated { previous_key_expires_at: String },
    /// `POST /v1/webhooks/{id}/test`.
    WebhookTest,
}

impl Event {
    pub fn event_type(&self) -> EventType {
        match self {
            Self::UsageThresholdReached { .. } => EventType::UsageThresholdReached,
            Self::PlatformQuotaThresholdReached { .. } => EventType::PlatformQuotaThresholdReached,
            Self::SubscriptionCreated { .. } => EventType::SubscriptionCreated,
            Self::SubscriptionCanceled { .. } => EventType::SubscriptionCanceled,
            Self::KeyRotated { .. } => EventType::KeyRotated,
            Self::WebhookTest => EventType::WebhookTest,
        }
    }

    /// The message's `data`, with the contract's camelCase names.
    pub fn data(&self) -> Value {
        match self {
            Self::UsageThresholdReached { user_id, plan, threshold, usage } => {
                json!({"userId": user_id, "plan": plan, "threshold": threshold, "usage": usage})
            }
            Self::PlatformQuotaThresholdReached { threshold, plan, usage } => {
                json!({"threshold": threshold, "plan": plan, "usage": usage})
            }
            Self::SubscriptionCreated { user_id, tier, previous_tier }
            | Self::SubscriptionCanceled { user_id, tier, previous_tier } => {
                json!({"userId": user_id, "tier": tier, "previousTier": previous_tier})
            }
            Self::KeyRotated { previous_key_expires_at } => {
                json!({"previousKeyExpiresAt": previous_key_expires_at})
            }
            Self::WebhookTest => json!({}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::from_millis;

    #[test]
    fn every_event_type_parses_from_its_name_and_serialises_as_it() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Ok(t));
            assert_eq!(serde_json::to_value(t).expect("serialises"), json!(t.as_str()));
            let back: EventType = serde_json::from_value(json!(t.as_str())).expect("reads");
            assert_eq!(back, t);
        }
        assert_eq!(EventType::UsageThresholdReached.to_string(), "usage.threshold_reached");
    }

    #[test]
    fn an_unknown_event_type_is_refused_listing_the_valid_ones() {
        let message = EventType::parse("usage.threshold").map(|_| ()).expect_err("unknown").0;
        assert!(message.starts_with("unknown event type \"usage.threshold\"; the event types are"));
        for t in EventType::ALL {
            assert!(message.contains(t.as_str()), "{message}");
        }
        assert!(EventType::parse("Key.Rotated").is_err());
        assert!(serde_json::from_value::<EventType>(json!("key.rotate")).is_err());
    }

    #[test]
    fn a_test_message_reaches_an_endpoint_whatever_it_subscribes_to() {
        let only_keys = [EventType::KeyRotated];
        assert!(EventType::WebhookTest.delivered_to(&only_keys));
        assert!(EventType::KeyRotated.delivered_to(&only_keys));
        assert!(!EventType::SubscriptionCreated.delivered_to(&only_keys));
    }

    #[test]
    fn event_data_uses_the_contracts_field_names() {
        let usage = Usage::new(8, Some(10), from_millis(1_764_000_000_000));
        let user_id = UserId::parse("u1").expect("valid");
        let tier = |s: &str| TierId::parse(s).expect("valid");
        let alert = Event::UsageThresholdReached {
            user_id: user_id.clone(),
            plan: tier("free"),
            threshold: 80,
            usage: usage.clone(),
        };
        assert_eq!(alert.event_type(), EventType::UsageThresholdReached);
        assert_eq!(
            alert.data(),
            json!({"userId": "u1", "plan": "free", "threshold": 80, "usage": {
                "count": 8, "limit": 10, "remaining": 2, "periodStart": "2025-11-01T00:00:00Z",
                "periodEnd": "2025-12-01T00:00:00Z", "resetsAt": "2025-12-01T00:00:00Z"}})
        );
        let quota = Event::PlatformQuotaThresholdReached {
            threshold: 100,
            plan: PlatformPlan::Paid,
            usage,
        };
        assert_eq!(quota.data()["plan"], "paid");
        assert_eq!(quota.data()["threshold"], 100);
        let canceled =
            Event::SubscriptionCanceled { user_id, tier: tier("free"), previous_tier: tier("pro") };
        assert_eq!(canceled.event_type(), EventType::SubscriptionCanceled);
        assert_eq!(canceled.data(), json!({"userId": "u1", "tier": "free", "previousTier": "pro"}));
        let rotated = Event::KeyRotated { previous_key_expires_at: "2025-11-24T16:00:00Z".into() };
        assert_eq!(rotated.data(), json!({"previousKeyExpiresAt": "2025-11-24T16:00:00Z"}));
        assert_eq!(Event::WebhookTest.data(), json!({}));
    }
}
