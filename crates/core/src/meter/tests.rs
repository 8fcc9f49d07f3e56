//! The metering rules against a model of the contract kept apart from the code.

use super::*;
use proptest::prelude::*;
use serde_json::json;

fn at(s: &str) -> Instant {
    s.parse().expect("valid RFC 3339")
}

/// The default thresholds, 80 % and 100 %.
static DEFAULT: std::sync::LazyLock<Thresholds> = std::sync::LazyLock::new(Thresholds::default);

fn input(amount: u64, limit: Option<u64>) -> TrackInput<'static> {
    TrackInput {
        amount,
        tier_limit: limit,
        platform_limit: None,
        rate_limit_per_minute: 100,
        preview: PreviewSeat::Served,
        prior: None,
        thresholds: &DEFAULT,
    }
}

/// One end-user's view: a track with an unlimited platform quota.
trait Track {
    fn track(&self, input: &TrackInput<'_>, now: Instant) -> (TrackDecision, UserMeter);
}

impl Track for UserMeter {
    fn track(&self, input: &TrackInput<'_>, now: Instant) -> (TrackDecision, UserMeter) {
        let mut next = self.clone();
        let decision = track(&mut PlatformMeter::default(), &mut next, input, now);
        (decision, next)
    }
}

fn allowed(d: &TrackDecision) -> bool {
    matches!(d, TrackDecision::Allowed { .. })
}

#[test]
fn calls_are_allowed_until_the_limit_and_denied_after_without_counting() {
    let now = at("2026-11-25T12:00:00Z");
    let mut m = UserMeter::default();
    for i in 1..=5 {
        let (d, next) = m.track(&input(1, Some(5)), now);
        assert!(allowed(&d), "call {i}");
        m = next;
    }
    let (d, next) = m.track(&input(1, Some(5)), now);
    assert!(
        matches!(d, TrackDecision::TierLimitReached { ref usage, .. } if usage.count == 5 && usage.remaining == Some(0))
    );
    assert_eq!(next, m, "a denied call changes nothing");
}

#[test]
fn an_amount_that_does_not_fit_is_denied_whole() {
    let now = at("2026-11-25T12:00:00Z");
    let (_, m) = UserMeter::default().track(&input(3, Some(5)), now);
    let (d, m2) = m.track(&input(3, Some(5)), now);
    assert!(matches!(d, TrackDecision::TierLimitReached { .. }));
    assert_eq!(m2.usage.count, 3);
    let (d, m3) = m2.track(&input(2, Some(5)), now);
    assert!(allowed(&d));
    assert_eq!(m3.usage.count, 5);
}

#[test]
fn unlimited_tiers_count_without_a_ceiling() {
    let now = at("2026-11-25T12:00:00Z");
    let (d, m) = UserMeter::default().track(&input(1_000_000, None), now);
    assert!(
        matches!(d, TrackDecision::Allowed { ref usage, .. } if usage.limit.is_none() && usage.remaining.is_none())
    );
    assert_eq!(m.usage.count, 1_000_000);
}

#[test]
fn the_count_starts_again_when_the_month_rolls_over() {
    let (_, m) = UserMeter::default().track(&input(5, Some(5)), at("2026-12-31T23:59:59Z"));
    let (d, _) = m.track(&input(1, Some(5)), at("2026-12-31T23:59:59.999Z"));
    assert!(matches!(d, TrackDecision::TierLimitReached { .. }));
    let (d, m) = m.track(&input(1, Some(5)), at("2027-01-01T00:00:00Z"));
    assert!(
        matches!(d, TrackDecision::Allowed { ref usage, .. } if usage.count == 1 && usage.period_start == "2027-01-01T00:00:00Z")
    );
    assert_eq!(m.usage.period, "2027-01");
}

#[test]
fn the_rate_limit_allows_exactly_its_calls_then_resets_after_a_minute() {
    let start = at("2026-11-25T12:00:00Z");
    let mut m = UserMeter::default();
    for _ in 0..100 {
        let (d, next) = m.track(&input(1, None), start);
        assert!(allowed(&d));
        m = next;
    }
    let later = start + chrono::Duration::seconds(59);
    let (d, _) = m.track(&input(1, None), later);
    assert!(
        matches!(d, TrackDecision::RateLimited { rate, .. } if rate.remaining == 0 && rate.reset_seconds == 1)
    );
    let (d, next) = m.track(&input(1, None), start + chrono::Duration::seconds(60));
    assert!(
        matches!(d, TrackDecision::Allowed { rate, .. } if rate.remaining == 99 && rate.reset_seconds == 60)
    );
    assert_eq!(next.usage.count, 101);
}

#[test]
fn a_rate_limited_call_consumes_nothing() {
    let now = at("2026-11-25T12:00:00Z");
    let m = UserMeter {
        window: RateWindow { started_at_ms: now.timestamp_millis(), calls: 100 },
        ..Default::default()
    };
    let (d, next) = m.track(&input(1, Some(10)), now);
    assert!(matches!(d, TrackDecision::RateLimited { ref usage, .. } if usage.count == 0));
    assert_eq!(next, m);
}

#[test]
fn an_idempotent_replay_returns_the_first_answer_and_counts_once() {
    let now = at("2026-11-25T12:00:00Z");
    let (d, m) = UserMeter::default().track(&input(1, Some(5)), now);
    let TrackDecision::Allowed { usage, .. } = d else { panic!("allowed") };
    let record = IdempotencyRecord {
        recorded_at_ms: now.timestamp_millis(),
        answer: json!({"usage": usage}),
    };
    let replay_input = TrackInput { prior: Some(&record), ..input(1, Some(5)) };
    let (d, after) = m.track(&replay_input, now + chrono::Duration::hours(23));
    assert!(matches!(d, TrackDecision::Replay { ref answer, .. } if answer == &record.answer));
    assert_eq!(after.usage.count, 1);
    let (d, after) = m.track(&replay_input, now + chrono::Duration::hours(24));
    assert!(allowed(&d), "after 24 h the key is forgotten");
    assert_eq!(after.usage.count, 2);
}

#[test]
fn a_downgraded_user_shows_the_new_limit_used_up_never_more() {
    let now = at("2026-11-25T12:00:00Z");
    let (_, m) = UserMeter::default().track(&input(40, Some(50)), now);
    let usage = m.usage(Some(5), now);
    assert_eq!((usage.count, usage.limit, usage.remaining), (5, Some(5), Some(0)));
}

#[test]
fn the_platform_quota_takes_only_what_fits_and_a_refused_call_moves_neither_count() {
    let now = at("2026-11-25T12:00:00Z");
    let mut p = PlatformMeter::default();
    let mut u = UserMeter::default();
    let quota = TrackInput { platform_limit: Some(5), ..input(5, None) };
    assert!(allowed(&track(&mut p, &mut u, &quota, now)));
    let before = (p.clone(), u.clone());
    let d = track(&mut p, &mut u, &TrackInput { amount: 1, ..quota }, now);
    assert!(
        matches!(d, TrackDecision::PlatformQuotaReached { ref platform, .. } if platform.count == 5 && platform.remaining == Some(0))
    );
    assert_eq!((p, u), before);
}

#[test]
fn the_platform_quota_wins_over_the_end_users_own_refusal_but_not_over_a_replay() {
    let now = at("2026-11-25T12:00:00Z");
    let mut p = PlatformMeter {
        usage: PeriodCount { period: "2026-11".into(), count: 5 },
        ..Default::default()
    };
    let mut u = UserMeter {
        usage: PeriodCount { period: "2026-11".into(), count: 3 },
        ..Default::default()
    };
    let full = TrackInput { platform_limit: Some(5), ..input(1, Some(3)) };
    assert!(matches!(
        track(&mut p, &mut u, &full, now),
        TrackDecision::PlatformQuotaReached { .. }
    ));
    let record =
        IdempotencyRecord { recorded_at_ms: now.timestamp_millis(), answer: json!({"n": 1}) };
    let replay = TrackInput { prior: Some(&record), ..full };
    assert!(matches!(track(&mut p, &mut u, &replay, now), TrackDecision::Replay { .. }));
}

#[test]
fn a_full_preview_refuses_a_new_end_user_before_counting_anything() {
    let now = at("2026-11-25T12:00:00Z");
    let mut p = PlatformMeter::default();
    let mut u = UserMeter::default();
    let full = TrackInput { preview: PreviewSeat::Full, ..input(1, None) };
    assert!(matches!(track(&mut p, &mut u, &full, now), TrackDecision::PreviewFull { .. }));
    assert_eq!((p.usage.count, u.usage.count), (0, 0));
    let room = TrackInput { preview: PreviewSeat::Room, ..input(1, None) };
    assert!(allowed(&track(&mut p, &mut u, &room, now)));
}

#[test]
fn a_replay_adds_nothing_to_the_day_and_every_refusal_counts_as_denied() {
    let rate = RateStatus { limit: 1, remaining: 1, reset_seconds: 60, window_seconds: 60 };
    assert_eq!(TrackDecision::Replay { answer: json!({}), rate }.day_counts(), (0, 0));
    assert_eq!(TrackDecision::PreviewFull { rate }.day_counts(), (0, 1));
    let usage = Usage::new(1, Some(1), at("2026-11-25T12:00:00Z"));
    let alerts = Alerts::default();
    assert_eq!(TrackDecision::Allowed { usage, rate, alerts }.day_counts(), (1, 0));
}

#[test]
fn a_platform_counts_today_in_its_own_state_and_hands_back_a_finished_day() {
    let mut p = PlatformMeter::default();
    assert_eq!(p.count_day("2026-11-25", 1, 0), None);
    assert_eq!(p.count_day("2026-11-25", 1, 1), None);
    assert_eq!(p.count_day("2026-11-25", -1, 1), None);
    let finished = p.count_day("2026-11-26", 1, 0).expect("the 25th is finished");
    assert_eq!((finished.date.as_str(), finished.calls, finished.denied), ("2026-11-25", 1, 2));
    let today = p.today.clone().expect("the 26th");
    assert_eq!((today.date.as_str(), today.calls, today.denied), ("2026-11-26", 1, 0));
}

#[test]
fn a_release_never_takes_a_day_below_zero_calls() {
    let mut p = PlatformMeter::default();
    p.count_day("2026-11-25", -1, 1);
    let today = p.today.expect("today");
    assert_eq!((today.calls, today.denied), (0, 1));
}

#[test]
fn a_platform_meter_stored_before_daily_counts_still_loads() {
    let p: PlatformMeter =
        serde_json::from_str(r#"{"usage":{"period":"2026-11","count":3}}"#).expect("loads");
    assert_eq!((p.usage.count, p.today), (3, None));
}

#[derive(Debug, Clone)]
enum Step {
    Track { amount: u64, idem: Option<u8> },
    Wait { ms: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (1u64..20, proptest::option::of(0u8..4)).prop_map(|(amount, idem)| Step::Track { amount, idem }),
        2 => (0i64..40 * 24 * 3600 * 1000).prop_map(|ms| Step::Wait { ms }),
    ]
}

/// The contract's rules, written out plainly: what a meter must decide, kept apart
/// from the meter's own state so that the properties below compare two answers.
#[derive(Debug, Default)]
struct Model {
    /// `(year, month)` of the month `count` belongs to.
    month: (i32, u32),
    count: u64,
    /// When each idempotency key's call was allowed.
    keys: std::collections::HashMap<u8, i64>,
}

#[derive(Debug, PartialEq)]
enum Expected {
    Replay,
    Allowed,
    Denied,
}

impl Model {
    fn count_in(&self, now: Instant) -> u64 {
        use chrono::Datelike;
        if self.month == (now.year(), now.month()) {
            self.count
        } else {
            0
        }
    }

    /// A key is answered again for 24 hours after its allowed call; otherwise the
    /// call is allowed exactly when `amount` still fits under `limit` this month.
    fn track(&mut self, amount: u64, limit: u64, key: Option<u8>, now: Instant) -> Expected {
        use chrono::Datelike;
        let now_ms = now.timestamp_millis();
        if key.and_then(|k| self.keys.get(&k)).is_some_and(|&t| now_ms - t < 24 * 3600 * 1000) {
            return Expected::Replay;
        }
        let count = self.count_in(now);
        if count + amount > limit {
            return Expected::Denied;
        }
        self.month = (now.year(), now.month());
        self.count = count + amount;
        if let Some(k) = key {
            self.keys.insert(k, now_ms);
        }
        Expected::Allowed
    }
}

fn alerts_of(d: &TrackDecision) -> Alerts {
    match d {
        TrackDecision::Allowed { alerts, .. } => alerts.clone(),
        _ => Alerts::default(),
    }
}

#[test]
fn the_call_that_takes_an_end_user_to_80_and_100_percent_raises_each_alert_once() {
    let now = at("2026-11-20T12:00:00Z");
    let mut p = PlatformMeter::default();
    let mut u = UserMeter::default();
    let mut raised = Vec::new();
    for call in 1..=12 {
        let d = track(&mut p, &mut u, &input(1, Some(10)), now);
        let alerts = alerts_of(&d);
        assert!(alerts.platform.is_empty(), "an unlimited quota raises nothing");
        for threshold in alerts.user {
            raised.push((call, threshold));
        }
    }
    assert_eq!(raised, [(8, 80), (10, 100)]);
}

#[test]
fn one_large_amount_crosses_several_thresholds_and_a_denied_call_raises_nothing() {
    let now = at("2026-11-20T12:00:00Z");
    let mut p = PlatformMeter::default();
    let mut u = UserMeter::default();
    let denied = track(&mut p, &mut u, &input(11, Some(10)), now);
    assert!(!allowed(&denied));
    assert_eq!(alerts_of(&denied), Alerts::default());
    let d = track(&mut p, &mut u, &input(10, Some(10)), now);
    assert_eq!(alerts_of(&d).user, [80, 100]);
}

#[test]
fn the_platform_quota_raises_its_own_alerts_and_an_unlimited_tier_raises_none() {
    let now = at("2026-11-20T12:00:00Z");
    let mut p = PlatformMeter::default();
    let mut u = UserMeter::default();
    let quota = TrackInput { platform_limit: Some(5), ..input(1, None) };
    let raised: Vec<Alerts> =
        (0..5).map(|_| alerts_of(&track(&mut p, &mut u, &quota, now))).collect();
    assert!(raised.iter().all(|a| a.user.is_empty()));
    let platform: Vec<&[u8]> = raised.iter().map(|a| a.platform.as_slice()).collect();
    assert_eq!(platform, [&[][..], &[], &[], &[80], &[100]]);
}

#[test]
fn alerts_raised_in_a_period_stay_raised_after_a_tier_change_and_start_again_next_period() {
    let november = at("2026-11-20T12:00:00Z");
    let mut p = PlatformMeter::default();
    let mut u = UserMeter::default();
    for _ in 0..8 {
        track(&mut p, &mut u, &input(1, Some(10)), november);
    }
    // An upgrade to a limit of 20 in the same month: 16 is 80 % again, but it was said.
    let raised: Vec<Alerts> =
        (0..12).map(|_| alerts_of(&track(&mut p, &mut u, &input(1, Some(20)), november))).collect();
    let user: Vec<u8> = raised.into_iter().flat_map(|a| a.user).collect();
    assert_eq!(user, [100]);
    let december = at("2026-12-02T00:00:00Z");
    let raised: Vec<u8> = (0..8)
        .flat_map(|_| alerts_of(&track(&mut p, &mut u, &input(1, Some(10)), december)).user)
        .collect();
    assert_eq!(raised, [80]);
}

#[test]
fn a_meter_with_no_alerts_is_stored_as_before_and_its_raised_alerts_survive_storage() {
    let text = serde_json::to_string(&UserMeter::default()).expect("JSON");
    assert!(!text.contains("alerted"), "{text}");
    let now = at("2026-11-20T12:00:00Z");
    let mut u = UserMeter::default();
    let d = track(&mut PlatformMeter::default(), &mut u, &input(8, Some(10)), now);
    assert_eq!(alerts_of(&d).user, [80]);
    let mut back: UserMeter =
        serde_json::from_str(&serde_json::to_string(&u).expect("JSON")).expect("reads back");
    // With a limit of 11, 8 → 9 crosses 80 % (8.8) again: it was said this month already.
    let d = track(&mut PlatformMeter::default(), &mut back, &input(1, Some(11)), now);
    assert!(allowed(&d));
    assert_eq!(alerts_of(&d), Alerts::default());
}

fn outcome(d: &TrackDecision) -> Expected {
    match d {
        TrackDecision::Replay { .. } => Expected::Replay,
        TrackDecision::Allowed { .. } => Expected::Allowed,
        _ => Expected::Denied,
    }
}

proptest! {
    /// Any sequence of tracks (with and without replays) and waits across months: each
    /// call gets exactly the decision the contract's rules give (so the meter neither
    /// allows too much nor denies what fits), `count` is what those rules count and
    /// never exceeds `limit`, and only an allowed call changes the stored state.
    #[test]
    fn the_meter_allows_exactly_what_fits_and_never_lets_count_exceed_limit(limit in 0u64..60, steps in proptest::collection::vec(step(), 1..120)) {
        let mut now = at("2026-11-20T00:00:00Z");
        let mut m = UserMeter::default();
        let mut model = Model::default();
        let mut records: std::collections::HashMap<u8, IdempotencyRecord> = Default::default();
        for s in steps {
            match s {
                Step::Track { amount, idem } => {
                    let expected = model.track(amount, limit, idem, now);
                    let prior = idem.and_then(|k| records.get(&k));
                    let i = TrackInput { rate_limit_per_minute: 1_000, prior, ..input(amount, Some(limit)) };
                    let (d, next) = m.track(&i, now);
                    prop_assert_eq!(outcome(&d), expected, "{:?}", d);
                    if let TrackDecision::Allowed { usage, .. } = &d {
                        prop_assert_eq!(usage.count, model.count_in(now));
                        if let Some(k) = idem {
                            records.insert(k, IdempotencyRecord { recorded_at_ms: now.timestamp_millis(), answer: json!({"count": usage.count}) });
                        }
                    } else {
                        prop_assert_eq!(&next, &m, "only an allowed call changes the state");
                    }
                    m = next;
                }
                Step::Wait { ms } => now += chrono::Duration::milliseconds(ms),
            }
            prop_assert!(m.usage.current(now) <= limit);
            prop_assert_eq!(m.usage.current(now), model.count_in(now));
        }
    }

    /// End-users with a tier limit each, sharing a platform quota, calling in any
    /// order: a call is allowed exactly when both counts have room for it, the
    /// platform's count is the sum of its end-users', and neither passes its limit.
    #[test]
    fn both_limits_bind_exactly_whatever_the_order_of_calls(
        quota in 0u64..40,
        tier in 0u64..15,
        calls in proptest::collection::vec((0usize..6, 1u64..4), 1..150),
    ) {
        let now = at("2026-11-25T12:00:00Z");
        let mut platform = PlatformMeter::default();
        let mut users = vec![UserMeter::default(); 6];
        // The expected counts, kept by the test alone.
        let mut expected_users = [0u64; 6];
        let mut expected_platform = 0u64;
        for (who, amount) in calls {
            let fits = expected_users[who] + amount <= tier && expected_platform + amount <= quota;
            if fits {
                expected_users[who] += amount;
                expected_platform += amount;
            }
            let i = TrackInput { platform_limit: Some(quota), rate_limit_per_minute: 1_000, ..input(amount, Some(tier)) };
            let d = track(&mut platform, &mut users[who], &i, now);
            prop_assert_eq!(allowed(&d), fits, "{:?}", d);
            prop_assert_eq!(platform.usage.current(now), expected_platform);
            prop_assert_eq!(users.iter().map(|u| u.usage.current(now)).collect::<Vec<_>>(), expected_users.to_vec());
            prop_assert!(platform.usage.count <= quota);
            prop_assert!(users.iter().all(|u| u.usage.count <= tier));
        }
    }

    /// Calls at any pace: the window opens at the first call after the previous one
    /// ended and lasts exactly a minute; in it, exactly the first `limit` calls are
    /// allowed. The expected window is kept by the test from the call times alone,
    /// and every decision, `remaining` and `reset_seconds` must match it.
    #[test]
    fn the_rate_window_allows_exactly_the_first_limit_calls_of_each_minute_long_window(
        limit in 1u64..20,
        gaps in proptest::collection::vec(0i64..5_000, 1..200),
    ) {
        let mut w = RateWindow::default();
        let mut now_ms = 1_700_000_000_000i64;
        let mut window: Option<(i64, u64)> = None;
        let (mut allowed_total, mut expected_total) = (0u64, 0u64);
        for gap in gaps {
            now_ms += gap;
            let (opened, calls) = match window {
                Some((opened, calls)) if now_ms < opened + 60_000 => (opened, calls),
                _ => (now_ms, 0),
            };
            let fits = calls < limit;
            let calls = calls + u64::from(fits);
            window = Some((opened, calls));
            expected_total += u64::from(fits);
            let reset = u64::try_from((opened + 60_000 - now_ms + 999) / 1000).expect("ahead");
            let status = w.try_acquire(limit, RATE_WINDOW_MS, now_ms);
            allowed_total += u64::from(status.is_ok());
            prop_assert_eq!(status.is_ok(), fits, "at {} in the window opened at {}", now_ms, opened);
            let status = status.unwrap_or_else(|refused| refused);
            prop_assert_eq!((status.remaining, status.reset_seconds), (limit - calls, reset));
        }
        prop_assert_eq!(allowed_total, expected_total);
        prop_assert!(allowed_total >= 1, "the first call always fits");
    }
}
