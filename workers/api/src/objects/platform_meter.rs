//! `PlatformMeter`, one per platform: the platform's monthly quota across all of its
//! end-users, and its daily statistics.

use super::{bad_path, now_ms, reply, StoredState};
use dream_core::meter::{PlatformMeter as Quota, Usage};
use dream_core::protocol::{path, PlatformUsageQuery, ReserveCommand, ReserveReply, StatsQuery};
use dream_core::stats::{self, DailyCount, Stats, MAX_DAYS};
use dream_core::time::{date, from_millis};
use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorage, State};

#[durable_object(fetch)]
pub struct PlatformMeter {
    state: State,
    quota: StoredState<Quota>,
}

impl DurableObject for PlatformMeter {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        let quota = StoredState::new(&sql);
        if let Err(e) = init_tables(&sql) {
            worker::console_error!("PlatformMeter storage: {e}");
        }
        Self { state, quota }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        match path.as_str() {
            path::RESERVE => {
                let command: ReserveCommand = req.json().await?;
                reply(self.reserve(&command))
            }
            path::DENIED => reply(self.record_denied().map(|()| true)),
            path::PLATFORM_USAGE => {
                let query: PlatformUsageQuery = req.json().await?;
                reply(self.usage(query.limit))
            }
            path::STATS => {
                let query: StatsQuery = req.json().await?;
                reply(self.stats(query.days))
            }
            other => Err(bad_path(other)),
        }
    }
}

fn init_tables(sql: &SqlStorage) -> worker::Result<()> {
    sql.exec(
        "CREATE TABLE IF NOT EXISTS daily (date TEXT PRIMARY KEY, calls INTEGER NOT NULL DEFAULT 0, denied INTEGER NOT NULL DEFAULT 0)",
        None,
    )?;
    sql.exec(
        "CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, last_seen TEXT NOT NULL)",
        None,
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct CountRow {
    n: u64,
}

impl PlatformMeter {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn quota(&self) -> worker::Result<Quota> {
        self.quota.load(&self.sql())
    }

    /// The quota check-and-increment: synchronous from load to store.
    fn reserve(&self, command: &ReserveCommand) -> worker::Result<ReserveReply> {
        let sql = self.sql();
        let now = from_millis(now_ms());
        let mut quota = self.quota()?;
        let today = date(now);
        match quota.reserve(command.amount, command.limit, now) {
            Ok(usage) => {
                self.quota.save(&sql, quota)?;
                sql.exec(
                    "INSERT INTO daily (date, calls) VALUES (?, 1) ON CONFLICT(date) DO UPDATE SET calls = calls + 1",
                    vec![today.clone().into()],
                )?;
                sql.exec(
                    "INSERT INTO users (user_id, last_seen) VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE SET last_seen = excluded.last_seen",
                    vec![command.user_id.as_str().into(), today.into()],
                )?;
                Ok(ReserveReply {
                    allowed: true,
                    usage,
                })
            }
            Err(usage) => {
                self.record_denied()?;
                Ok(ReserveReply {
                    allowed: false,
                    usage,
                })
            }
        }
    }

    fn record_denied(&self) -> worker::Result<()> {
        self.sql().exec(
            "INSERT INTO daily (date, denied) VALUES (?, 1) ON CONFLICT(date) DO UPDATE SET denied = denied + 1",
            vec![date(from_millis(now_ms())).into()],
        )?;
        Ok(())
    }

    fn usage(&self, limit: Option<u64>) -> worker::Result<Usage> {
        Ok(self.quota()?.usage.usage(limit, from_millis(now_ms())))
    }

    fn stats(&self, days: u64) -> worker::Result<Stats> {
        let sql = self.sql();
        let now = from_millis(now_ms());
        // Keep what the longest window can show, and nothing older.
        sql.exec(
            "DELETE FROM daily WHERE date < ?",
            vec![stats::window_start(MAX_DAYS, now).into()],
        )?;
        let start = stats::window_start(days, now);
        let recorded: Vec<DailyCount> = sql
            .exec(
                "SELECT date, calls, denied FROM daily WHERE date >= ?",
                vec![start.clone().into()],
            )?
            .to_array()?;
        let unique: Vec<CountRow> = sql
            .exec(
                "SELECT COUNT(*) AS n FROM users WHERE last_seen >= ?",
                vec![start.into()],
            )?
            .to_array()?;
        Ok(stats::assemble(
            days,
            now,
            &recorded,
            unique.first().map_or(0, |r| r.n),
        ))
    }
}
