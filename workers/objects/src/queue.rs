//! The consumer of `WEBHOOK_QUEUE`, which the platforms' objects fill (their outbox).

use dream_core::ids::PlatformId;
use dream_core::protocol::webhooks::DeliveryKey;
use dream_core::webhooks::Job;
use worker::{event, Context, Env, Message, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

/// One delivery attempt per message, a batch's messages for one platform together (one
/// call to its object before, one after) and all of them at once. The platform's object
/// decides what follows each attempt; a retry goes back to the queue with the schedule's
/// delay. A failure to reach the object is retried by the queue itself (and ends in its
/// dead-letter queue after `max_retries`).
#[event(queue)]
async fn queue(batch: MessageBatch<Job>, env: Env, _ctx: Context) -> worker::Result<()> {
    let messages = batch.messages()?;
    // At most `max_batch_size` (10) messages: a list is all the grouping they need.
    let mut by_platform: Vec<(&PlatformId, Vec<&Message<Job>>)> = Vec::new();
    for message in &messages {
        let platform = &message.body().platform_id;
        match by_platform.iter_mut().find(|(p, _)| *p == platform) {
            Some((_, group)) => group.push(message),
            None => by_platform.push((platform, vec![message])),
        }
    }
    let env = &env;
    futures_util::future::join_all(by_platform.into_iter().map(
        |(platform, messages)| async move {
            let deliveries = messages
                .iter()
                .map(|m| DeliveryKey {
                    endpoint_id: m.body().endpoint_id.clone(),
                    message_id: m.body().message_id.clone(),
                })
                .collect();
            match dream_edge::webhooks::deliver(env, platform, deliveries).await {
                Ok(retries) => {
                    for (message, retry) in messages.iter().zip(retries) {
                        match retry {
                            None => message.ack(),
                            Some(delay) => message.retry_with_options(
                                &QueueRetryOptionsBuilder::new().with_delay_seconds(delay).build(),
                            ),
                        }
                    }
                }
                Err(e) => {
                    worker::console_error!("webhook deliveries of {platform}: {}", e.message);
                    messages.iter().for_each(|m| m.retry());
                }
            }
        },
    ))
    .await;
    Ok(())
}
