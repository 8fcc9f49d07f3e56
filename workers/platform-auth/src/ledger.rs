//! `BillingLedger`: the one record of which Stripe events have been applied to
//! developers' plans (`dream_core::webhook::EventLedger`). Storage awaits are gated, so
//! a check or a record never interleaves with another.

use dream_core::webhook::{Admission, EventLedger, StripeEvent};
use worker::{durable_object, DurableObject, Env, Request, Response, State};

const KEY: &str = "ledger";

#[durable_object(fetch)]
pub struct BillingLedger {
    state: State,
}

impl DurableObject for BillingLedger {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let event: StripeEvent = req.json().await?;
        let storage = self.state.storage();
        let mut ledger: EventLedger = storage.get(KEY).await?.unwrap_or_default();
        match req.path().as_str() {
            "/check" => Response::from_json(&ledger.check(&event)),
            "/record" => {
                ledger.record(&event);
                storage.put(KEY, &ledger).await?;
                Response::from_json(&Admission::Apply)
            }
            other => Response::error(format!("no such ledger command: {other}"), 404),
        }
    }
}
