//! What the Webhooks page and the usage-alerts card show, as plain functions of what the
//! API answered: the answers' types, a delivery's status in words, whether the history is
//! still worth reading again, which field an API message is about, the events' wording,
//! and the alert thresholds as typed. No browser here, so all of it is tested natively.

pub use dream_core::protocol::webhooks::Endpoint;
use dream_core::webhooks::alerts::Thresholds;
use dream_core::webhooks::delivery::DeliveryRecord;
use dream_core::webhooks::events::EventType;
use serde::Deserialize;

/// `GET /v1/webhooks`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EndpointList {
    pub endpoints: Vec<Endpoint>,
}

/// `POST /v1/webhooks` (`201`): the endpoint and its secret, shown this once. Only the
/// id and the secret are used; the endpoint itself is read again with the list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EndpointCreated {
    pub id: String,
    pub secret: String,
}

/// `POST /v1/webhooks/{id}/rotate-secret`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SecretRotated {
    pub secret: String,
}

/// `POST /v1/webhooks/{id}/test` (`202`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestSent {
    pub message_id: String,
}

/// `GET /v1/webhooks/{id}/deliveries`: newest first.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryRecord>,
}

/// `GET`/`PUT /v1/alerts`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AlertThresholds {
    pub thresholds: Vec<u8>,
}

/// Where one delivery stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryState {
    /// Queued; its first attempt is due.
    Waiting,
    /// Tried and not delivered yet: the next attempt is due at this instant.
    Retrying {
        next_attempt_at: String,
    },
    Delivered,
    /// Nothing more will be tried: every retry was used, or the endpoint was disabled
    /// (a `410 Gone`, to this message or to another).
    Failed,
}

/// A delivery's state, from the fields the history gives (API.md: pending has a
/// `nextAttemptAt` and no `deliveredAt`; delivered has `deliveredAt`; failed neither).
pub fn delivery_state(record: &DeliveryRecord) -> DeliveryState {
    match (&record.delivered_at, &record.next_attempt_at) {
        (Some(_), _) => DeliveryState::Delivered,
        (None, Some(_)) if record.attempts == 0 => DeliveryState::Waiting,
        (None, Some(next)) => DeliveryState::Retrying { next_attempt_at: next.clone() },
        (None, None) => DeliveryState::Failed,
    }
}

/// The status column: "Delivered", "Waiting", "Retrying (next attempt at …)",
/// "Failed". `local` shows an RFC 3339 instant in the reader's time zone.
pub fn status_words(record: &DeliveryRecord, local: impl Fn(&str) -> String) -> String {
    match delivery_state(record) {
        DeliveryState::Delivered => "Delivered".into(),
        DeliveryState::Waiting => "Waiting".into(),
        DeliveryState::Retrying { next_attempt_at } => {
            format!("Retrying (next attempt at {})", local(&next_attempt_at))
        }
        DeliveryState::Failed if record.last_status == Some(410) => {
            "Failed (the endpoint answered 410 Gone and was disabled)".into()
        }
        DeliveryState::Failed if record.attempts == 0 => {
            "Failed (not sent: the endpoint is disabled)".into()
        }
        DeliveryState::Failed => "Failed".into(),
    }
}

/// The last answer's column: its status code, "no answer" when none came in time, a
/// dash before the first attempt.
pub fn last_answer(record: &DeliveryRecord) -> String {
    match (record.attempts, record.last_status) {
        (0, _) => "—".into(),
        (_, Some(status)) => status.to_string(),
        (_, None) => "no answer".into(),
    }
}

/// Whether a delivery may still change: an attempt is due.
pub fn is_pending(record: &DeliveryRecord) -> bool {
    matches!(delivery_state(record), DeliveryState::Waiting | DeliveryState::Retrying { .. })
}

/// Whether to read the history again: something in it is pending, or the message just
/// sent (`awaited`) is not in it yet.
pub fn keep_polling(deliveries: &[DeliveryRecord], awaited: Option<&str>) -> bool {
    let missing = awaited.is_some_and(|id| !deliveries.iter().any(|d| d.message_id.as_str() == id));
    missing || deliveries.iter().any(is_pending)
}

/// Whether a delivery was answered `410 Gone`, which disables its endpoint.
pub fn answered_gone(deliveries: &[DeliveryRecord]) -> bool {
    deliveries.iter().any(|d| d.last_status == Some(410))
}

/// A field of the "Add an endpoint" form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    Url,
    Events,
    Description,
    /// The form as a whole (the five-endpoint limit, a failure on the way).
    Form,
}

/// Which field an API `400` message is about: the contract's messages start with the
/// field's name ("url must use https://", "events lists … more than once").
pub fn field_of(message: &str) -> FormField {
    let first = message.split_whitespace().next().unwrap_or_default();
    match first {
        "url" => FormField::Url,
        "events" => FormField::Events,
        "description" => FormField::Description,
        _ => FormField::Form,
    }
}

/// What each event means, for the checkboxes.
pub fn event_meaning(event: EventType) -> &'static str {
    match event {
        EventType::UsageThresholdReached => {
            "an end-user reached an alert threshold of their tier's limit"
        }
        EventType::PlatformQuotaThresholdReached => {
            "your platform reached an alert threshold of your plan's quota"
        }
        EventType::SubscriptionCreated => "an end-user subscribed to a paid tier",
        EventType::SubscriptionCanceled => "an end-user's paid subscription ended",
        EventType::KeyRotated => "your API key was rotated",
        EventType::WebhookTest => "a test message (Send test sends one whatever is chosen)",
    }
}

/// The events an endpoint receives: "every event", or their names.
pub fn events_text(events: &[EventType]) -> String {
    if EventType::ALL.iter().all(|e| events.contains(e)) {
        return "every event".into();
    }
    events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
}

/// The events to send with a new endpoint, from the checkboxes in `EventType::ALL`'s
/// order: `None` when every box is ticked (the API's default, which also takes event
/// types added later), an error when none is.
pub fn chosen_events(ticked: &[bool]) -> Result<Option<Vec<&'static str>>, &'static str> {
    let chosen: Vec<&'static str> =
        EventType::ALL.iter().zip(ticked).filter(|(_, on)| **on).map(|(e, _)| e.as_str()).collect();
    match chosen.len() {
        0 => Err("Choose at least one event."),
        n if n == EventType::ALL.len() => Ok(None),
        _ => Ok(Some(chosen)),
    }
}

/// The thresholds as the card's field shows them: "80, 100".
pub fn thresholds_text(thresholds: &[u8]) -> String {
    thresholds.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
}

/// The field's text as thresholds, checked as the API checks them: whole percents from 1
/// to 100 separated by commas or spaces (a `%` after each is fine), at most five; empty
/// turns the alerts off. Sorted, a repeated value once, as the API stores them.
pub fn parse_thresholds(text: &str) -> Result<Vec<u8>, String> {
    let values = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let number = part.strip_suffix('%').unwrap_or(part);
            number.parse::<u64>().map_err(|_| format!("\"{part}\" is not a whole number"))
        })
        .collect::<Result<Vec<u64>, String>>()?;
    Thresholds::new(values).map(|t| t.as_slice().to_vec()).map_err(|e| capitalised(&e.0))
}

fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::read;
    use serde_json::json;

    fn record(
        attempts: u32,
        last: Option<u16>,
        next: Option<&str>,
        done: Option<&str>,
    ) -> DeliveryRecord {
        let value = json!({"messageId": "msg_p5jXN8AQM9LWM0D4loKWxJek", "type": "webhook.test",
            "attempts": attempts, "lastStatus": last, "lastAttemptAt": null,
            "nextAttemptAt": next, "deliveredAt": done});
        serde_json::from_value(value).expect("a delivery")
    }

    const AT: &str = "2026-12-03T10:00:05Z";

    fn local(at: &str) -> String {
        format!("<{at}>")
    }

    #[test]
    fn a_delivery_reads_as_delivered_waiting_retrying_or_failed_from_its_times() {
        assert_eq!(status_words(&record(1, Some(200), None, Some(AT)), local), "Delivered");
        assert_eq!(status_words(&record(0, None, Some(AT), None), local), "Waiting");
        assert_eq!(
            status_words(&record(2, Some(500), Some(AT), None), local),
            "Retrying (next attempt at <2026-12-03T10:00:05Z>)"
        );
        assert_eq!(status_words(&record(4, Some(503), None, None), local), "Failed");
        assert_eq!(status_words(&record(4, None, None, None), local), "Failed");
    }

    #[test]
    fn a_failure_says_when_the_endpoint_was_disabled() {
        let gone = status_words(&record(1, Some(410), None, None), local);
        assert_eq!(gone, "Failed (the endpoint answered 410 Gone and was disabled)");
        let never = status_words(&record(0, None, None, None), local);
        assert_eq!(never, "Failed (not sent: the endpoint is disabled)");
    }

    #[test]
    fn the_last_answer_is_its_status_no_answer_after_a_timeout_or_a_dash_before_any_attempt() {
        assert_eq!(last_answer(&record(1, Some(204), None, Some(AT))), "204");
        assert_eq!(last_answer(&record(2, None, Some(AT), None)), "no answer");
        assert_eq!(last_answer(&record(0, None, Some(AT), None)), "—");
    }

    #[test]
    fn the_history_is_read_again_while_a_delivery_is_due_or_the_sent_message_is_missing() {
        let delivered = record(1, Some(200), None, Some(AT));
        let retrying = record(1, Some(500), Some(AT), None);
        let failed = record(3, Some(500), None, None);
        assert!(!keep_polling(&[delivered.clone(), failed.clone()], None));
        assert!(keep_polling(&[delivered.clone(), retrying], None));
        assert!(keep_polling(&[], Some("msg_p5jXN8AQM9LWM0D4loKWxJek")));
        assert!(!keep_polling(
            std::slice::from_ref(&delivered),
            Some("msg_p5jXN8AQM9LWM0D4loKWxJek")
        ));
        assert!(keep_polling(&[delivered], Some("msg_000000000000000000000000")));
        assert!(!is_pending(&failed));
    }

    #[test]
    fn a_410_in_the_history_means_the_endpoint_was_disabled() {
        let ok = record(1, Some(200), None, Some(AT));
        assert!(!answered_gone(&[ok.clone(), record(2, Some(500), None, None)]));
        assert!(answered_gone(&[ok, record(1, Some(410), None, None)]));
    }

    #[test]
    fn an_api_message_goes_to_the_field_it_names_or_to_the_whole_form() {
        assert_eq!(field_of("url must use https://"), FormField::Url);
        assert_eq!(field_of("url points at a private address (10.0.0.1)"), FormField::Url);
        assert_eq!(field_of("events lists key.rotated more than once"), FormField::Events);
        assert_eq!(field_of("description must be at most 256 characters"), FormField::Description);
        assert_eq!(
            field_of("a platform has at most 5 webhook endpoints; delete one first"),
            FormField::Form
        );
        assert_eq!(field_of(""), FormField::Form);
        assert_eq!(field_of("urls are fine"), FormField::Form);
    }

    #[test]
    fn every_box_ticked_sends_no_list_so_the_api_default_applies_and_none_ticked_is_refused() {
        assert_eq!(chosen_events(&[true; 6]), Ok(None));
        assert_eq!(chosen_events(&[false; 6]), Err("Choose at least one event."));
        let some = chosen_events(&[true, false, false, false, true, false]);
        assert_eq!(some, Ok(Some(vec!["usage.threshold_reached", "key.rotated"])));
    }

    #[test]
    fn an_endpoint_on_every_event_says_so_and_otherwise_names_them() {
        assert_eq!(events_text(&EventType::ALL), "every event");
        let two = [EventType::SubscriptionCreated, EventType::SubscriptionCanceled];
        assert_eq!(events_text(&two), "subscription.created, subscription.canceled");
        assert!(EventType::ALL.iter().all(|e| !event_meaning(*e).is_empty()));
    }

    #[test]
    fn thresholds_are_read_from_commas_or_spaces_sorted_and_each_once() {
        assert_eq!(parse_thresholds("90, 50"), Ok(vec![50, 90]));
        assert_eq!(parse_thresholds("80% 100%  80"), Ok(vec![80, 100]));
        assert_eq!(parse_thresholds(" , "), Ok(vec![]));
        assert_eq!(thresholds_text(&[50, 90]), "50, 90");
        assert_eq!(parse_thresholds(&thresholds_text(&[1, 100])), Ok(vec![1, 100]));
    }

    #[test]
    fn thresholds_out_of_range_too_many_or_not_numbers_are_refused_in_words() {
        assert_eq!(parse_thresholds("50, abc"), Err("\"abc\" is not a whole number".into()));
        assert_eq!(parse_thresholds("50.5"), Err("\"50.5\" is not a whole number".into()));
        assert_eq!(
            parse_thresholds("0, 50"),
            Err("Thresholds must be whole numbers from 1 to 100".into())
        );
        assert_eq!(
            parse_thresholds("101"),
            Err("Thresholds must be whole numbers from 1 to 100".into())
        );
        assert_eq!(
            parse_thresholds("10 20 30 40 50 60"),
            Err("Thresholds must have at most 5 entries".into())
        );
    }

    #[test]
    fn the_webhook_answers_read_as_the_contract_gives_them() {
        let list = json!({"endpoints": [{"id": "we_4fGh7Kp2QzX9aB3c", "url": "https://e.com/h",
            "events": ["webhook.test", "key.rotated"], "description": null, "disabled": true,
            "createdAt": AT}]});
        let list: EndpointList = read(200, &list.to_string()).expect("a list");
        assert_eq!(list.endpoints[0].events, vec![EventType::WebhookTest, EventType::KeyRotated]);
        assert!(list.endpoints[0].disabled);
        let created = json!({"id": "we_4fGh7Kp2QzX9aB3c", "url": "https://e.com/h",
            "events": ["webhook.test"], "description": "Mine", "secret": "whsec_x", "createdAt": AT});
        let created: EndpointCreated = read(201, &created.to_string()).expect("created");
        assert_eq!(created.secret, "whsec_x");
        let sent: TestSent =
            read(202, r#"{"messageId": "msg_p5jXN8AQM9LWM0D4loKWxJek"}"#).expect("sent");
        assert_eq!(sent.message_id, "msg_p5jXN8AQM9LWM0D4loKWxJek");
        let history = json!({"deliveries": [{"messageId": "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "type": "webhook.test", "attempts": 1, "lastStatus": 200, "lastAttemptAt": AT,
            "nextAttemptAt": null, "deliveredAt": AT}]});
        let history: DeliveryList = read(200, &history.to_string()).expect("a history");
        assert_eq!(delivery_state(&history.deliveries[0]), DeliveryState::Delivered);
        let alerts: AlertThresholds = read(200, r#"{"thresholds": [80, 100]}"#).expect("alerts");
        assert_eq!(alerts.thresholds, vec![80, 100]);
        let unknown = json!({"endpoints": [{"id": "we_4fGh7Kp2QzX9aB3c", "url": "u", "events": ["nope"],
            "description": null, "disabled": false, "createdAt": AT}]});
        let problem = read::<EndpointList>(200, &unknown.to_string()).expect_err("unknown type");
        assert_eq!(problem.code, "unexpected_answer");
        assert!(problem.message.contains("nope"), "{}", problem.message);
    }
}
