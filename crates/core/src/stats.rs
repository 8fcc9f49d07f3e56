//! A platform's usage statistics over the last N days, oldest day first.

use crate::time::{date, Instant};
use chrono::Duration;
use serde::{Deserialize, Serialize};

pub const MAX_DAYS: u64 = 90;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCount {
    pub date: String,
    pub calls: u64,
    pub denied: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub total_calls: u64,
    pub denied_calls: u64,
    pub unique_users: u64,
    pub daily: Vec<DailyCount>,
}

/// The first date (`YYYY-MM-DD`, UTC) of a window of `days` days ending today.
pub fn window_start(days: u64, now: Instant) -> String {
    let back = i64::try_from(days.clamp(1, MAX_DAYS) - 1).unwrap_or(0);
    date(now - Duration::days(back))
}

/// The kept days plus the day still being counted, a date appearing in both summed.
pub fn with_today(mut recorded: Vec<DailyCount>, today: Option<&DailyCount>) -> Vec<DailyCount> {
    if let Some(today) = today {
        match recorded.iter_mut().find(|d| d.date == today.date) {
            Some(day) => {
                day.calls += today.calls;
                day.denied += today.denied;
            }
            None => recorded.push(today.clone()),
        }
    }
    recorded
}

/// Every day of the window, zeros where nothing happened, totals summed.
pub fn assemble(days: u64, now: Instant, recorded: &[DailyCount], unique_users: u64) -> Stats {
    let days = days.clamp(1, MAX_DAYS);
    let daily: Vec<DailyCount> = (0..days)
        .rev()
        .map(|back| {
            let day = date(now - Duration::days(i64::try_from(back).unwrap_or(0)));
            recorded.iter().find(|r| r.date == day).cloned().unwrap_or(DailyCount {
                date: day,
                calls: 0,
                denied: 0,
            })
        })
        .collect();
    Stats {
        total_calls: daily.iter().map(|d| d.calls).sum(),
        denied_calls: daily.iter().map(|d| d.denied).sum(),
        unique_users,
        daily,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_lists_every_day_oldest_first_with_zeros_for_quiet_days() {
        let now: Instant = "2026-03-02T10:00:00Z".parse().expect("valid");
        let recorded = [
            DailyCount { date: "2026-03-02".into(), calls: 3, denied: 1 },
            DailyCount { date: "2026-02-28".into(), calls: 2, denied: 0 },
            DailyCount { date: "2026-01-01".into(), calls: 99, denied: 9 },
        ];
        let s = assemble(3, now, &recorded, 4);
        let dates: Vec<&str> = s.daily.iter().map(|d| d.date.as_str()).collect();
        assert_eq!(dates, ["2026-02-28", "2026-03-01", "2026-03-02"]);
        assert_eq!((s.total_calls, s.denied_calls, s.unique_users), (5, 1, 4));
        assert_eq!(window_start(3, now), "2026-02-28");
    }

    #[test]
    fn the_day_being_counted_joins_the_kept_days_and_adds_to_one_with_its_date() {
        let kept = vec![
            DailyCount { date: "2026-03-01".into(), calls: 4, denied: 0 },
            DailyCount { date: "2026-03-02".into(), calls: 1, denied: 1 },
        ];
        let today = DailyCount { date: "2026-03-02".into(), calls: 2, denied: 3 };
        let all = with_today(kept.clone(), Some(&today));
        assert_eq!(all[1], DailyCount { date: "2026-03-02".into(), calls: 3, denied: 4 });
        let new_day = DailyCount { date: "2026-03-03".into(), calls: 5, denied: 0 };
        assert_eq!(with_today(kept.clone(), Some(&new_day)).len(), 3);
        assert_eq!(with_today(kept.clone(), None), kept);
    }

    #[test]
    fn the_window_is_clamped_to_between_one_and_ninety_days() {
        let now: Instant = "2026-03-02T10:00:00Z".parse().expect("valid");
        assert_eq!(assemble(0, now, &[], 0).daily.len(), 1);
        assert_eq!(assemble(1000, now, &[], 0).daily.len(), 90);
    }
}
