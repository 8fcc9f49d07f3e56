//! The platform's request log and revenue (`dream_core::logs`, `dream_core::revenue`):
//! a track appends its entry in the step that decides it, an applied subscription event
//! moves the revenue in the step that applies it, and both are read from here.

use super::*;
use dream_core::logs::{self, LogEntry};
use dream_core::protocol::activity::{LogPage, ReadLogs};
use dream_core::revenue::{self, Revenue, RevenueDay, Subscription};
use worker::SqlStorageValue;

pub(super) const TABLES: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS request_log (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, request_id TEXT NOT NULL, user_id TEXT NOT NULL, status INTEGER NOT NULL, code TEXT, amount INTEGER NOT NULL, duration_ms INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS subscriptions (user_id TEXT PRIMARY KEY, tier TEXT NOT NULL, price_cents INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS revenue_days (date TEXT PRIMARY KEY, new_subscriptions INTEGER NOT NULL, cancellations INTEGER NOT NULL, mrr_cents INTEGER NOT NULL)",
];

#[derive(Deserialize)]
struct LogRow {
    seq: i64,
    at_ms: i64,
    request_id: String,
    user_id: String,
    status: i64,
    code: Option<String>,
    amount: i64,
    duration_ms: i64,
}

#[derive(Deserialize)]
struct SubscriptionRow {
    tier: String,
    price_cents: i64,
}

#[derive(Deserialize)]
struct DayRow {
    date: String,
    new_subscriptions: i64,
    cancellations: i64,
    mrr_cents: i64,
}

#[derive(Deserialize)]
struct SumRow {
    total: Option<i64>,
}

fn or_null<T: Into<SqlStorageValue>>(value: Option<T>) -> SqlStorageValue {
    value.map_or(SqlStorageValue::Null, Into::into)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Platform {
    /// Appends a metered call's entry; on this instance's first write and every
    /// [`logs::TRIM_EVERY`]th after, what reads no longer see is deleted.
    pub(super) fn log_call(
        &self,
        command: &Track,
        (status, code): (u16, Option<&str>),
        now_ms: i64,
    ) -> worker::Result<()> {
        let sql = self.sql();
        sql.exec(
            "INSERT INTO request_log (at_ms, request_id, user_id, status, code, amount, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                now_ms.into(),
                logs::request_id(&command.request_id).into(),
                command.user_id.as_str().into(),
                i64::from(status).into(),
                or_null(code),
                i64::try_from(command.amount).unwrap_or(i64::MAX).into(),
                (now_ms - command.received_ms).max(0).into(),
            ],
        )?;
        let written = self.log_writes.get() + 1;
        self.log_writes.set(written);
        if logs::trims_after(written) {
            // Entries are written in time order, so what reads no longer see (beyond the
            // last CAPACITY, or too old) is a prefix by `seq`: found from the first entry
            // still seen, not by scanning every entry's `at_ms`, which has no index.
            sql.exec(
                "DELETE FROM request_log WHERE seq < COALESCE(\
                 (SELECT seq FROM request_log WHERE seq > (SELECT MAX(seq) FROM request_log) - ?1 AND at_ms >= ?2 ORDER BY seq LIMIT 1), \
                 (SELECT MAX(seq) FROM request_log) + 1)",
                vec![logs::CAPACITY.into(), logs::oldest_kept(now_ms).into()],
            )?;
        }
        Ok(())
    }

    /// A page of the log, newest first, inside the ring's bounds.
    pub(super) fn read_logs(&self, query: ReadLogs) -> Decided<LogPage> {
        if self.loaded()?.is_none() {
            return Ok(Err(no_platform()));
        }
        let limit = query.limit.clamp(1, logs::MAX_PAGE);
        let rows: Vec<LogRow> = self
            .sql()
            .exec(
                "SELECT seq, at_ms, request_id, user_id, status, code, amount, duration_ms FROM request_log \
                 WHERE seq > (SELECT MAX(seq) FROM request_log) - ?1 AND at_ms >= ?2 \
                 AND (?3 IS NULL OR user_id = ?3) AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR seq < ?5) \
                 ORDER BY seq DESC LIMIT ?6",
                vec![
                    logs::CAPACITY.into(),
                    logs::oldest_kept(now_ms()).into(),
                    or_null(query.user_id.as_ref().map(|u| u.as_str())),
                    or_null(query.status.map(i64::from)),
                    or_null(query.before),
                    i64::try_from(limit + 1).unwrap_or(101).into(),
                ],
            )?
            .to_array()?;
        let more = rows.len() as u64 > limit;
        let rows = &rows[..rows.len().min(limit as usize)];
        let next_before = more.then(|| rows.last().map(|r| r.seq.to_string())).flatten();
        let entries = rows
            .iter()
            .filter_map(|r| {
                Some(LogEntry {
                    request_id: r.request_id.clone(),
                    at: logs::at(r.at_ms),
                    method: logs::TRACK_METHOD.into(),
                    path: logs::TRACK_PATH.into(),
                    status: u16::try_from(r.status).ok()?,
                    code: r.code.clone(),
                    user_id: UserId::parse(&r.user_id).ok()?,
                    amount: count(r.amount),
                    duration_ms: count(r.duration_ms),
                })
            })
            .collect();
        Ok(Ok(LogPage { entries, next_before }))
    }

    /// Moves the revenue for an applied plan update of `user`: their subscription, and
    /// today's row (its counts, and the MRR after the change).
    pub(super) fn count_revenue(
        &self,
        sql: &SqlStorage,
        user: &UserId,
        update: &PlanUpdate,
        tiers: &TierConfig,
    ) -> worker::Result<()> {
        let before: Option<Subscription> = sql
            .exec(
                "SELECT tier, price_cents FROM subscriptions WHERE user_id = ?",
                vec![user.as_str().into()],
            )?
            .to_array::<SubscriptionRow>()?
            .into_iter()
            .next()
            .map(|r| Subscription { tier: r.tier, price_cents: count(r.price_cents) });
        let Some(change) = revenue::change(before.as_ref(), update, tiers) else {
            return Ok(());
        };
        match &change.now {
            Some(s) => sql.exec(
                "INSERT INTO subscriptions (user_id, tier, price_cents) VALUES (?1, ?2, ?3) ON CONFLICT(user_id) DO UPDATE SET tier = ?2, price_cents = ?3",
                vec![
                    user.as_str().into(),
                    s.tier.as_str().into(),
                    i64::try_from(s.price_cents).unwrap_or(i64::MAX).into(),
                ],
            )?,
            None => sql.exec("DELETE FROM subscriptions WHERE user_id = ?", vec![user.as_str().into()])?,
        };
        let mrr = sql
            .exec("SELECT SUM(price_cents) AS total FROM subscriptions", None)?
            .one::<SumRow>()?
            .total
            .unwrap_or(0);
        sql.exec(
            "INSERT INTO revenue_days (date, new_subscriptions, cancellations, mrr_cents) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(date) DO UPDATE SET new_subscriptions = new_subscriptions + ?2, cancellations = cancellations + ?3, mrr_cents = ?4",
            vec![
                date(now()).into(),
                i64::try_from(change.new_subscriptions).unwrap_or(0).into(),
                i64::try_from(change.cancellations).unwrap_or(0).into(),
                mrr.into(),
            ],
        )?;
        Ok(())
    }

    pub(super) fn read_revenue(&self) -> Decided<Revenue> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let sql = self.sql();
        let now = now();
        let active: Vec<Subscription> = sql
            .exec("SELECT tier, price_cents FROM subscriptions", None)?
            .to_array::<SubscriptionRow>()?
            .into_iter()
            .map(|r| Subscription { tier: r.tier, price_cents: count(r.price_cents) })
            .collect();
        let kept: Vec<RevenueDay> = sql
            .exec(
                "SELECT date, new_subscriptions, cancellations, mrr_cents FROM revenue_days \
                 WHERE date >= COALESCE((SELECT MAX(date) FROM revenue_days WHERE date < ?1), ?1)",
                vec![revenue::window_start(now).into()],
            )?
            .to_array::<DayRow>()?
            .into_iter()
            .map(|r| RevenueDay {
                date: r.date,
                new_subscriptions: count(r.new_subscriptions),
                cancellations: count(r.cancellations),
                mrr_cents: count(r.mrr_cents),
            })
            .collect();
        Ok(Ok(revenue::assemble(now, &active, &kept, &loaded.tiers)))
    }
}
