//! Deliveries to the platform's webhook endpoints (table `deliveries`: one row per
//! message and endpoint, with the message's body as sent and its delivery record).
//!
//! An event is turned into deliveries in the same synchronous step that decided it (a
//! `track` that crossed a threshold, a purchase, a rotation), so it is never lost and
//! never decided twice; the step only writes rows and wakes the object's alarm. The
//! alarm hands the queue (`WEBHOOK_QUEUE`) the ids of what is not queued yet, after the
//! call that caused it has been answered. The queue's consumer asks here before the
//! attempts of a batch ([`StartAttempts`]) and reports their answers
//! ([`FinishAttempts`]), one call each per platform and batch; the object
//! decides what follows from the delivery record (`dream_core::webhooks::delivery`).

use super::webhooks::developer_only;
use super::*;
use dream_core::protocol::webhooks::{
    no_endpoint, DeliveryKey, Endpoint, FinishAttempts, ListDeliveries, SendTest, StartAttempts,
};
use dream_core::webhooks::{
    recipients, Attempt, DeliveryRecord, EndpointId, Event, Job, Message, MessageId, Next,
    RetrySchedule,
};
use worker::ScheduledTime;

/// At most this many deliveries are kept per endpoint (the history's longest page).
const HISTORY: i64 = 100;
/// Jobs handed to the queue in one batch (Cloudflare's limit per `sendBatch`).
const QUEUE_BATCH: i64 = 100;

#[derive(Deserialize)]
struct DeliveryRow {
    body: String,
    record: String,
}

#[derive(Deserialize)]
struct RecordRow {
    record: String,
}

/// An endpoint and its sealed secrets, read together for an attempt.
#[derive(Deserialize)]
struct EndpointSecretsRow {
    endpoint: String,
    secrets: String,
}

#[derive(Deserialize)]
struct JobRow {
    endpoint_id: String,
    message_id: String,
}

impl Platform {
    /// Stores a delivery of each event to every endpoint that takes it and wakes the
    /// alarm that queues them. Synchronous: part of the step that decided the events.
    pub(super) fn emit(&self, events: Vec<Event>) -> worker::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let endpoints = self.endpoint_list()?;
        let now = now();
        let mut rng = dream_edge::random::random_source().map_err(config_error)?;
        let mut stored = false;
        for event in events {
            let to = recipients(event.event_type(), &endpoints);
            if to.is_empty() {
                continue;
            }
            let message = Message::new(MessageId::generate(&mut rng), &event, now);
            let body = message.body();
            for endpoint in to {
                self.store_delivery(&endpoint.id, &message, &body)?;
                stored = true;
            }
        }
        if stored {
            self.wake();
        }
        Ok(())
    }

    /// `body` is `message.body()`, made once for all its endpoints.
    fn store_delivery(
        &self,
        endpoint: &EndpointId,
        message: &Message,
        body: &str,
    ) -> worker::Result<()> {
        let record = DeliveryRecord::pending(message, message.timestamp);
        let sql = self.sql();
        sql.exec(
            "INSERT OR IGNORE INTO deliveries (endpoint_id, message_id, body, record, queued) VALUES (?1, ?2, ?3, ?4, 0)",
            vec![
                endpoint.as_str().into(),
                message.id.as_str().into(),
                body.into(),
                serde_json::to_string(&record).map_err(json_error)?.into(),
            ],
        )?;
        sql.exec(
            "DELETE FROM deliveries WHERE endpoint_id = ?1 AND rowid NOT IN (SELECT rowid FROM deliveries WHERE endpoint_id = ?1 ORDER BY rowid DESC LIMIT ?2)",
            vec![endpoint.as_str().into(), HISTORY.into()],
        )?;
        Ok(())
    }

    /// Sets the alarm to now (an offset of 0 ms). Storage writes need no await to be
    /// kept (the answer waits for them), so the step that stored the deliveries stays
    /// synchronous.
    fn wake(&self) {
        let storage = self.state.storage();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = storage.set_alarm(ScheduledTime::from(0_i64)).await {
                worker::console_error!("setting the delivery alarm: {e}");
            }
        });
    }

    /// The alarm: hands the queue every delivery not queued yet, a batch at a time. A
    /// failure leaves them unqueued; the runtime retries the alarm.
    pub(super) async fn queue_deliveries(&self) -> worker::Result<()> {
        let Some(loaded) = self.loaded()? else { return Ok(()) };
        let platform_id = loaded.record.platform_id.clone();
        let queue = self.env.queue("WEBHOOK_QUEUE")?;
        loop {
            let rows: Vec<JobRow> = self
                .sql()
                .exec(
                    "SELECT endpoint_id, message_id FROM deliveries WHERE queued = 0 ORDER BY rowid LIMIT ?",
                    vec![QUEUE_BATCH.into()],
                )?
                .to_array()?;
            if rows.is_empty() {
                return Ok(());
            }
            let jobs = rows
                .iter()
                .map(|row| {
                    Ok(Job {
                        platform_id: platform_id.clone(),
                        endpoint_id: EndpointId::parse(&row.endpoint_id).map_err(stored_id)?,
                        message_id: MessageId::parse(&row.message_id).map_err(stored_id)?,
                    })
                })
                .collect::<worker::Result<Vec<Job>>>()?;
            queue.send_batch(jobs).await?;
            for row in rows {
                self.sql().exec(
                    "UPDATE deliveries SET queued = 1 WHERE endpoint_id = ?1 AND message_id = ?2",
                    vec![row.endpoint_id.into(), row.message_id.into()],
                )?;
            }
        }
    }

    /// `POST /v1/webhooks/{id}/test`: a `webhook.test` message to this endpoint only.
    pub(super) fn send_test(&self, auth: &Auth, command: SendTest) -> Decided<MessageId> {
        if let Err(refusal) = developer_only(auth) {
            return Ok(Err(refusal));
        }
        match self.endpoint(&command.id)? {
            None => return Ok(Err(no_endpoint())),
            Some(endpoint) if endpoint.disabled => return Ok(Err(disabled())),
            Some(_) => {}
        }
        let mut rng = dream_edge::random::random_source().map_err(config_error)?;
        let message = Message::new(MessageId::generate(&mut rng), &Event::WebhookTest, now());
        self.store_delivery(&command.id, &message, &message.body())?;
        self.wake();
        Ok(Ok(message.id))
    }

    /// `GET /v1/webhooks/{id}/deliveries`: newest first.
    pub(super) fn deliveries(
        &self,
        auth: &Auth,
        command: ListDeliveries,
    ) -> Decided<Vec<DeliveryRecord>> {
        if let Err(refusal) = developer_only(auth) {
            return Ok(Err(refusal));
        }
        if self.endpoint(&command.id)?.is_none() {
            return Ok(Err(no_endpoint()));
        }
        let limit = i64::try_from(command.limit).unwrap_or(HISTORY).min(HISTORY);
        let rows: Vec<RecordRow> = self
            .sql()
            .exec(
                "SELECT record FROM deliveries WHERE endpoint_id = ?1 ORDER BY rowid DESC LIMIT ?2",
                vec![command.id.as_str().into(), limit.into()],
            )?
            .to_array()?;
        let records = rows
            .iter()
            .map(|row| serde_json::from_str(&row.record))
            .collect::<Result<Vec<DeliveryRecord>, _>>()
            .map_err(json_error)?;
        Ok(Ok(records))
    }

    /// What the consumer sends now for each delivery of its batch, if anything.
    pub(super) fn start_attempts(
        &self,
        auth: &Auth,
        command: StartAttempts,
    ) -> Decided<Vec<Option<Attempt>>> {
        if let Err(refusal) = internal_only(auth) {
            return Ok(Err(refusal));
        }
        let attempts = command
            .deliveries
            .iter()
            .map(|key| self.start_attempt(key))
            .collect::<worker::Result<Vec<_>>>()?;
        Ok(Ok(attempts))
    }

    fn start_attempt(&self, key: &DeliveryKey) -> worker::Result<Option<Attempt>> {
        let Some((body, mut record)) = self.delivery(&key.endpoint_id, &key.message_id)? else {
            return Ok(None);
        };
        if record.is_finished() {
            return Ok(None);
        }
        let rows: Vec<EndpointSecretsRow> = self
            .sql()
            .exec(
                "SELECT endpoint, secrets FROM webhook_endpoints WHERE id = ?",
                vec![key.endpoint_id.as_str().into()],
            )?
            .to_array()?;
        let Some(row) = rows.into_iter().next() else { return Ok(None) };
        let endpoint: Endpoint = serde_json::from_str(&row.endpoint).map_err(json_error)?;
        if endpoint.disabled {
            record.abandon();
            self.save_record(key, &record)?;
            return Ok(None);
        }
        Ok(Some(Attempt { url: endpoint.url, sealed_secrets: row.secrets, body }))
    }

    /// Records each attempt's answer; replies, for each, the delay before the next
    /// attempt, if any. A `410` disables the endpoint, so nothing more is sent to it.
    pub(super) fn finish_attempts(
        &self,
        auth: &Auth,
        command: FinishAttempts,
    ) -> Decided<Vec<Option<u32>>> {
        if let Err(refusal) = internal_only(auth) {
            return Ok(Err(refusal));
        }
        let schedule = dream_edge::config::retry_schedule(&self.env).map_err(config_error)?;
        let retries = command
            .results
            .iter()
            .map(|(key, status)| self.finish_attempt(key, *status, &schedule))
            .collect::<worker::Result<Vec<_>>>()?;
        Ok(Ok(retries))
    }

    fn finish_attempt(
        &self,
        key: &DeliveryKey,
        status: Option<u16>,
        schedule: &RetrySchedule,
    ) -> worker::Result<Option<u32>> {
        let Some((_, mut record)) = self.delivery(&key.endpoint_id, &key.message_id)? else {
            return Ok(None);
        };
        if record.is_finished() {
            return Ok(None);
        }
        let now = now();
        let next = record.record(status, now, schedule);
        self.save_record(key, &record)?;
        if next == Next::Disabled {
            self.disable_endpoint(&key.endpoint_id)?;
        }
        Ok(next.retry_in(now))
    }

    fn save_record(&self, key: &DeliveryKey, record: &DeliveryRecord) -> worker::Result<()> {
        self.sql().exec(
            "UPDATE deliveries SET record = ?1 WHERE endpoint_id = ?2 AND message_id = ?3",
            vec![
                serde_json::to_string(record).map_err(json_error)?.into(),
                key.endpoint_id.as_str().into(),
                key.message_id.as_str().into(),
            ],
        )?;
        Ok(())
    }

    fn delivery(
        &self,
        endpoint: &EndpointId,
        message: &MessageId,
    ) -> worker::Result<Option<(String, DeliveryRecord)>> {
        let rows: Vec<DeliveryRow> = self
            .sql()
            .exec(
                "SELECT body, record FROM deliveries WHERE endpoint_id = ?1 AND message_id = ?2",
                vec![endpoint.as_str().into(), message.as_str().into()],
            )?
            .to_array()?;
        let Some(row) = rows.into_iter().next() else { return Ok(None) };
        let record = serde_json::from_str(&row.record).map_err(json_error)?;
        Ok(Some((row.body, record)))
    }
}

/// A test to an endpoint that answered `410 Gone`: nothing is sent to it any more.
fn disabled() -> Refusal {
    Refusal::new(
        ErrorCode::Conflict,
        "The endpoint is disabled: a delivery to it was answered 410 Gone. Delete it and add it again to receive messages.",
    )
}

/// The consumer's commands come from this worker only (`Auth::Verified`).
fn internal_only(auth: &Auth) -> Result<(), Refusal> {
    match auth {
        Auth::Verified => Ok(()),
        Auth::Key(_) | Auth::EndUser => {
            Err(Refusal::new(ErrorCode::Forbidden, "Deliveries are made by dream-api only."))
        }
    }
}

fn stored_id(e: dream_core::error::Invalid) -> worker::Error {
    worker::Error::RustError(format!("a stored delivery's id: {}", e.0))
}
