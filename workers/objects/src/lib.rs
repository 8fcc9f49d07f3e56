//! The objects worker: every Durable Object of dream-api, the single writers of
//! everything that can change (their one client is `dream_edge::objects`, their commands
//! `dream_core::protocol`), and the consumer of the webhook queue their outbox fills.
//! The api worker, platform-auth and stripe-oauth bind these objects by `script_name`;
//! this worker serves no HTTP route of its own.
//!
//! Each object keeps its state in SQLite-backed storage, whose calls are synchronous:
//! a decision is load, decide (in `dream_core`), store, with no await in between, so no
//! other request can interleave with it. Awaits (KV copies, another object) come only
//! after the state is stored.

pub mod developer;
pub mod platform;
mod queue;
pub mod rate_limiter;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use worker::SqlStorage;

pub use dream_edge::clock::{now, now_ms};

pub use developer::Developer;
pub use platform::Platform;
pub use rate_limiter::RateLimiter;

#[derive(Deserialize)]
struct StateRow {
    state: String,
}

/// An object's state: one JSON row of a table (`state` unless named), with a copy kept
/// in memory while the object lives (it is the only writer, so the copy is never stale).
pub struct StoredState<T> {
    table: &'static str,
    /// The statement that writes the row, made once: the quota's is run on every track.
    upsert: String,
    cached: RefCell<Option<T>>,
}

impl<T: Clone + Default + Serialize + DeserializeOwned> StoredState<T> {
    /// Creates the table `state` on first use.
    pub fn new(sql: &SqlStorage) -> Self {
        Self::in_table(sql, "state")
    }

    /// Creates the table `table` (a name of ours, never input) on first use.
    pub fn in_table(sql: &SqlStorage, table: &'static str) -> Self {
        let created = sql.exec(
            &format!("CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)"),
            None,
        );
        if let Err(e) = created {
            worker::console_error!("creating the {table} table: {e}");
        }
        let upsert = format!(
            "INSERT INTO {table} (id, state) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state"
        );
        Self { table, upsert, cached: RefCell::new(None) }
    }

    pub fn load(&self, sql: &SqlStorage) -> worker::Result<T> {
        if let Some(state) = self.cached.borrow().as_ref() {
            return Ok(state.clone());
        }
        let rows: Vec<StateRow> = sql
            .exec(&format!("SELECT state FROM {} WHERE id = 1", self.table), None)?
            .to_array()?;
        let state: T = match rows.first() {
            None => T::default(),
            Some(row) => serde_json::from_str(&row.state)
                .map_err(|e| worker::Error::RustError(format!("stored state: {e}")))?,
        };
        // Only `save` writes the table, so what was read stays true until then: a state
        // that is read on every call (the alert thresholds, usually never set) costs one
        // query per object, not one per call.
        *self.cached.borrow_mut() = Some(state.clone());
        Ok(state)
    }

    pub fn save(&self, sql: &SqlStorage, state: T) -> worker::Result<()> {
        let json =
            serde_json::to_string(&state).map_err(|e| worker::Error::RustError(e.to_string()))?;
        sql.exec(&self.upsert, vec![json.into()])?;
        *self.cached.borrow_mut() = Some(state);
        Ok(())
    }
}
