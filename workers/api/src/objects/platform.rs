//! `Platform`, one per platform: the only writer of everything the platform owns: its
//! key set, plan, connection (and so its mode), tiers, and every end-user's count, rate
//! window, idempotency keys and billing. Each command is decided in one synchronous
//! step against SQLite storage; the KV copies other readers use are written after (a
//! key's pointer before the key works).
//!
//! A `track` is one call here: the key is checked against the key set, then
//! `dream_core::meter::track` decides the tier limit, the platform quota, the rate
//! limit and idempotency at once, so both counts are exact by construction.

use super::{now_ms, parse, StoredState};
use dream_core::billing::{tier_bought, EndUserBilling, EndUserChange, PlanUpdate};
use dream_core::command::{Answer, Auth, PlatformCommand, Request as Envelope};
use dream_core::error::{ErrorCode, Refusal};
use dream_core::ids::UserId;
use dream_core::meter::{
    track, IdempotencyRecord, PlatformMeter as Quota, PreviewSeat, TrackDecision, TrackInput,
    UserMeter, IDEMPOTENCY_TTL_MS,
};
use dream_core::platform::{Mode, PlatformRecord};
use dream_core::protocol::{
    end_user_amount, plan_override, resolve_tier, track_answer, user_answer, AdmitEndUser,
    ApplyEndUserEvent, ApplyPlanEvent, BillingState, BillingView, Connect, CreatePlatform,
    Disconnect, EventOutcome, GetBilling, GetEndUserBilling, GetPlatform, GetStats, ListUsers,
    PlatformView, ReadUser, RotateKey, SetTiers, SetUserPlan, Track, TrackAnswer, UsersPage,
};
use dream_core::stats::{self, DailyCount, Stats, MAX_DAYS};
use dream_core::storage::KeyRecord;
use dream_core::tier::TierConfig;
use dream_core::time::{date, from_millis, rfc3339};
use dream_edge::config;
use dream_edge::store::Store;
use serde::Deserialize;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use worker::{durable_object, DurableObject, Env, Request, Response, SqlStorage, State};

/// End-users kept in memory at most; beyond it the cache starts again (SQLite has all).
const CACHED_END_USERS: usize = 10_000;
/// How often, at most, expired idempotency keys are forgotten.
const FORGET_KEYS_EVERY_MS: i64 = 60 * 60 * 1000;

type Decided<T> = worker::Result<Result<T, Refusal>>;

/// The platform's record as loaded, with its tiers validated once.
struct Loaded {
    record: PlatformRecord,
    tiers: TierConfig,
}

/// One end-user as stored: their meter (written by every call) and billing (by events).
#[derive(Clone, Default)]
struct EndUser {
    meter: UserMeter,
    billing: EndUserBilling,
}

#[durable_object(fetch)]
pub struct Platform {
    state: State,
    env: Env,
    record: StoredState<Option<PlatformRecord>>,
    loaded: RefCell<Option<Rc<Loaded>>>,
    quota: StoredState<Quota>,
    end_users: RefCell<HashMap<UserId, EndUser>>,
    /// End-users already recorded as seen today (the date, then their ids), so that a
    /// busy end-user costs one write a day, not one a call.
    seen_today: RefCell<(String, HashSet<UserId>)>,
    /// The end-users the preview serves (table `preview_users`), read once per instance.
    preview_users: RefCell<Option<HashSet<UserId>>>,
    keys_forgotten_at_ms: Cell<i64>,
}

impl DurableObject for Platform {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        let record = StoredState::in_table(&sql, "record");
        let quota = StoredState::in_table(&sql, "quota");
        if let Err(e) = init_tables(&sql) {
            worker::console_error!("Platform storage: {e}");
        }
        Self {
            state,
            env,
            record,
            loaded: RefCell::default(),
            quota,
            end_users: RefCell::default(),
            seen_today: RefCell::default(),
            preview_users: RefCell::default(),
            keys_forgotten_at_ms: Cell::new(0),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let body = req.text().await?;
        match dream_edge::objects::command_path(&req).as_str() {
            Track::PATH => self.run(&body, |_, c: Track| self.track(c)),
            ReadUser::PATH => self.run(&body, |_, c: ReadUser| self.read_user(&c.user_id)),
            SetUserPlan::PATH => self.run(&body, |_, c: SetUserPlan| self.set_user_plan(c)),
            ListUsers::PATH => self.run(&body, |_, c: ListUsers| self.list_users(c)),
            GetStats::PATH => self.run(&body, |_, c: GetStats| self.stats(c.days)),
            GetPlatform::PATH => self.run(&body, |_, _: GetPlatform| self.view()),
            GetBilling::PATH => self.run(&body, |_, _: GetBilling| self.billing_state()),
            AdmitEndUser::PATH => self.run(&body, |_, c: AdmitEndUser| self.admit(&c.user_id)),
            GetEndUserBilling::PATH => {
                self.run(&body, |_, c: GetEndUserBilling| self.end_user_billing(&c.user_id))
            }
            ApplyEndUserEvent::PATH => {
                self.run(&body, |_, c: ApplyEndUserEvent| self.end_user_event(c))
            }
            ApplyPlanEvent::PATH => self.run(&body, |_, c: ApplyPlanEvent| self.plan_event(c)),
            CreatePlatform::PATH => {
                let request = Envelope::from_wire(&body)
                    .map_err(|e| worker::Error::RustError(format!("command envelope: {e}")))?;
                let command: CreatePlatform = parse(request.command.get())?;
                let result = self.create(command.record).await;
                self.respond::<CreatePlatform>(result)
            }
            RotateKey::PATH => {
                self.run_async(&body, async |auth, c: RotateKey| self.rotate(&auth, c).await).await
            }
            SetTiers::PATH => {
                self.run_async(&body, async |_, c: SetTiers| self.set_tiers(c).await).await
            }
            Connect::PATH => {
                self.run_async(&body, async |_, c: Connect| self.connect_account(c).await).await
            }
            Disconnect::PATH => {
                self.run_async(&body, async |_, c: Disconnect| self.disconnect_account(c).await)
                    .await
            }
            other => Err(super::bad_path(other)),
        }
    }
}

fn init_tables(sql: &SqlStorage) -> worker::Result<()> {
    for statement in [
        "CREATE TABLE IF NOT EXISTS end_users (user_id TEXT PRIMARY KEY, meter TEXT NOT NULL, billing TEXT)",
        "CREATE TABLE IF NOT EXISTS idempotency (user_id TEXT NOT NULL, key TEXT NOT NULL, recorded_at INTEGER NOT NULL, answer TEXT NOT NULL, PRIMARY KEY (user_id, key))",
        "CREATE INDEX IF NOT EXISTS idempotency_age ON idempotency (recorded_at)",
        "CREATE TABLE IF NOT EXISTS daily (date TEXT PRIMARY KEY, calls INTEGER NOT NULL DEFAULT 0, denied INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE IF NOT EXISTS seen (user_id TEXT PRIMARY KEY, last_seen TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS preview_users (user_id TEXT PRIMARY KEY)",
    ] {
        sql.exec(statement, None)?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct EndUserRow {
    meter: String,
    billing: Option<String>,
}

#[derive(Deserialize)]
struct ListedRow {
    user_id: String,
    meter: String,
}

#[derive(Deserialize)]
struct IdempotencyRow {
    recorded_at: i64,
    answer: String,
}

#[derive(Deserialize)]
struct UserIdRow {
    user_id: String,
}

#[derive(Deserialize)]
struct CountRow {
    n: u64,
}

fn json_error(e: serde_json::Error) -> worker::Error {
    worker::Error::RustError(format!("stored JSON: {e}"))
}

fn config_error(e: dream_edge::error::ApiError) -> worker::Error {
    worker::Error::RustError(e.message)
}

fn refused<T>(code: ErrorCode, message: impl Into<String>) -> Decided<T> {
    Ok(Err(Refusal::new(code, message)))
}

fn no_platform() -> Refusal {
    Refusal::new(ErrorCode::NotFound, "The platform was not found.")
}

impl Platform {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    /// Reads a command, checks who asks, runs `decide` (synchronous) and answers.
    fn run<C: PlatformCommand>(
        &self,
        body: &str,
        decide: impl FnOnce(&Auth, C) -> Decided<C::Reply>,
    ) -> worker::Result<Response> {
        let (auth, admitted) = self.envelope(body)?;
        let result = match admitted {
            Err(refusal) => Ok(Err(refusal)),
            Ok(command) => match serde_json::from_str::<C>(&command) {
                Ok(command) => decide(&auth, command),
                Err(e) => Err(worker::Error::RustError(format!("command body: {e}"))),
            },
        };
        self.respond::<C>(result)
    }

    /// [`Self::run`] for a change that writes KV copies after it is stored.
    async fn run_async<C: PlatformCommand>(
        &self,
        body: &str,
        decide: impl AsyncFnOnce(Auth, C) -> Decided<C::Reply>,
    ) -> worker::Result<Response> {
        let result = match self.envelope(body)? {
            (_, Err(refusal)) => Ok(Err(refusal)),
            (auth, Ok(command)) => decide(auth, parse(&command)?).await,
        };
        self.respond::<C>(result)
    }

    /// The envelope of a command: who asks, and the command's JSON if they may ask.
    fn envelope(&self, body: &str) -> worker::Result<(Auth, Result<String, Refusal>)> {
        let request = Envelope::from_wire(body)
            .map_err(|e| worker::Error::RustError(format!("command envelope: {e}")))?;
        let admitted = self.admit_caller(&request.auth)?.map(|_| request.command.get().to_string());
        Ok((request.auth, admitted))
    }

    fn respond<C: PlatformCommand>(&self, result: Decided<C::Reply>) -> worker::Result<Response> {
        let preview = self.loaded()?.is_some_and(|l| l.record.mode() == Mode::Preview);
        match result {
            Ok(result) => {
                let text = Answer { preview, result }
                    .to_wire()
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                json_response(text)
            }
            Err(e) => Ok(Response::error(e.to_string(), 500)?),
        }
    }

    fn loaded(&self) -> worker::Result<Option<Rc<Loaded>>> {
        if let Some(loaded) = self.loaded.borrow().as_ref() {
            return Ok(Some(loaded.clone()));
        }
        let Some(record) = self.record.load(&self.sql())? else {
            return Ok(None);
        };
        let tiers = record.tier_config();
        let loaded = Rc::new(Loaded { record, tiers });
        *self.loaded.borrow_mut() = Some(loaded.clone());
        Ok(Some(loaded))
    }

    /// Stores a changed record; the copy in memory follows.
    fn save(&self, record: PlatformRecord) -> worker::Result<Rc<Loaded>> {
        self.record.save(&self.sql(), Some(record.clone()))?;
        let tiers = record.tier_config();
        let loaded = Rc::new(Loaded { record, tiers });
        *self.loaded.borrow_mut() = Some(loaded.clone());
        Ok(loaded)
    }

    /// The platform, if the caller may act on it: an API key must be the current key or
    /// the previous one inside its grace period.
    fn admit_caller(&self, auth: &Auth) -> Decided<Rc<Loaded>> {
        let Some(loaded) = self.loaded()? else {
            return Ok(Err(match auth {
                Auth::Key(_) => Refusal::new(
                    ErrorCode::InvalidApiKey,
                    "This API key does not exist or was revoked.",
                ),
                Auth::EndUser => Refusal::new(
                    ErrorCode::Unauthenticated,
                    "The session token names a platform that does not exist.",
                ),
                Auth::Verified => no_platform(),
            }));
        };
        if let Auth::Key(key) = auth {
            if let Err(refusal) = loaded.record.keys.admit(key, from_millis(now_ms())) {
                return Ok(Err(refusal));
            }
        }
        Ok(Ok(loaded))
    }

    fn platform_limit(&self, loaded: &Loaded) -> worker::Result<Option<u64>> {
        Ok(config::platform_tiers(&self.env).map_err(config_error)?.limit(loaded.record.plan()))
    }

    // ---- End-users ----

    fn end_user(&self, user: &UserId) -> worker::Result<Option<EndUser>> {
        if let Some(found) = self.end_users.borrow().get(user) {
            return Ok(Some(found.clone()));
        }
        let rows: Vec<EndUserRow> = self
            .sql()
            .exec(
                "SELECT meter, billing FROM end_users WHERE user_id = ?",
                vec![user.as_str().into()],
            )?
            .to_array()?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(None);
        };
        let found = EndUser {
            meter: serde_json::from_str(&row.meter).map_err(json_error)?,
            billing: row
                .billing
                .map(|b| serde_json::from_str(&b))
                .transpose()
                .map_err(json_error)?
                .unwrap_or_default(),
        };
        self.remember(user, found.clone());
        Ok(Some(found))
    }

    fn remember(&self, user: &UserId, end_user: EndUser) {
        let mut cache = self.end_users.borrow_mut();
        if cache.len() >= CACHED_END_USERS && !cache.contains_key(user) {
            cache.clear();
        }
        cache.insert(user.clone(), end_user);
    }

    fn save_meter(&self, user: &UserId, end_user: EndUser) -> worker::Result<()> {
        let meter = serde_json::to_string(&end_user.meter).map_err(json_error)?;
        self.sql().exec(
            "INSERT INTO end_users (user_id, meter) VALUES (?1, ?2) ON CONFLICT(user_id) DO UPDATE SET meter = excluded.meter",
            vec![user.as_str().into(), meter.into()],
        )?;
        self.remember(user, end_user);
        Ok(())
    }

    fn save_end_user(&self, user: &UserId, end_user: EndUser) -> worker::Result<()> {
        let meter = serde_json::to_string(&end_user.meter).map_err(json_error)?;
        let billing = serde_json::to_string(&end_user.billing).map_err(json_error)?;
        self.sql().exec(
            "INSERT INTO end_users (user_id, meter, billing) VALUES (?1, ?2, ?3) ON CONFLICT(user_id) DO UPDATE SET meter = excluded.meter, billing = excluded.billing",
            vec![user.as_str().into(), meter.into(), billing.into()],
        )?;
        self.remember(user, end_user);
        Ok(())
    }

    fn user_view(&self, loaded: &Loaded, user: &UserId, meter: &UserMeter) -> Value {
        let tier = resolve_tier(&loaded.tiers, meter.plan.as_deref());
        let usage = meter.usage(tier.limit, from_millis(now_ms()));
        user_answer(user, &tier.id, &usage, None)
    }

    fn idempotency_record(
        &self,
        user: &UserId,
        key: &str,
    ) -> worker::Result<Option<IdempotencyRecord>> {
        let rows: Vec<IdempotencyRow> = self
            .sql()
            .exec(
                "SELECT recorded_at, answer FROM idempotency WHERE user_id = ? AND key = ?",
                vec![user.as_str().into(), key.into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().next().and_then(|row| {
            let answer: Value = serde_json::from_str(&row.answer).ok()?;
            Some(IdempotencyRecord { recorded_at_ms: row.recorded_at, answer })
        }))
    }

    /// Where the preview's end-user limit stands for `user`.
    fn preview_seat(&self, loaded: &Loaded, user: &UserId) -> worker::Result<PreviewSeat> {
        let Some(limit) = loaded.record.preview_limit() else {
            return Ok(PreviewSeat::Served);
        };
        let mut users = self.preview_users.borrow_mut();
        if users.is_none() {
            let rows: Vec<UserIdRow> =
                self.sql().exec("SELECT user_id FROM preview_users", None)?.to_array()?;
            *users = Some(rows.iter().filter_map(|r| UserId::parse(&r.user_id).ok()).collect());
        }
        let users = users.get_or_insert_with(HashSet::new);
        Ok(if users.contains(user) {
            PreviewSeat::Served
        } else if (users.len() as u64) < limit {
            PreviewSeat::Room
        } else {
            PreviewSeat::Full
        })
    }

    fn serve_in_preview(&self, user: &UserId) -> worker::Result<()> {
        self.sql().exec(
            "INSERT OR IGNORE INTO preview_users (user_id) VALUES (?)",
            vec![user.as_str().into()],
        )?;
        if let Some(users) = self.preview_users.borrow_mut().as_mut() {
            users.insert(user.clone());
        }
        Ok(())
    }

    fn track(&self, command: Track) -> Decided<TrackAnswer> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        if command.by_end_user {
            if let Err(refusal) = end_user_amount(command.amount) {
                return Ok(Err(refusal));
            }
        }
        let sql = self.sql();
        let now_ms = now_ms();
        let now = from_millis(now_ms);
        let user = &command.user_id;
        let mut end_user = self.end_user(user)?.unwrap_or_default();
        let key = command.idempotency_key.as_ref().map(|k| k.as_str());
        let prior = key.map(|k| self.idempotency_record(user, k)).transpose()?.flatten();
        let tier = resolve_tier(&loaded.tiers, end_user.meter.plan.as_deref());
        let preview = self.preview_seat(&loaded, user)?;
        let input = TrackInput {
            amount: command.amount,
            tier_limit: tier.limit,
            platform_limit: self.platform_limit(&loaded)?,
            rate_limit_per_minute: config::rate_limit_per_minute(&self.env)
                .map_err(config_error)?,
            preview,
            prior: prior.as_ref(),
        };
        let mut quota = self.quota.load(&sql)?;
        let decision = track(&mut quota, &mut end_user.meter, &input, now);
        let (calls, denied) = decision.day_counts();
        if calls != 0 || denied != 0 {
            let today = date(now);
            self.record_seen(&sql, user, &today)?;
            self.keep(&sql, quota, &today, calls, denied)?;
        }
        let allowed = matches!(decision, TrackDecision::Allowed { .. });
        let answer = track_answer(
            user,
            &tier.id,
            decision,
            command.by_end_user,
            loaded.record.preview_limit().unwrap_or_default(),
        );
        if allowed {
            self.save_meter(user, end_user)?;
            if preview == PreviewSeat::Room {
                self.serve_in_preview(user)?;
            }
            if let (Some(k), TrackAnswer::Allowed { answer, .. }) = (key, &answer) {
                sql.exec(
                    "INSERT OR REPLACE INTO idempotency (user_id, key, recorded_at, answer) VALUES (?, ?, ?, ?)",
                    vec![user.as_str().into(), k.into(), now_ms.into(), answer.to_string().into()],
                )?;
                self.forget_old_keys(&sql, now_ms)?;
            }
        }
        Ok(Ok(answer))
    }

    /// Forgets idempotency keys older than 24 hours, at most once an hour.
    fn forget_old_keys(&self, sql: &SqlStorage, now_ms: i64) -> worker::Result<()> {
        if now_ms - self.keys_forgotten_at_ms.get() < FORGET_KEYS_EVERY_MS {
            return Ok(());
        }
        self.keys_forgotten_at_ms.set(now_ms);
        sql.exec(
            "DELETE FROM idempotency WHERE recorded_at <= ?",
            vec![(now_ms - IDEMPOTENCY_TTL_MS).into()],
        )?;
        Ok(())
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

    fn record_seen(&self, sql: &SqlStorage, user: &UserId, today: &str) -> worker::Result<()> {
        let mut seen = self.seen_today.borrow_mut();
        if seen.0 != today {
            *seen = (today.to_string(), HashSet::new());
        }
        if seen.1.insert(user.clone()) {
            sql.exec(
                "INSERT INTO seen (user_id, last_seen) VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE SET last_seen = excluded.last_seen",
                vec![user.as_str().into(), today.into()],
            )?;
        }
        Ok(())
    }

    fn read_user(&self, user: &UserId) -> Decided<Value> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let meter = self.end_user(user)?.unwrap_or_default().meter;
        Ok(Ok(self.user_view(&loaded, user, &meter)))
    }

    fn set_user_plan(&self, command: SetUserPlan) -> Decided<Value> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let plan = match plan_override(&loaded.tiers, &command.plan) {
            Ok(plan) => plan,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let mut end_user = self.end_user(&command.user_id)?.unwrap_or_default();
        end_user.meter.plan = Some(plan);
        let view = self.user_view(&loaded, &command.user_id, &end_user.meter);
        self.save_meter(&command.user_id, end_user)?;
        Ok(Ok(view))
    }

    fn list_users(&self, command: ListUsers) -> Decided<UsersPage> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let after = command.after.as_ref().map_or("", UserId::as_str);
        let rows: Vec<ListedRow> = self
            .sql()
            .exec(
                "SELECT user_id, meter FROM end_users WHERE user_id > ? ORDER BY user_id LIMIT ?",
                vec![after.into(), (command.limit as i64).into()],
            )?
            .to_array()?;
        let full = rows.len() as u64 == command.limit;
        let mut users = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in rows {
            let Ok(user) = UserId::parse(&row.user_id) else { continue };
            let meter: UserMeter = serde_json::from_str(&row.meter).map_err(json_error)?;
            users.push(self.user_view(&loaded, &user, &meter));
            last = Some(user);
        }
        Ok(Ok(UsersPage { users, next: if full { last } else { None } }))
    }

    fn stats(&self, days: u64) -> Decided<Stats> {
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
        let quota = self.quota.load(&sql)?;
        let recorded = stats::with_today(kept, quota.today.as_ref().filter(|d| d.date >= start));
        let unique: Vec<CountRow> = sql
            .exec("SELECT COUNT(*) AS n FROM seen WHERE last_seen >= ?", vec![start.into()])?
            .to_array()?;
        Ok(Ok(stats::assemble(days, now, &recorded, unique.first().map_or(0, |r| r.n))))
    }

    fn view(&self) -> Decided<PlatformView> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        Ok(Ok(self.view_of(&loaded)?))
    }

    fn view_of(&self, loaded: &Loaded) -> worker::Result<PlatformView> {
        let r = &loaded.record;
        let now = from_millis(now_ms());
        let usage = self.quota.load(&self.sql())?.usage.usage(self.platform_limit(loaded)?, now);
        Ok(PlatformView {
            platform_id: r.platform_id.clone(),
            name: r.name.clone(),
            email: r.email.as_str().to_string(),
            mode: r.mode(),
            plan: r.plan(),
            usage,
            created_at: r.created_at.clone(),
            subscribed: r.subscription.subscribed(),
            customer_id: r.subscription.customer_id.clone(),
            developer: r.developer.clone(),
        })
    }

    fn billing_state(&self) -> Decided<BillingState> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let r = &loaded.record;
        Ok(Ok(BillingState {
            platform_id: r.platform_id.clone(),
            email: r.email.as_str().to_string(),
            mode: r.mode(),
            connection: r.connection.clone(),
            tiers: r.tiers.clone(),
            prices_account: r.prices_account.clone(),
        }))
    }

    fn admit(&self, user: &UserId) -> Decided<bool> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        Ok(Ok(match self.preview_seat(&loaded, user)? {
            PreviewSeat::Served => true,
            PreviewSeat::Room => {
                self.serve_in_preview(user)?;
                true
            }
            PreviewSeat::Full => false,
        }))
    }

    fn end_user_billing(&self, user: &UserId) -> Decided<BillingView> {
        let billing = self.end_user(user)?.unwrap_or_default().billing;
        Ok(Ok(BillingView {
            customer_id: billing.customer_id,
            customer_account: billing.customer_account,
            subscription_id: billing.subscription_id,
        }))
    }

    /// Applies a Stripe event to an end-user's plan, checked against what was applied
    /// before, applied and recorded in one step. The tier bought is resolved against
    /// the tiers held here, so a tier added a moment before counts; a purchase of a
    /// price no tier has is not recorded, so Stripe's retry can apply it later.
    fn end_user_event(&self, command: ApplyEndUserEvent) -> Decided<EventOutcome> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let tier = match &command.change {
            EndUserChange::Subscribed { price_id, tier_id, .. } => {
                tier_bought(&loaded.tiers, price_id.as_deref(), tier_id.as_deref())
                    .map(|t| t.id.to_string())
            }
            EndUserChange::Cancelled { .. } => None,
        };
        let mut end_user = self.end_user(&command.user_id)?.unwrap_or_default();
        let Some(update) = end_user.billing.apply(
            &command.event,
            &command.change,
            tier.as_deref(),
            &command.current_account,
        ) else {
            return Ok(Ok(EventOutcome::NotYet));
        };
        match &update {
            PlanUpdate::Set { tier } => end_user.meter.plan = Some(tier.clone()),
            PlanUpdate::Reset => end_user.meter.plan = None,
            PlanUpdate::Keep => {}
        }
        self.save_end_user(&command.user_id, end_user)?;
        Ok(Ok(EventOutcome::Applied(update)))
    }

    fn plan_event(&self, command: ApplyPlanEvent) -> Decided<PlatformView> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let mut record = loaded.record.clone();
        let loaded = if record.subscription.apply(&command.event, &command.change) {
            self.save(record)?
        } else {
            loaded
        };
        Ok(Ok(self.view_of(&loaded)?))
    }

    // ---- Changes that write KV copies after they are stored ----

    /// Stores a new platform. Its key's KV pointer is written first: until the record
    /// is stored the object refuses the key, and once it is, the key works at once.
    async fn create(&self, record: PlatformRecord) -> Decided<()> {
        if self.loaded()?.is_some() {
            return refused(ErrorCode::Conflict, "This platform exists already.");
        }
        let store = Store::new(&self.env);
        let key = KeyRecord { platform_id: record.platform_id.clone(), expires_at: None };
        before_change(store.put_key_record(&record.keys.current, &key)).await?;
        if self.loaded()?.is_some() {
            return refused(ErrorCode::Conflict, "This platform exists already.");
        }
        let loaded = self.save(record)?;
        after_change(store.put_public_tiers(&loaded.record.platform_id, &loaded.record.tiers))
            .await;
        Ok(Ok(()))
    }

    /// Decides a rotation against the key set as it is now and, if `store` is set,
    /// stores it.
    fn try_rotate(
        &self,
        auth: &Auth,
        command: &RotateKey,
        store: bool,
    ) -> Decided<dream_core::keys::Rotated> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let mut record = loaded.record.clone();
        let by = match auth {
            Auth::Key(key) => Some(key),
            Auth::Verified => None,
            Auth::EndUser => {
                return refused(ErrorCode::Forbidden, "Only the developer may rotate the key.")
            }
        };
        let now = from_millis(now_ms());
        match record.keys.rotate(by, command.next.clone(), command.grace_seconds, now) {
            Err(refusal) => Ok(Err(refusal)),
            Ok(rotated) => {
                if store {
                    self.save(record)?;
                }
                Ok(Ok(rotated))
            }
        }
    }

    /// A rotation. The new key's KV pointer is written before the key set changes (a
    /// pointer to a key the set does not hold yet lets nobody in), so when the old key
    /// stops, the new one already works everywhere KV has reached; the decision itself
    /// is taken again after that write, as another rotation may have won meanwhile.
    async fn rotate(&self, auth: &Auth, command: RotateKey) -> Decided<String> {
        if let Err(refusal) = self.try_rotate(auth, &command, false)? {
            return Ok(Err(refusal));
        }
        let store = Store::new(&self.env);
        let Some(platform_id) = self.loaded()?.map(|l| l.record.platform_id.clone()) else {
            return Ok(Err(no_platform()));
        };
        let current = KeyRecord { platform_id: platform_id.clone(), expires_at: None };
        before_change(store.put_key_record(&command.next, &current)).await?;
        let rotated = match self.try_rotate(auth, &command, true)? {
            Ok(rotated) => rotated,
            Err(refusal) => {
                after_change(store.delete_key_record(&command.next)).await;
                return Ok(Err(refusal));
            }
        };
        let expires_at = rotated.previous.expires_at;
        after_change(async {
            let previous = KeyRecord { platform_id, expires_at: Some(expires_at) };
            store.put_key_record(&rotated.previous.hash, &previous).await?;
            if let Some(retired) = &rotated.retired {
                store.delete_key_record(retired).await?;
            }
            Ok(())
        })
        .await;
        Ok(Ok(rfc3339(expires_at)))
    }

    async fn set_tiers(&self, command: SetTiers) -> Decided<Vec<dream_core::tier::Tier>> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        if !loaded.record.pays_through(&command.account) {
            return refused(
                ErrorCode::Conflict,
                "The platform's Stripe account changed while its tiers were being priced; retry.",
            );
        }
        if TierConfig::from_stored(command.tiers.clone()).is_none() {
            return refused(ErrorCode::InvalidRequest, "The tiers are not a valid configuration.");
        }
        let mut record = loaded.record.clone();
        record.tiers = command.tiers;
        record.prices_account = Some(command.account);
        let loaded = self.save(record)?;
        let record = &loaded.record;
        let store = Store::new(&self.env);
        after_change(store.put_public_tiers(&record.platform_id, &record.tiers)).await;
        Ok(Ok(record.tiers.clone()))
    }

    async fn connect_account(&self, command: Connect) -> Decided<Mode> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let mut record = loaded.record.clone();
        let previous = record.connection.replace(command.connection);
        let loaded = self.save(record)?;
        let record = &loaded.record;
        let store = Store::new(&self.env);
        let hash = record.connection.as_ref().map(|c| c.account_hash.clone()).unwrap_or_default();
        after_change(async {
            if let Some(old) = previous.filter(|old| old.account_hash != hash) {
                store.delete_connected_platform(&old.account_hash).await?;
            }
            store.put_connected_platform(&hash, &record.platform_id).await
        })
        .await;
        Ok(Ok(record.mode()))
    }

    async fn disconnect_account(
        &self,
        command: Disconnect,
    ) -> Decided<Option<dream_core::platform::Connection>> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let matches = |c: &dream_core::platform::Connection| {
            command.account_hash.as_ref().is_none_or(|h| *h == c.account_hash)
        };
        if !loaded.record.connection.as_ref().is_some_and(matches) {
            return Ok(Ok(None));
        }
        let mut record = loaded.record.clone();
        let removed = record.connection.take();
        self.save(record)?;
        if let Some(removed) = &removed {
            let store = Store::new(&self.env);
            after_change(store.delete_connected_platform(&removed.account_hash)).await;
        }
        Ok(Ok(removed))
    }
}

/// The answer's JSON text; its one reader (`dream_edge::objects`) needs no content type.
fn json_response(text: String) -> worker::Result<Response> {
    Response::ok(text)
}

/// Writes a KV copy that must exist before a change is stored (the pointer of a key
/// about to work): if it fails, the change is not made and the caller can retry.
async fn before_change(
    write: impl std::future::Future<Output = dream_edge::error::ApiResult<()>>,
) -> worker::Result<()> {
    write.await.map_err(|e| worker::Error::RustError(format!("writing a KV copy: {}", e.message)))
}

/// Writes KV copies after a change is stored. The change stands either way (the object
/// is the truth and checks every call; a stale copy lets nobody in), so a failure is
/// logged, and the caller still gets the answer it needs, such as a rotation's new key.
async fn after_change(write: impl std::future::Future<Output = dream_edge::error::ApiResult<()>>) {
    if let Err(e) = write.await {
        worker::console_error!("writing a KV copy after a change: {}", e.message);
    }
}
