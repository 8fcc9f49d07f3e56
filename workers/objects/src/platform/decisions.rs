//! The platform's synchronous commands: what it decides about its end-users and what it
//! reads for its developer (the track itself, plans, the list, statistics, billing
//! events). No other request interleaves with any of them.

use super::*;

impl Platform {
    pub(super) fn end_user(&self, user: &UserId) -> worker::Result<Option<EndUser>> {
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

    pub(super) fn remember(&self, user: &UserId, end_user: EndUser) {
        let mut cache = self.end_users.borrow_mut();
        if cache.len() >= CACHED_END_USERS && !cache.contains_key(user) {
            cache.clear();
        }
        cache.insert(user.clone(), end_user);
    }

    pub(super) fn save_meter(&self, user: &UserId, end_user: EndUser) -> worker::Result<()> {
        let meter = serde_json::to_string(&end_user.meter).map_err(json_error)?;
        self.sql().exec(
            "INSERT INTO end_users (user_id, meter) VALUES (?1, ?2) ON CONFLICT(user_id) DO UPDATE SET meter = excluded.meter",
            vec![user.as_str().into(), meter.into()],
        )?;
        self.remember(user, end_user);
        Ok(())
    }

    pub(super) fn save_end_user(&self, user: &UserId, end_user: EndUser) -> worker::Result<()> {
        let meter = serde_json::to_string(&end_user.meter).map_err(json_error)?;
        let billing = serde_json::to_string(&end_user.billing).map_err(json_error)?;
        self.sql().exec(
            "INSERT INTO end_users (user_id, meter, billing) VALUES (?1, ?2, ?3) ON CONFLICT(user_id) DO UPDATE SET meter = excluded.meter, billing = excluded.billing",
            vec![user.as_str().into(), meter.into(), billing.into()],
        )?;
        self.remember(user, end_user);
        Ok(())
    }

    pub(super) fn user_view(&self, loaded: &Loaded, user: &UserId, meter: &UserMeter) -> Value {
        let tier = resolve_tier(&loaded.tiers, meter.plan.as_deref());
        let usage = meter.usage(tier.limit, now());
        user_answer(user, &tier.id, &usage, None)
    }

    pub(super) fn idempotency_record(
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
    pub(super) fn preview_seat(
        &self,
        loaded: &Loaded,
        user: &UserId,
    ) -> worker::Result<PreviewSeat> {
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

    pub(super) fn serve_in_preview(&self, user: &UserId) -> worker::Result<()> {
        self.sql().exec(
            "INSERT OR IGNORE INTO preview_users (user_id) VALUES (?)",
            vec![user.as_str().into()],
        )?;
        if let Some(users) = self.preview_users.borrow_mut().as_mut() {
            users.insert(user.clone());
        }
        Ok(())
    }

    /// Decides a metered call and logs it, whatever the outcome, in the same step.
    pub(super) fn track(&self, command: Track) -> Decided<TrackAnswer> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let now_ms = now_ms();
        let decided = self.decide_track(&loaded, &command, now_ms)?;
        let outcome = match &decided {
            Ok(answer) => answer.logged_as(),
            Err(refusal) => dream_core::protocol::logged_refusal(refusal),
        };
        if !cfg!(feature = "bench-without-call-log") {
            self.log_call(&command, outcome, now_ms)?;
        }
        Ok(decided)
    }

    fn decide_track(&self, loaded: &Loaded, command: &Track, now_ms: i64) -> Decided<TrackAnswer> {
        if command.by_end_user {
            if let Err(refusal) = end_user_amount(command.amount) {
                return Ok(Err(refusal));
            }
        }
        let sql = self.sql();
        let now = from_millis(now_ms);
        let user = &command.user_id;
        let mut end_user = self.end_user(user)?.unwrap_or_default();
        let key = command.idempotency_key.as_ref().map(|k| k.as_str());
        let prior = key.map(|k| self.idempotency_record(user, k)).transpose()?.flatten();
        let tier = resolve_tier(&loaded.tiers, end_user.meter.plan.as_deref());
        let preview = self.preview_seat(loaded, user)?;
        let input = TrackInput {
            amount: command.amount,
            tier_limit: tier.limit,
            platform_limit: self.platform_limit(loaded)?,
            rate_limit_per_minute: config::rate_limit_per_minute(&self.env)
                .map_err(config_error)?,
            preview,
            prior: prior.as_ref(),
            thresholds: &self.alerts.load(sql)?,
        };
        let mut quota = self.quota.load(sql)?;
        let decision = track(&mut quota, &mut end_user.meter, &input, now);
        let alerts = match &decision {
            TrackDecision::Allowed { alerts, usage, .. } if !alerts.is_empty() => {
                let platform_usage = quota.usage.usage(input.platform_limit, now);
                let plan = stored_tier(&tier.id)?;
                alert_events(alerts, user, &plan, usage, loaded.record.plan(), &platform_usage)
            }
            _ => Vec::new(),
        };
        let (calls, denied) = decision.day_counts();
        if calls != 0 || denied != 0 {
            let today = date(now);
            self.record_seen(sql, user, &today)?;
            self.keep(sql, quota, &today, calls, denied)?;
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
                self.forget_old_keys(sql, now_ms)?;
            }
            self.emit(alerts)?;
        }
        Ok(Ok(answer))
    }

    /// Forgets idempotency keys older than 24 hours, at most once an hour.
    pub(super) fn forget_old_keys(&self, sql: &SqlStorage, now_ms: i64) -> worker::Result<()> {
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
    pub(super) fn keep(
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

    pub(super) fn record_seen(
        &self,
        sql: &SqlStorage,
        user: &UserId,
        today: &str,
    ) -> worker::Result<()> {
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

    pub(super) fn read_user(&self, user: &UserId) -> Decided<Value> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let meter = self.end_user(user)?.unwrap_or_default().meter;
        Ok(Ok(self.user_view(&loaded, user, &meter)))
    }

    pub(super) fn set_user_plan(&self, command: SetUserPlan) -> Decided<Value> {
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

    pub(super) fn list_users(&self, command: ListUsers) -> Decided<UsersPage> {
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

    pub(super) fn stats(&self, days: u64) -> Decided<Stats> {
        let sql = self.sql();
        let now = now();
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
        let quota = self.quota.load(sql)?;
        let recorded = stats::with_today(kept, quota.today.as_ref().filter(|d| d.date >= start));
        let unique: Vec<CountRow> = sql
            .exec("SELECT COUNT(*) AS n FROM seen WHERE last_seen >= ?", vec![start.into()])?
            .to_array()?;
        Ok(Ok(stats::assemble(days, now, &recorded, unique.first().map_or(0, |r| r.n))))
    }

    pub(super) fn view(&self) -> Decided<PlatformView> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        Ok(Ok(self.view_of(&loaded)?))
    }

    pub(super) fn view_of(&self, loaded: &Loaded) -> worker::Result<PlatformView> {
        let r = &loaded.record;
        let now = now();
        let usage = self.quota.load(self.sql())?.usage.usage(self.platform_limit(loaded)?, now);
        Ok(PlatformView {
            info: PlatformInfo {
                platform_id: r.platform_id.clone(),
                name: r.name.clone(),
                email: r.email.as_str().to_string(),
                mode: r.mode(),
                plan: r.plan(),
                usage,
                created_at: r.created_at.clone(),
            },
            subscribed: r.subscription.subscribed(),
            subscription_id: r.subscription.subscription_id.clone(),
            customer_id: r.subscription.customer_id.clone(),
            developer: r.developer.clone(),
            previous_key_expires_at: r.keys.grace_ends(now).map(rfc3339),
        })
    }

    pub(super) fn billing_state(&self) -> Decided<BillingState> {
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

    pub(super) fn admit(&self, user: &UserId) -> Decided<bool> {
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

    pub(super) fn end_user_billing(&self, user: &UserId) -> Decided<BillingView> {
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
    pub(super) fn end_user_event(&self, command: ApplyEndUserEvent) -> Decided<EventOutcome> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let tier = match &command.change {
            EndUserChange::Subscribed { price_id, tier_id, .. } => {
                tier_bought(&loaded.tiers, price_id.as_deref(), tier_id.as_deref())
                    .map(|t| t.id.to_string())
            }
            EndUserChange::Cancelled { .. } => None,
        };
        let mut end_user = self.end_user(&command.user_id)?.unwrap_or_default();
        let previous = resolve_tier(&loaded.tiers, end_user.meter.plan.as_deref()).id;
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
        self.count_revenue(self.sql(), &command.user_id, &update, &loaded.tiers)?;
        let first = &loaded.tiers.first().id;
        let event = subscription_event(&command.user_id, &update, &stored_tier(&previous)?, first);
        self.emit(event.into_iter().collect())?;
        Ok(Ok(EventOutcome::Applied(update)))
    }

    pub(super) fn plan_event(&self, command: ApplyPlanEvent) -> Decided<PlatformView> {
        let Some(loaded) = self.loaded()? else { return Ok(Err(no_platform())) };
        let mut record = loaded.record.clone();
        let loaded = if record.subscription.apply(&command.event, &command.change) {
            self.save(record)?
        } else {
            loaded
        };
        Ok(Ok(self.view_of(&loaded)?))
    }
}
