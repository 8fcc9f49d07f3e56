//! `PlatformMeter`, one per platform: the platform's monthly quota across all of its
//! end-users, the end-users a platform in preview serves, and its daily statistics.

use super::{bad_path, now_ms, reply, StoredState};
use dream_core::billing::preview_admits;
use dream_core::meter::{PlatformMeter as Quota, Usage};
use dream_core::protocol::{
    path, AdmitCommand, PlatformUsageQuery, ReleaseCommand, ReserveCommand, ReserveReply,
    StatsQuery,
};
use dream_core::stats::{self, DailyCount, Stats, MAX_DAYS};
use dream_core::time::{date, from_millis};
use serde::Deserialize;
use std::cell::RefCell;
use std::collections::HashSet;
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorage, State};

#[durable_object(fetch)]
pub struct PlatformMeter {
    state: State,
    quota: StoredState<Quota>,
    /// End-users already recorded as seen today (the date, then their ids), so that
    /// a busy end-user costs one write a day, not one a call.
    seen_today: RefCell<(String, HashSet<String>)>,
    /// The end-users the preview serves (table `preview_users`), read once per instance.
    preview_users: RefCell<Option<HashSet<String>>>,
}

impl DurableObject for PlatformMeter {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        let quota = StoredState::new(&sql);
        if let Err(e) = init_tables(&sql) {
            worker::console_error!("PlatformMeter storage: {e}");
        }
        Self { state, quota, seen_today: RefCell::default(), preview_users: RefCell::default() }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        match path.as_str() {
            path::RESERVE => {
                let command: ReserveCommand = req.json().await?;
                reply(self.reserve(&command))
            }
            path::RELEASE => {
                let command: ReleaseCommand = req.json().await?;
                reply(self.release(&command))
            }
            path::ADMIT => {
                let command: AdmitCommand = req.json().await?;
                reply(self.admit(&command))
            }
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
    sql.exec("CREATE TABLE IF NOT EXISTS preview_users (user_id TEXT PRIMARY KEY)", None)?;
    Ok(())
}

#[derive(Deserialize)]
struct CountRow {
    n: u64,
}

#[derive(Deserialize)]
struct UserRow {
    user_id: String,
}

impl PlatformMeter {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn quota(&self) -> worker::Result<Quota> {
        self.quota.load(&self.sql())
    }

    /// The quota check-and-increment: synchronous from load to store, and one write
    /// (the quota row, today's counts in it). Every attempt counts its end-user as seen
    /// today, allowed or not. In preview, an end-user the platform does not serve yet
    /// is refused first when it serves its most already.
    fn reserve(&self, command: &ReserveCommand) -> worker::Result<ReserveReply> {
        let sql = self.sql();
        let now = from_millis(now_ms());
        let today = date(now);
        self.record_seen(&sql, command.user_id.as_str(), &today)?;
        let mut quota = self.quota()?;
        let (served, serving) = self.preview_serves(command.user_id.as_str())?;
        let reply = if command.preview_limit.is_some()
            && !preview_admits(served, serving, command.preview_limit)
        {
            let usage = quota.usage.usage(command.limit, now);
            ReserveReply { allowed: false, usage, preview_full: true, new_end_user: false }
        } else {
            match quota.reserve(command.amount, command.limit, now) {
                Ok(usage) => {
                    let new_end_user = command.preview_limit.is_some() && !served;
                    if new_end_user {
                        self.serve_in_preview(command.user_id.as_str())?;
                    }
                    ReserveReply { allowed: true, usage, preview_full: false, new_end_user }
                }
                Err(usage) => {
                    ReserveReply { allowed: false, usage, preview_full: false, new_end_user: false }
                }
            }
        };
        let allowed = reply.allowed;
        self.keep(&sql, quota, &today, i64::from(allowed), u64::from(!allowed))?;
        Ok(reply)
    }

    /// Stores the quota with today's counts moved on; a day that has just ended goes to
    /// the `daily` table first.
    fn keep(
        &self,
        sql: &SqlStorage,
        mut quota: Quota,
        today: &str,
        calls: i64,
        denied: u64,
    ) -> worker::Result<()> {
        if let Some(day) = quota.count_day(today, calls, denied) {
            sql.exec(
                "INSERT INTO daily (date, calls, denied) VALUES (?1, ?2, ?3) ON CONFLICT(date) DO UPDATE SET calls = calls + ?2, denied = denied + ?3",
                vec![day.date.into(), (day.calls as i64).into(), (day.denied as i64).into()],
            )?;
        }
        self.quota.save(sql, quota)
    }

    /// Whether the preview serves `user_id` already, and how many it serves.
    fn preview_serves(&self, user_id: &str) -> worker::Result<(bool, u64)> {
        let mut users = self.preview_users.borrow_mut();
        if users.is_none() {
            let rows: Vec<UserRow> =
                self.sql().exec("SELECT user_id FROM preview_users", None)?.to_array()?;
            *users = Some(rows.into_iter().map(|r| r.user_id).collect());
        }
        let users =
            users.as_ref().map_or_else(Default::default, |u| (u.contains(user_id), u.len() as u64));
        Ok(users)
    }

    fn serve_in_preview(&self, user_id: &str) -> worker::Result<()> {
        self.sql().exec(
            "INSERT OR IGNORE INTO preview_users (user_id) VALUES (?)",
            vec![user_id.into()],
        )?;
        if let Some(users) = self.preview_users.borrow_mut().as_mut() {
            users.insert(user_id.to_string());
        }
        Ok(())
    }

    /// Admits `user_id` to the preview if it has room (for routes that serve an
    /// end-user without metering, such as checkout).
    fn admit(&self, command: &AdmitCommand) -> worker::Result<bool> {
        let (served, count) = self.preview_serves(command.user_id.as_str())?;
        if !preview_admits(served, count, command.preview_limit) {
            return Ok(false);
        }
        if command.preview_limit.is_some() && !served {
            self.serve_in_preview(command.user_id.as_str())?;
        }
        Ok(true)
    }

    fn record_seen(&self, sql: &SqlStorage, user_id: &str, today: &str) -> worker::Result<()> {
        let mut seen = self.seen_today.borrow_mut();
        if seen.0 != today {
            *seen = (today.to_string(), HashSet::new());
        }
        if seen.1.insert(user_id.to_string()) {
            sql.exec(
                "INSERT INTO users (user_id, last_seen) VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE SET last_seen = excluded.last_seen",
                vec![user_id.into(), today.into()],
            )?;
        }
        Ok(())
    }

    /// Gives back a reservation that the end-user's meter did not use.
    fn release(&self, command: &ReleaseCommand) -> worker::Result<bool> {
        let sql = self.sql();
        let now = from_millis(now_ms());
        let mut quota = self.quota()?;
        quota.usage.release(command.amount, now);
        if let Some(user) = &command.forget_user {
            sql.exec("DELETE FROM preview_users WHERE user_id = ?", vec![user.as_str().into()])?;
            if let Some(users) = self.preview_users.borrow_mut().as_mut() {
                users.remove(user.as_str());
            }
        }
        self.keep(&sql, quota, &date(now), -1, u64::from(command.denied))?;
        Ok(true)
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
        let kept: Vec<DailyCount> = sql
            .exec(
                "SELECT date, calls, denied FROM daily WHERE date >= ?",
                vec![start.clone().into()],
            )?
            .to_array()?;
        let quota = self.quota()?;
        let recorded = stats::with_today(kept, quota.today.as_ref().filter(|d| d.date >= start));
        let unique: Vec<CountRow> = sql
            .exec("SELECT COUNT(*) AS n FROM users WHERE last_seen >= ?", vec![start.into()])?
            .to_array()?;
        Ok(stats::assemble(days, now, &recorded, unique.first().map_or(0, |r| r.n)))
    }
}
