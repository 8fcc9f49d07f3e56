//! A fixed-window rate limiter per name (for example registrations per client IP).

use super::{now_ms, StoredState};
use dream_core::command::Command;
use dream_core::meter::RateWindow;
use dream_core::protocol::{LimitReply, TakeFromLimit};
use dream_edge::objects::{answer, bad_path, not_by_fetch, parse, Answer};
use worker::{durable_object, DurableObject, Env, Request, Response, State};

#[durable_object(fetch)]
pub struct RateLimiter {
    state: State,
    window: StoredState<RateWindow>,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        let window = StoredState::new(&state.storage().sql());
        Self { state, window }
    }

    async fn fetch(&self, _req: Request) -> worker::Result<Response> {
        not_by_fetch()
    }
}

dream_edge::rpc_object!(RateLimiter);

impl Answer for RateLimiter {
    async fn answer(&self, path: &str, body: &str) -> worker::Result<String> {
        match path {
            TakeFromLimit::PATH => answer::<TakeFromLimit>(self.acquire(&parse(body)?)),
            other => Err(bad_path(other)),
        }
    }
}

impl RateLimiter {
    fn acquire(&self, command: &TakeFromLimit) -> worker::Result<LimitReply> {
        let sql = self.state.storage().sql();
        let mut window = self.window.load(&sql)?;
        let outcome = window.try_acquire(command.limit, command.window_ms, now_ms());
        if outcome.is_ok() {
            self.window.save(&sql, window)?;
        }
        Ok(match outcome {
            Ok(rate) => LimitReply { allowed: true, rate },
            Err(rate) => LimitReply { allowed: false, rate },
        })
    }
}
