//! Event delivery: every event is signed with the webhook secret (as Stripe signs, see
//! `dream_core::stripe`) and posted to every endpoint, retried on failure; deliveries can
//! be doubled or reversed ([`Delivery`]) to exercise receivers' idempotency and ordering.

use serde_json::Value;
use std::time::Duration;

use super::{now, Stripe};

/// How events reach the webhook endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delivery {
    /// Deliver every event twice (receivers must apply each `event.id` once).
    pub twice: bool,
    /// Deliver the events of one action newest first (receivers must order by `created`).
    pub reversed: bool,
}

/// How many times a delivery is tried before the stand-in gives up on it.
const ATTEMPTS: u32 = 5;

impl Stripe {
    /// Signs and posts `events` to every endpoint, in the background, with retries.
    pub(super) fn deliver(&self, mut events: Vec<Value>) {
        if self.delivery.reversed {
            events.reverse();
        }
        let copies = if self.delivery.twice { 2 } else { 1 };
        for endpoint in self.webhooks.iter() {
            let (endpoint, events, this) = (endpoint.clone(), events.clone(), self.clone());
            tokio::spawn(async move {
                for event in &events {
                    for _ in 0..copies {
                        this.post_event(&endpoint, event).await;
                    }
                }
            });
        }
    }

    async fn post_event(&self, endpoint: &str, event: &Value) {
        let body = event.to_string();
        for attempt in 0..ATTEMPTS {
            let t = now();
            let signature = format!("t={t},v1={}", self.webhook_secret.sign(t, body.as_bytes()));
            let sent = self
                .http
                .post(endpoint)
                .header("Content-Type", "application/json")
                .header("Stripe-Signature", signature)
                .body(body.clone())
                .send()
                .await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
        }
        eprintln!("Stripe stand-in: gave up delivering {} to {endpoint}", event["id"]);
    }
}
