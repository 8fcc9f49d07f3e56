//! `Platform`, one per platform: the only writer of everything the platform owns: its
//! key set, plan, connection (and so its mode), tiers, webhook endpoints and alert
//! thresholds (`webhooks`), and every end-user's count, rate window, idempotency keys
//! and billing. Each command is decided in one synchronous step against SQLite storage;
//! the KV copies other readers use are written after (a key's pointer before the key
//! works).
//!
//! A `track` is one call here: the key is checked against the key set, then
//! `dream_core::meter::track` decides the tier limit, the platform quota, the rate
//! limit and idempotency at once, so both counts are exact by construction; the same
//! step appends the call to the platform's request log (`activity`).

mod activity;
mod changes;
mod decisions;
mod outbox;
mod webhooks;

use super::{now, now_ms, StoredState};
use dream_core::billing::{tier_bought, EndUserBilling, EndUserChange, PlanUpdate, StoredAccount};
use dream_core::command::{answer_wire, Auth, PlatformCommand, Request as Envelope};
use dream_core::error::{ErrorCode, Refusal};
use dream_core::ids::{TierId, UserId};
use dream_core::meter::{
    track, IdempotencyRecord, PlatformMeter as Quota, PreviewSeat, TrackDecision, TrackInput,
    UserMeter, IDEMPOTENCY_TTL_MS,
};
use dream_core::platform::{Mode, PlatformRecord};
use dream_core::protocol::activity::{ReadLogs, ReadRevenue};
use dream_core::protocol::webhooks::{
    AddEndpoint, FinishAttempts, GetAlerts, ListDeliveries, ListEndpoints, RemoveEndpoint,
    ReplaceSecrets, SealedSecrets, SendTest, SetAlerts, StartAttempts,
};
use dream_core::protocol::{
    end_user_amount, plan_override, resolve_tier, track_answer, user_answer, AdmitEndUser,
    ApplyEndUserEvent, ApplyPlanEvent, BillingState, BillingView, Connect, CreatePlatform,
    Disconnect, EventOutcome, GetBilling, GetEndUserBilling, GetPlatform, GetStats, ListUsers,
    PlatformInfo, PlatformView, ReadUser, RotateKey, SetTiers, SetUserPlan, Track, TrackAnswer,
    UsersPage,
};
use dream_core::stats::{self, DailyCount, Stats, MAX_DAYS};
use dream_core::storage::KeyRecord;
use dream_core::tier::TierConfig;
use dream_core::time::{date, from_millis, rfc3339};
use dream_core::webhooks::{alert_events, subscription_event, Event, Thresholds};
use dream_edge::config;
use dream_edge::objects::{bad_path, parse};
use dream_edge::objects::{not_by_fetch, Answer};
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

#[durable_object(alarm)]
pub struct Platform {
    state: State,
    /// The object's SQLite handle, taken once (each `storage().sql()` is two calls into JS).
    sql: SqlStorage,
    env: Env,
    record: StoredState<Option<PlatformRecord>>,
    loaded: RefCell<Option<Rc<Loaded>>>,
    quota: StoredState<Quota>,
    /// The alert thresholds (table `alerts`; the default until the developer sets them).
    alerts: StoredState<Thresholds>,
    end_users: RefCell<HashMap<UserId, EndUser>>,
    /// End-users already recorded as seen today (the date, then their ids), so that a
    /// busy end-user costs one write a day, not one a call.
    seen_today: RefCell<(String, HashSet<UserId>)>,
    /// The end-users the preview serves (table `preview_users`), read once per instance.
    preview_users: RefCell<Option<HashSet<UserId>>>,
    keys_forgotten_at_ms: Cell<i64>,
    /// Request-log entries written by this instance (old ones are deleted on the first and every hundredth).
    log_writes: Cell<i64>,
}

impl DurableObject for Platform {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        let record = StoredState::in_table(&sql, "record");
        let quota = StoredState::in_table(&sql, "quota");
        let alerts = StoredState::in_table(&sql, "alerts");
        if let Err(e) = init_tables(&sql) {
            worker::console_error!("Platform storage: {e}");
        }
        Self {
            state,
            sql,
            env,
            record,
            loaded: RefCell::default(),
            quota,
            alerts,
            end_users: RefCell::default(),
            seen_today: RefCell::default(),
            preview_users: RefCell::default(),
            keys_forgotten_at_ms: Cell::new(0),
            log_writes: Cell::new(0),
        }
    }

    async fn fetch(&self, _req: Request) -> worker::Result<Response> {
        not_by_fetch()
    }

    /// Queues the deliveries stored since the last alarm.
    async fn alarm(&self) -> worker::Result<Response> {
        if let Err(e) = self.queue_deliveries().await {
            worker::console_error!("queueing webhook deliveries (the alarm is retried): {e}");
            return Err(e);
        }
        Response::ok("")
    }
}

dream_edge::rpc_object!(Platform);

impl Answer for Platform {
    async fn answer(&self, path: &str, body: &str) -> worker::Result<String> {
        match path {
            Track::PATH => self.run(body, |_, c: Track| self.track(c)),
            ReadUser::PATH => self.run(body, |_, c: ReadUser| self.read_user(&c.user_id)),
            SetUserPlan::PATH => self.run(body, |_, c: SetUserPlan| self.set_user_plan(c)),
            ListUsers::PATH => self.run(body, |_, c: ListUsers| self.list_users(c)),
            GetStats::PATH => self.run(body, |_, c: GetStats| self.stats(c.days)),
            GetPlatform::PATH => self.run(body, |_, _: GetPlatform| self.view()),
            GetBilling::PATH => self.run(body, |_, _: GetBilling| self.billing_state()),
            AdmitEndUser::PATH => self.run(body, |_, c: AdmitEndUser| self.admit(&c.user_id)),
            GetEndUserBilling::PATH => {
                self.run(body, |_, c: GetEndUserBilling| self.end_user_billing(&c.user_id))
            }
            ApplyEndUserEvent::PATH => {
                self.run(body, |_, c: ApplyEndUserEvent| self.end_user_event(c))
            }
            ApplyPlanEvent::PATH => self.run(body, |_, c: ApplyPlanEvent| self.plan_event(c)),
            AddEndpoint::PATH => self.run(body, |a, c: AddEndpoint| self.add_endpoint(a, c)),
            ListEndpoints::PATH => self.run(body, |a, _: ListEndpoints| self.endpoints(a)),
            RemoveEndpoint::PATH => {
                self.run(body, |a, c: RemoveEndpoint| self.remove_endpoint(a, &c.id))
            }
            SealedSecrets::PATH => {
                self.run(body, |a, c: SealedSecrets| self.sealed_secrets(a, &c.id))
            }
            ReplaceSecrets::PATH => {
                self.run(body, |a, c: ReplaceSecrets| self.replace_secrets(a, c))
            }
            SendTest::PATH => self.run(body, |a, c: SendTest| self.send_test(a, c)),
            ListDeliveries::PATH => self.run(body, |a, c: ListDeliveries| self.deliveries(a, c)),
            StartAttempts::PATH => self.run(body, |a, c: StartAttempts| self.start_attempts(a, c)),
            FinishAttempts::PATH => {
                self.run(body, |a, c: FinishAttempts| self.finish_attempts(a, c))
            }
            ReadLogs::PATH => self.run(body, |_, c: ReadLogs| self.read_logs(c)),
            ReadRevenue::PATH => self.run(body, |_, _: ReadRevenue| self.read_revenue()),
            GetAlerts::PATH => self.run(body, |a, _: GetAlerts| self.get_alerts(a)),
            SetAlerts::PATH => self.run(body, |a, c: SetAlerts| self.set_alerts(a, c)),
            CreatePlatform::PATH => {
                let request = Envelope::from_wire(body)
                    .map_err(|e| worker::Error::RustError(format!("command envelope: {e}")))?;
                let command: CreatePlatform = parse(request.command.get())?;
                let result = self.create(command.record).await;
                self.respond::<CreatePlatform>(result)
            }
            RotateKey::PATH => {
                self.run_async(body, async |auth, c: RotateKey| self.rotate(&auth, c).await).await
            }
            SetTiers::PATH => {
                self.run_async(body, async |_, c: SetTiers| self.set_tiers(c).await).await
            }
            Connect::PATH => {
                self.run_async(body, async |_, c: Connect| self.connect_account(c).await).await
            }
            Disconnect::PATH => {
                self.run_async(body, async |_, c: Disconnect| self.disconnect_account(c).await)
                    .await
            }
            other => Err(bad_path(other)),
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
        "CREATE TABLE IF NOT EXISTS webhook_endpoints (id TEXT PRIMARY KEY, endpoint TEXT NOT NULL, secrets TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS deliveries (endpoint_id TEXT NOT NULL, message_id TEXT NOT NULL, body TEXT NOT NULL, record TEXT NOT NULL, queued INTEGER NOT NULL, PRIMARY KEY (endpoint_id, message_id))",
        "CREATE INDEX IF NOT EXISTS deliveries_unqueued ON deliveries (queued)",
    ]
    .into_iter()
    .chain(activity::TABLES)
    {
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

/// A tier id held here (validated when the tiers were set).
fn stored_tier(id: &str) -> worker::Result<TierId> {
    TierId::parse(id).map_err(|e| worker::Error::RustError(format!("a stored tier id: {}", e.0)))
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
    fn sql(&self) -> &SqlStorage {
        &self.sql
    }

    /// Reads a command, checks who asks, runs `decide` (synchronous) and answers.
    fn run<C: PlatformCommand>(
        &self,
        body: &str,
        decide: impl FnOnce(&Auth, C) -> Decided<C::Reply>,
    ) -> worker::Result<String> {
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
    ) -> worker::Result<String> {
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

    /// Answers a decision: only the reply's serialization depends on the command.
    fn respond<C: PlatformCommand>(&self, result: Decided<C::Reply>) -> worker::Result<String> {
        let text = match result {
            Ok(Ok(reply)) => serde_json::to_string(&reply).map(Ok).map_err(json_error),
            Ok(Err(refusal)) => Ok(Err(refusal)),
            Err(e) => Err(e),
        };
        self.respond_text(text)
    }

    /// The answer's JSON text (see `dream_core::command::answer_wire`); an error rejects
    /// the caller's call with its message.
    fn respond_text(
        &self,
        result: worker::Result<Result<String, Refusal>>,
    ) -> worker::Result<String> {
        let preview = self.loaded()?.is_some_and(|l| l.record.mode() == Mode::Preview);
        answer_wire(preview, result?.as_deref()).map_err(json_error)
    }

    fn loaded(&self) -> worker::Result<Option<Rc<Loaded>>> {
        if let Some(loaded) = self.loaded.borrow().as_ref() {
            return Ok(Some(loaded.clone()));
        }
        let Some(record) = self.record.load(self.sql())? else {
            return Ok(None);
        };
        let tiers = record.tier_config();
        let loaded = Rc::new(Loaded { record, tiers });
        *self.loaded.borrow_mut() = Some(loaded.clone());
        Ok(Some(loaded))
    }

    /// Stores a changed record; the copy in memory follows.
    fn save(&self, record: PlatformRecord) -> worker::Result<Rc<Loaded>> {
        self.record.save(self.sql(), Some(record.clone()))?;
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
            if let Err(refusal) = loaded.record.keys.admit(key, now()) {
                return Ok(Err(refusal));
            }
        }
        Ok(Ok(loaded))
    }

    fn platform_limit(&self, loaded: &Loaded) -> worker::Result<Option<u64>> {
        Ok(config::platform_tiers(&self.env).map_err(config_error)?.limit(loaded.record.plan()))
    }
}
