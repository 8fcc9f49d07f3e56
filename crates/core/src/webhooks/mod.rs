//! Webhooks to developers (API.md "Webhooks to developers"): the rules the workers apply
//! to tell a developer's endpoints what happened on their platform, with time and
//! randomness as arguments.
//!
//! - [`signing`]: Standard Webhooks secrets (`whsec_…`), `webhook-signature`, verifying,
//!   and a rotated secret's 24 h overlap.
//! - [`ids`]: `EndpointId` (`we_…`) and `MessageId` (`msg_…`, the `webhook-id`).
//! - [`endpoint_url`]: which URLs may receive webhooks (`https://`, public hosts only;
//!   loopback with `ALLOW_LOOPBACK_WEBHOOKS=true`), checked with [`address`].
//! - [`events`]: the event types and each one's `data`.
//! - [`endpoint`]: `POST /v1/webhooks`'s body and the five-endpoint limit.
//! - [`alerts`](crate::alerts) (re-exported): usage-alert thresholds and when a call
//!   crosses one.
//! - [`delivery`]: retry schedule, what an answer means, the message body, the delivery
//!   history.
//! - [`outbox`]: which endpoints an event goes to, and what the queue carries.

pub mod address;
pub mod delivery;
pub mod endpoint;
pub mod endpoint_url;
pub mod events;
pub mod ids;
pub mod outbox;
pub mod signing;

pub use crate::alerts::{self, crossed, SentThresholds, Thresholds};
pub use delivery::{next_attempt, outcome, DeliveryRecord, Message, Next, Outcome, RetrySchedule};
pub use endpoint::{EndpointRequest, MAX_ENDPOINTS};
pub use endpoint_url::{EndpointUrl, Loopback};
pub use events::{Event, EventType};
pub use ids::{EndpointId, MessageId};
pub use outbox::{alert_events, recipients, subscription_event, Attempt, Job};
pub use signing::{sign, verify, EndpointSecrets, WebhookSecret};
