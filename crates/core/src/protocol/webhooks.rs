//! The platform object's commands for webhooks to developers (API.md "Webhooks to
//! developers"): its endpoints and its alert thresholds. The object is their only
//! writer; each change is one synchronous step against its storage.
//!
//! An endpoint's secrets are never held in clear: the worker seals its
//! [`EndpointSecrets`](crate::webhooks::EndpointSecrets) under `TOKEN_ENCRYPTION_KEY`
//! (as it seals a connected Stripe account) and the object stores the sealed text.

use crate::command;
use crate::error::{ErrorCode, Refusal};
use crate::webhooks::{Attempt, DeliveryRecord, EndpointId, MessageId, Thresholds};
use serde::{Deserialize, Serialize};

pub use crate::webhooks::endpoint::Endpoint;

/// The refusal for an endpoint id the platform does not have (another platform's
/// included: which ids exist elsewhere is not told).
pub fn no_endpoint() -> Refusal {
    Refusal::new(ErrorCode::NotFound, "The webhook endpoint was not found.")
}

/// Adds an endpoint with its sealed secrets; `400` when the platform has five already.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddEndpoint {
    pub endpoint: Endpoint,
    pub sealed_secrets: String,
}

command!(PlatformCommand for AddEndpoint = "/webhooks/add" -> ());

/// The platform's endpoints, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListEndpoints;

command!(PlatformCommand for ListEndpoints = "/webhooks/list" -> Vec<Endpoint>);

/// Removes an endpoint (`404` if the platform has no such endpoint).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoveEndpoint {
    pub id: EndpointId,
}

command!(PlatformCommand for RemoveEndpoint = "/webhooks/remove" -> ());

/// An endpoint's sealed secrets as stored (`404` if there is no such endpoint).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SealedSecrets {
    pub id: EndpointId,
}

command!(PlatformCommand for SealedSecrets = "/webhooks/secrets" -> String);

/// Replaces an endpoint's sealed secrets if they are still `expected` (what
/// [`SealedSecrets`] answered), so two rotations at once cannot lose one: the second
/// is refused with `409` and starts again from the secrets the first stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplaceSecrets {
    pub id: EndpointId,
    pub expected: String,
    pub sealed_secrets: String,
}

command!(PlatformCommand for ReplaceSecrets = "/webhooks/secrets/replace" -> ());

/// The refusal of a [`ReplaceSecrets`] that lost to another rotation.
pub fn secrets_changed() -> Refusal {
    Refusal::new(
        ErrorCode::Conflict,
        "The endpoint's secret was rotated by another request at the same time; retry.",
    )
}

/// Sends `webhook.test` to one endpoint, whatever it subscribes to; answers the message
/// id. `409` if the endpoint is disabled (it answered `410 Gone`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendTest {
    pub id: EndpointId,
}

command!(PlatformCommand for SendTest = "/webhooks/test" -> MessageId);

/// An endpoint's delivery history, newest first, at most `limit` (≤ 100) entries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListDeliveries {
    pub id: EndpointId,
    pub limit: usize,
}

command!(PlatformCommand for ListDeliveries = "/webhooks/deliveries" -> Vec<DeliveryRecord>);

/// One delivery: a message to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryKey {
    pub endpoint_id: EndpointId,
    pub message_id: MessageId,
}

/// The queue's consumer, about to attempt the deliveries of one batch for this platform:
/// for each, in order, what to send, or `None` when nothing is to be sent any more (the
/// endpoint was deleted or disabled, the message delivered or given up, or it fell out
/// of the history).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartAttempts {
    pub deliveries: Vec<DeliveryKey>,
}

command!(PlatformCommand for StartAttempts = "/webhooks/attempts" -> Vec<Option<Attempt>>);

/// The answers the attempts got (`None`: none within the timeout, or the request
/// failed), recorded in the history; the reply is, for each in order, the delay in
/// seconds before the next attempt, or `None` when there is none (delivered, disabled
/// by a `410`, or every retry used).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinishAttempts {
    pub results: Vec<(DeliveryKey, Option<u16>)>,
}

command!(PlatformCommand for FinishAttempts = "/webhooks/attempts/done" -> Vec<Option<u32>>);

/// The platform's alert thresholds (the default until its developer sets others).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetAlerts;

command!(PlatformCommand for GetAlerts = "/alerts" -> Thresholds);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetAlerts {
    pub thresholds: Thresholds,
}

command!(PlatformCommand for SetAlerts = "/alerts/set" -> Thresholds);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::JsonObject;
    use crate::webhooks::{EndpointRequest, Loopback};
    use serde_json::json;

    fn endpoint() -> Endpoint {
        let body =
            JsonObject::parse(br#"{"url": "https://example.com/hook", "events": ["key.rotated"]}"#)
                .expect("an object");
        let request = EndpointRequest::parse(&body, Loopback::Refused).expect("valid");
        let id = EndpointId::parse("we_0123456789abcdef").expect("an id");
        Endpoint::new(id, request, "2026-12-03T00:00:00Z".into())
    }

    #[test]
    fn a_listed_endpoint_says_whether_it_is_disabled_and_never_carries_a_secret() {
        let listed = serde_json::to_value(endpoint()).expect("JSON");
        assert_eq!(
            listed,
            json!({
                "id": "we_0123456789abcdef",
                "url": "https://example.com/hook",
                "events": ["key.rotated"],
                "description": null,
                "disabled": false,
                "createdAt": "2026-12-03T00:00:00Z",
            })
        );
        let back: Endpoint = serde_json::from_value(listed).expect("reads back");
        assert_eq!(back, endpoint());
    }

    #[test]
    fn the_created_answer_shows_the_secret_once_beside_the_contracts_fields() {
        let answer = endpoint().created_answer("whsec_abc");
        assert_eq!(answer["secret"], "whsec_abc");
        assert_eq!(answer["id"], "we_0123456789abcdef");
        assert_eq!(answer["createdAt"], "2026-12-03T00:00:00Z");
        assert!(answer.get("disabled").is_none(), "{answer}");
        let mut fields: Vec<&str> =
            answer.as_object().expect("an object").keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["createdAt", "description", "events", "id", "secret", "url"]);
    }

    #[test]
    fn thresholds_travel_to_the_object_and_back_and_a_bad_stored_value_does_not_load() {
        let set = SetAlerts { thresholds: Thresholds::new(vec![90, 50]).expect("valid") };
        let wire = serde_json::to_string(&set).expect("JSON");
        assert_eq!(wire, r#"{"thresholds":[50,90]}"#);
        let back: SetAlerts = serde_json::from_str(&wire).expect("reads back");
        assert_eq!(back.thresholds.as_slice(), [50, 90]);
        assert!(serde_json::from_str::<SetAlerts>(r#"{"thresholds":[0]}"#).is_err());
    }
}
