//! `UsageMeter`, one per end-user of a platform: the only writer of that end-user's
//! count, plan, rate window and idempotency keys. It mirrors a snapshot of itself to
//! `USAGE_KV` for dashboards, at most once every few seconds, from an alarm.

use super::{bad_path, now_ms, reply, StoredState};
use dream_core::billing::{EndUserBilling, PlanUpdate};
use dream_core::ids::{PlatformId, UserId};
use dream_core::meter::{
    IdempotencyRecord, RateStatus, TrackDecision, TrackInput, UserMeter, IDEMPOTENCY_TTL_MS,
    RATE_WINDOW_MS,
};
use dream_core::protocol::{
    path, user_answer, BillingEventCommand, BillingView, SettleCommand, TrackCommand, TrackReply,
    UsageSnapshot, UserCommand,
};
use dream_core::storage;
use dream_core::time::from_millis;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorage, State};

/// How often, at most, a meter writes its snapshot to KV. KV takes at most one write a
/// second per key, and readers elsewhere may see a write up to a minute late anyway, so
/// a busy end-user's snapshot follows their meter every few seconds: the first change
/// after a quiet spell is written at once, the changes that follow it together. Each
/// write is an alarm, a KV write and its billing; once a second, it was the largest
/// cost of a track beyond its two meters (bench/run.sh).
const MIRROR_EVERY_MS: i64 = 5_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Stored {
    /// Whose meter this is; set by the first command.
    owner: Option<(PlatformId, UserId)>,
    meter: UserMeter,
}

#[durable_object]
pub struct UsageMeter {
    state: State,
    env: Env,
    stored: StoredState<Stored>,
    /// The end-user's Stripe customer, subscription and applied events (table `billing`,
    /// apart from the meter, which every call writes).
    billing: StoredState<EndUserBilling>,
    /// Idempotency keys whose first call is waiting on the platform quota.
    in_flight: RefCell<HashSet<String>>,
    alarm_set: Cell<bool>,
    /// When the snapshot last reached KV (0 in a fresh instance: mirror at once).
    mirrored_at_ms: Cell<i64>,
    /// Whether old idempotency keys may be waiting to be forgotten: once per instance,
    /// and again after each new key.
    cleanup_due: Cell<bool>,
}

impl DurableObject for UsageMeter {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        let stored = StoredState::new(&sql);
        let billing = StoredState::in_table(&sql, "billing");
        if let Err(e) = init_tables(&sql) {
            worker::console_error!("UsageMeter storage: {e}");
        }
        Self {
            state,
            env,
            stored,
            billing,
            in_flight: RefCell::default(),
            alarm_set: Cell::new(false),
            mirrored_at_ms: Cell::new(0),
            cleanup_due: Cell::new(true),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        match path.as_str() {
            path::TRACK => {
                let command: TrackCommand = req.json().await?;
                reply(self.track(&command).await)
            }
            path::SETTLE => {
                let command: SettleCommand = req.json().await?;
                reply(self.settle(&command).await)
            }
            path::USER => {
                let command: UserCommand = req.json().await?;
                reply(self.user(&command).await)
            }
            path::BILLING_EVENT => {
                let command: BillingEventCommand = req.json().await?;
                reply(self.billing_event(&command).await)
            }
            path::BILLING => {
                let billing = self.billing.load(&self.sql());
                reply(billing.map(|b| BillingView {
                    customer_id: b.customer_id,
                    customer_account: b.customer_account,
                    subscription_id: b.subscription_id,
                }))
            }
            other => Err(bad_path(other)),
        }
    }

    /// Writes the snapshot; calls that change the meter meanwhile find the alarm still
    /// marked as set and schedule nothing, so the alarm looks again once it is done and,
    /// if the meter moved on, asks for the next one a second later. (An alarm asked for
    /// from inside the handler for "now" could be taken for the one that just ran.)
    async fn alarm(&self) -> worker::Result<Response> {
        let written = self.mirror().await;
        self.alarm_set.set(false);
        let written = written?;
        if written.is_some() && written != self.snapshot()? {
            self.schedule_mirror().await;
        }
        Response::ok("mirrored")
    }
}

fn init_tables(sql: &SqlStorage) -> worker::Result<()> {
    sql.exec(
        "CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, recorded_at INTEGER NOT NULL, answer TEXT NOT NULL)",
        None,
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct IdempotencyRow {
    recorded_at: i64,
    answer: String,
}

impl UsageMeter {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn load(&self) -> worker::Result<Stored> {
        self.stored.load(&self.sql())
    }

    fn save(&self, stored: Stored) -> worker::Result<()> {
        self.stored.save(&self.sql(), stored)
    }

    fn idempotency_record(&self, key: &str) -> worker::Result<Option<IdempotencyRecord>> {
        let rows: Vec<IdempotencyRow> = self
            .sql()
            .exec("SELECT recorded_at, answer FROM idempotency WHERE key = ?", vec![key.into()])?
            .to_array()?;
        Ok(rows.into_iter().next().and_then(|row| {
            let answer: Value = serde_json::from_str(&row.answer).ok()?;
            Some(IdempotencyRecord { recorded_at_ms: row.recorded_at, answer })
        }))
    }

    /// The end-user's check-and-increment, synchronous from load to store. The worker
    /// reserves the platform quota at the same time and settles afterwards; until then,
    /// the call's idempotency key is in flight and a repeat of it gets `InProgress`.
    async fn track(&self, command: &TrackCommand) -> worker::Result<TrackReply> {
        let now_ms = now_ms();
        let now = from_millis(now_ms);
        let key = command.idempotency_key.as_deref();
        let mut stored = self.load()?;
        let rate_now =
            stored.meter.window.peek(command.rate_limit_per_minute, RATE_WINDOW_MS, now_ms);
        if key.is_some_and(|k| self.in_flight.borrow().contains(k)) {
            return Ok(TrackReply::InProgress { rate: rate_now });
        }
        let prior = key.map(|k| self.idempotency_record(k)).transpose()?.flatten();
        let tier = command.tiers.resolve(stored.meter.plan.as_deref());
        let input = TrackInput {
            amount: command.amount,
            limit: tier.limit,
            rate_limit_per_minute: command.rate_limit_per_minute,
            prior: prior.as_ref(),
        };
        let (decision, next) = stored.meter.track(&input, now);
        let (usage, rate) = match decision {
            TrackDecision::Replay { answer, rate } => {
                return Ok(TrackReply::Allowed {
                    answer,
                    rate,
                    replayed: true,
                    taken_at_ms: now_ms,
                })
            }
            TrackDecision::TierLimitReached { usage, rate } => {
                return Ok(TrackReply::TierLimitReached { plan: tier.id, usage, rate })
            }
            TrackDecision::RateLimited { usage, rate } => {
                return Ok(TrackReply::RateLimited { plan: tier.id, usage, rate })
            }
            TrackDecision::Allowed { usage, rate } => (usage, rate),
        };
        stored.owner = Some((command.platform_id.clone(), command.user_id.clone()));
        stored.meter = next;
        self.save(stored)?;
        let answer = user_answer(&command.user_id, &tier.id, &usage, Some(true));
        if let Some(k) = key {
            self.sql().exec(
                "INSERT OR REPLACE INTO idempotency (key, recorded_at, answer) VALUES (?, ?, ?)",
                vec![k.into(), now_ms.into(), answer.to_string().into()],
            )?;
            self.in_flight.borrow_mut().insert(k.to_string());
            self.cleanup_due.set(true);
        }
        self.schedule_mirror().await;
        Ok(TrackReply::Allowed { answer, rate, replayed: false, taken_at_ms: now_ms })
    }

    /// Keeps or gives back an allowed call once the platform quota has answered.
    async fn settle(&self, command: &SettleCommand) -> worker::Result<RateStatus> {
        if let Some(k) = command.idempotency_key.as_deref() {
            self.in_flight.borrow_mut().remove(k);
            if command.release.is_some() {
                self.sql().exec("DELETE FROM idempotency WHERE key = ?", vec![k.into()])?;
            }
        }
        let mut stored = self.load()?;
        if let Some(release) = command.release {
            stored.meter = stored.meter.release(release.amount, from_millis(release.taken_at_ms));
            self.save(stored.clone())?;
            self.schedule_mirror().await;
        }
        Ok(stored.meter.window.peek(command.rate_limit_per_minute, RATE_WINDOW_MS, now_ms()))
    }

    /// Reads the end-user, after setting their plan if asked.
    async fn user(&self, command: &UserCommand) -> worker::Result<Value> {
        let mut stored = self.load()?;
        if let Some(plan) = &command.set_plan {
            stored.owner = Some((command.platform_id.clone(), command.user_id.clone()));
            stored.meter.plan = Some(plan.clone());
            self.save(stored.clone())?;
            self.schedule_mirror().await;
        }
        let tier = command.tiers.resolve(stored.meter.plan.as_deref());
        let usage = stored.meter.usage(tier.limit, from_millis(now_ms()));
        Ok(user_answer(&command.user_id, &tier.id, &usage, None))
    }

    /// Applies a Stripe event to the end-user's plan: checked against what was applied
    /// before, applied and recorded in one synchronous step, so a duplicate or an older
    /// event changes nothing even when deliveries race.
    async fn billing_event(&self, command: &BillingEventCommand) -> worker::Result<PlanUpdate> {
        let sql = self.sql();
        let mut billing = self.billing.load(&sql)?;
        let update = billing.apply(
            &command.event,
            &command.change,
            command.tier.as_deref(),
            &command.current_account,
        );
        let mut stored = self.load()?;
        let plan = match &update {
            PlanUpdate::Set { tier } => Some(Some(tier.clone())),
            PlanUpdate::Reset => Some(None),
            PlanUpdate::Keep => None,
        };
        if let Some(plan) = plan {
            stored.owner = Some((command.platform_id.clone(), command.user_id.clone()));
            stored.meter.plan = plan;
            self.save(stored)?;
        }
        self.billing.save(&sql, billing)?;
        if update != PlanUpdate::Keep {
            self.schedule_mirror().await;
        }
        Ok(update)
    }

    /// Asks for an alarm to mirror the snapshot. The count is already stored when this
    /// runs, so a failure here must not fail the call (the next change asks again).
    async fn schedule_mirror(&self) {
        if self.alarm_set.get() {
            return;
        }
        let wait_ms = (self.mirrored_at_ms.get() + MIRROR_EVERY_MS - now_ms()).max(0);
        match self.state.storage().set_alarm(wait_ms).await {
            Ok(()) => self.alarm_set.set(true),
            Err(e) => worker::console_error!("scheduling the usage snapshot: {e}"),
        }
    }

    /// Writes the snapshot to `USAGE_KV` (value and metadata, so that one list call
    /// returns every end-user) and forgets idempotency keys older than 24 hours, and
    /// returns what it wrote (the alarm then checks whether the meter moved on since).
    async fn mirror(&self) -> worker::Result<Option<UsageSnapshot>> {
        let Some(snapshot) = self.snapshot()? else {
            return Ok(None);
        };
        let Some((platform_id, user_id)) = self.load()?.owner else {
            return Ok(None);
        };
        let kv = self.env.kv("USAGE_KV")?;
        let body = serde_json::to_string(&snapshot)
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        kv.put(&storage::usage_snapshot(&platform_id, &user_id), body)?
            .metadata(&snapshot)?
            .execute()
            .await?;
        let now_ms = now_ms();
        self.mirrored_at_ms.set(now_ms);
        if self.cleanup_due.replace(false) {
            self.sql().exec(
                "DELETE FROM idempotency WHERE recorded_at <= ?",
                vec![(now_ms - IDEMPOTENCY_TTL_MS).into()],
            )?;
        }
        Ok(Some(snapshot))
    }

    /// What the dashboards should see of this end-user now (`None` before any command).
    fn snapshot(&self) -> worker::Result<Option<UsageSnapshot>> {
        let stored = self.load()?;
        Ok(stored.owner.map(|(_, user_id)| UsageSnapshot {
            user_id,
            plan: stored.meter.plan.clone(),
            period: stored.meter.usage.period.clone(),
            count: stored.meter.usage.count,
        }))
    }
}
