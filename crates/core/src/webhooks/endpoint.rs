//! `POST /v1/webhooks {url, events?, description?}`: what a new endpoint may be, and how
//! many a platform may have; an endpoint as listed.

use super::endpoint_url::{EndpointUrl, Loopback};
use super::events::EventType;
use super::ids::EndpointId;
use crate::error::Invalid;
use crate::json::JsonObject;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A platform has at most this many endpoints: every event is signed and sent once per
/// subscribed endpoint, so the count bounds the work one `track` can cause.
pub const MAX_ENDPOINTS: usize = 5;
/// The longest `description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 256;

/// A valid request to create an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRequest {
    pub url: EndpointUrl,
    /// The types it receives, as listed (every type when the request leaves `events` out).
    pub events: Vec<EventType>,
    pub description: Option<String>,
}

impl EndpointRequest {
    /// The first broken rule is the `400 invalid_request` message; unknown fields are
    /// ignored, as everywhere in the API.
    pub fn parse(body: &JsonObject, loopback: Loopback) -> Result<Self, Invalid> {
        let url = EndpointUrl::parse(body.required_str("url")?, loopback)?;
        let events = parse_events(body.get("events"))?;
        let description = body.optional_str("description")?.map(str::to_owned);
        if description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
            return Err(Invalid::new(format!(
                "description must be at most {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        Ok(Self { url, events, description })
    }
}

/// `events`: absent or `null` means every type; otherwise a non-empty array of distinct
/// event type names (an empty list would make an endpoint that never receives anything).
pub fn parse_events(value: Option<&Value>) -> Result<Vec<EventType>, Invalid> {
    let Some(value) = value else {
        return Ok(EventType::ALL.to_vec());
    };
    let items =
        value.as_array().ok_or_else(|| Invalid::new("events must be an array of event types"))?;
    if items.is_empty() {
        return Err(Invalid::new(
            "events must list at least one event type (or be left out for all)",
        ));
    }
    let mut events = Vec::with_capacity(items.len());
    for item in items {
        let name =
            item.as_str().ok_or_else(|| Invalid::new("events must be an array of event types"))?;
        let event = EventType::parse(name)?;
        if events.contains(&event) {
            return Err(Invalid::new(format!("events lists {name} more than once")));
        }
        events.push(event);
    }
    Ok(events)
}

/// Whether a platform that has `existing` endpoints may add one.
pub fn check_room(existing: usize) -> Result<(), Invalid> {
    if existing >= MAX_ENDPOINTS {
        Err(Invalid::new(format!(
            "a platform has at most {MAX_ENDPOINTS} webhook endpoints; delete one first"
        )))
    } else {
        Ok(())
    }
}

/// An endpoint as listed (`GET /v1/webhooks`): never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub id: EndpointId,
    /// As the developer wrote it; it passed `EndpointUrl::parse` when it was added.
    pub url: String,
    pub events: Vec<EventType>,
    pub description: Option<String>,
    /// Set when a delivery was answered `410 Gone`.
    pub disabled: bool,
    /// RFC 3339.
    pub created_at: String,
}

impl Endpoint {
    /// A new, enabled endpoint for a valid request.
    pub fn new(id: EndpointId, request: EndpointRequest, created_at: String) -> Self {
        Self {
            id,
            url: request.url.as_str().to_owned(),
            events: request.events,
            description: request.description,
            disabled: false,
            created_at,
        }
    }

    /// `201` of `POST /v1/webhooks`: the endpoint with its secret, the one time it is
    /// shown.
    pub fn created_answer(&self, secret: &str) -> Value {
        json!({
            "id": self.id,
            "url": self.url,
            "events": self.events,
            "description": self.description,
            "secret": secret,
            "createdAt": self.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<EndpointRequest, String> {
        let body = JsonObject::parse(body.as_bytes()).expect("an object");
        EndpointRequest::parse(&body, Loopback::Refused).map_err(|e| e.0)
    }

    #[test]
    fn a_request_with_only_a_url_subscribes_to_every_event_type() {
        let request = parse(r#"{"url": "https://example.com/hook", "extra": 1}"#).expect("valid");
        assert_eq!(request.url.as_str(), "https://example.com/hook");
        assert_eq!(request.events, EventType::ALL.to_vec());
        assert_eq!(request.description, None);
        let nulls = parse(r#"{"url": "https://example.com", "events": null, "description": null}"#);
        assert_eq!(nulls.expect("valid").events, EventType::ALL.to_vec());
    }

    #[test]
    fn listed_events_and_a_description_are_kept_as_sent() {
        let request = parse(
            r#"{"url": "https://example.com", "events": ["key.rotated", "usage.threshold_reached"],
                "description": "Billing alerts"}"#,
        )
        .expect("valid");
        assert_eq!(request.events, [EventType::KeyRotated, EventType::UsageThresholdReached]);
        assert_eq!(request.description.as_deref(), Some("Billing alerts"));
    }

    #[test]
    fn bad_event_lists_are_refused_with_a_message() {
        let with =
            |events: &str| parse(&format!(r#"{{"url": "https://e.com", "events": {events}}}"#));
        assert_eq!(
            with("[]").map(|_| ()),
            Err("events must list at least one event type (or be left out for all)".into())
        );
        assert_eq!(
            with("\"key.rotated\"").map(|_| ()),
            Err("events must be an array of event types".into())
        );
        assert_eq!(with("[1]").map(|_| ()), Err("events must be an array of event types".into()));
        assert_eq!(
            with(r#"["key.rotated", "key.rotated"]"#).map(|_| ()),
            Err("events lists key.rotated more than once".into())
        );
        let unknown = with(r#"["key.rotated", "invoice.paid"]"#).map(|_| ()).expect_err("unknown");
        assert!(unknown.starts_with("unknown event type \"invoice.paid\""), "{unknown}");
    }

    #[test]
    fn the_url_is_required_and_checked() {
        assert_eq!(parse("{}").map(|_| ()), Err("url is required".into()));
        assert_eq!(parse(r#"{"url": 5}"#).map(|_| ()), Err("url must be a string".into()));
        assert_eq!(
            parse(r#"{"url": "http://example.com"}"#).map(|_| ()),
            Err("url must use https://".into())
        );
        assert_eq!(
            parse(r#"{"url": "https://10.0.0.1"}"#).map(|_| ()),
            Err("url points at a private address (10.0.0.1)".into())
        );
    }

    #[test]
    fn a_description_may_have_256_characters_but_not_257() {
        let with =
            |d: String| parse(&format!(r#"{{"url": "https://e.com", "description": "{d}"}}"#));
        assert!(with("é".repeat(256)).is_ok());
        assert_eq!(
            with("a".repeat(257)).map(|_| ()),
            Err("description must be at most 256 characters".into())
        );
        let not_text = parse(r#"{"url": "https://e.com", "description": 7}"#).map(|_| ());
        assert_eq!(not_text, Err("description must be a string".into()));
    }

    #[test]
    fn a_platform_may_add_endpoints_until_it_has_five() {
        for existing in 0..MAX_ENDPOINTS {
            assert_eq!(check_room(existing), Ok(()));
        }
        assert_eq!(
            check_room(5).map_err(|e| e.0),
            Err("a platform has at most 5 webhook endpoints; delete one first".into())
        );
        assert!(check_room(6).is_err());
    }
}
