//! A fixed-window rate limiter per name (for example registrations per client IP).

use super::{init_state_table, load_state, now_ms, reply, save_state};
use dream_core::meter::{RateStatus, RateWindow};
use dream_core::protocol::LimitCommand;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimitReply {
    pub allowed: bool,
    pub rate: RateStatus,
}

#[durable_object(fetch)]
pub struct RateLimiter {
    state: State,
    window: RefCell<Option<RateWindow>>,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        if let Err(e) = init_state_table(&state.storage().sql()) {
            worker::console_error!("RateLimiter storage: {e}");
        }
        Self {
            state,
            window: RefCell::new(None),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let command: LimitCommand = req.json().await?;
        reply(self.acquire(&command))
    }
}

impl RateLimiter {
    fn acquire(&self, command: &LimitCommand) -> worker::Result<LimitReply> {
        let sql = self.state.storage().sql();
        let mut window = match *self.window.borrow() {
            Some(w) => w,
            None => load_state(&sql)?,
        };
        let outcome = window.try_acquire(command.limit, command.window_ms, now_ms());
        if outcome.is_ok() {
            save_state(&sql, &window)?;
            *self.window.borrow_mut() = Some(window);
        }
        Ok(match outcome {
            Ok(rate) => LimitReply {
                allowed: true,
                rate,
            },
            Err(rate) => LimitReply {
                allowed: false,
                rate,
            },
        })
    }
}
