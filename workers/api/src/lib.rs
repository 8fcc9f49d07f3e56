//! The multi-tenant dream-api worker: developers' servers call it with a `pk_live_` key
//! to define tiers and meter their end-users. Thin by design: requests are parsed into
//! `dream_core` types, core decides, and the Durable Objects in [`objects`] (one per
//! platform, one per developer) are the only writers of everything that can change.
//! What other workers share with this one is in `dream_edge`.

mod auth;
mod billing;
mod call;
pub mod objects;
mod routes;

use dream_core::webhooks::Job;
use worker::{
    event, Context, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Request, Response,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    dream_edge::serve(req, &env, &routes::SERVICE, |id, req, params| {
        let call = call::Call { req, env: &env, ctx: &ctx, params };
        routes::handle(id, call)
    })
    .await
}

/// The consumer of `WEBHOOK_QUEUE`: one delivery attempt per message, all of a batch at
/// once. The platform's object decides what follows each attempt; a retry goes back to
/// the queue with the schedule's delay. A failure to reach the object is retried by the
/// queue itself (and ends in its dead-letter queue after `max_retries`).
#[event(queue)]
async fn queue(batch: MessageBatch<Job>, env: Env, _ctx: Context) -> worker::Result<()> {
    let messages = batch.messages()?;
    futures_util::future::join_all(messages.iter().map(|message| async {
        match dream_edge::webhooks::deliver(&env, message.body()).await {
            Ok(None) => message.ack(),
            Ok(Some(delay)) => message.retry_with_options(
                &QueueRetryOptionsBuilder::new().with_delay_seconds(delay).build(),
            ),
            Err(e) => {
                worker::console_error!(
                    "webhook delivery {}: {}",
                    message.body().message_id,
                    e.message
                );
                message.retry();
            }
        }
    }))
    .await;
    Ok(())
}
