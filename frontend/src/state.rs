//! What the dashboard shows, as plain functions of what the API answered: usage text
//! and percentages, when to offer an upgrade, money, and error advice (the tier editor
//! is in [`crate::tier_editor`]). No browser here, so all of it is tested natively.

use dream_core::meter::Usage;

/// "3 / 5 calls this month", or "3 calls this month (unlimited)".
pub fn usage_text(usage: &Usage) -> String {
    match usage.limit {
        Some(limit) => format!("{} / {} calls this month", usage.count, limit),
        None => format!("{} calls this month (unlimited)", usage.count),
    }
}

/// How full the month is, 0–100 (`None` when unlimited). A limit of 0 is full.
pub fn usage_percent(usage: &Usage) -> Option<u8> {
    let limit = usage.limit?;
    if limit == 0 {
        return Some(100);
    }
    Some((usage.count.saturating_mul(100) / limit).min(100) as u8)
}

/// The `error` of the contract's JSON error answer (`{"error": {code, message}}`).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

/// Whether and how urgently to offer the paid plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    None,
    /// 80% or more of the month's calls are used.
    Nearing,
    /// Every call is used: the API refuses until the next month or an upgrade.
    Reached,
}

pub fn upgrade_prompt(usage: &Usage, paid: bool) -> Upgrade {
    match usage_percent(usage) {
        _ if paid => Upgrade::None,
        Some(100) => Upgrade::Reached,
        Some(p) if p >= 80 => Upgrade::Nearing,
        _ => Upgrade::None,
    }
}

/// What the developer's plan allows, what happens at its limit and how to go further.
pub fn plan_sentence(paid: bool, limit: Option<u64>) -> String {
    let plan = if paid { "paid" } else { "free" };
    let Some(limit) = limit else {
        return format!(
            "The {plan} plan meters every call your end-users make, without a monthly limit."
        );
    };
    let then = if paid { "until the month ends" } else { "until the month ends or you upgrade" };
    format!(
        "The {plan} plan meters {limit} calls a month across all your end-users. At the limit, \
         POST /v1/usage/track answers 403 platform_quota_reached {then}."
    )
}

/// `$9`, `$9.50`.
pub fn money(cents: u64) -> String {
    if cents.is_multiple_of(100) {
        format!("${}", cents / 100)
    } else {
        format!("${}.{:02}", cents / 100, cents % 100)
    }
}

/// "5 calls / month", "Unlimited calls".
pub fn limit_text(limit: Option<u64>) -> String {
    match limit {
        Some(n) => format!("{n} calls / month"),
        None => "Unlimited calls".into(),
    }
}

/// The code of a [`Problem::unexpected`].
pub const UNEXPECTED: &str = "unexpected_answer";

/// An API error as the dashboard explains it: the server's message and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Problem {
    /// An error answer (`{"error": {code, message}}`), or the status alone when the
    /// answer said nothing readable.
    pub fn from_answer(status: u16, error: &ErrorDetail) -> Self {
        Self {
            status,
            code: error.code.clone(),
            message: if error.message.is_empty() {
                format!("The request failed ({status}).")
            } else {
                error.message.clone()
            },
        }
    }

    /// A success whose body is not what the contract says it is.
    pub fn unexpected(status: u16, detail: &str) -> Self {
        Self {
            status,
            code: UNEXPECTED.into(),
            message: format!(
                "dream-api answered in a form this dashboard does not know ({detail})."
            ),
        }
    }

    pub fn network(detail: &str) -> Self {
        Self {
            status: 0,
            code: "network".into(),
            message: format!("Could not reach dream-api: {detail}"),
        }
    }

    /// What the developer can do about it.
    pub fn advice(&self) -> &'static str {
        match (self.status, self.code.as_str()) {
            (_, UNEXPECTED) => {
                "Reload the page to get the current dashboard; if this stays, tell us."
            }
            (401, _) => "Your session ended: sign in again.",
            (403, "platform_quota_reached") => {
                "Your plan's calls for this month are used up: upgrade to continue."
            }
            (403, _) => "This is not allowed for your account.",
            (404, _) => "Create your credentials first.",
            (409, _) => "That is already done; reload to see the current state.",
            (429, _) => "Too many requests: wait a minute, then retry.",
            (0, _) | (500..=599, _) => "Something failed on the way; retry.",
            _ => "Check the values and retry.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(count: u64, limit: Option<u64>) -> Usage {
        let month = "2026-12-01T00:00:00Z".to_string();
        Usage {
            count,
            limit,
            remaining: limit.map(|l| l.saturating_sub(count)),
            period_start: month.clone(),
            period_end: month.clone(),
            resets_at: month,
        }
    }

    fn error(code: &str, message: &str) -> ErrorDetail {
        ErrorDetail { code: code.into(), message: message.into() }
    }

    #[test]
    fn usage_reads_as_count_over_limit_or_unlimited() {
        assert_eq!(usage_text(&usage(3, Some(5))), "3 / 5 calls this month");
        assert_eq!(usage_text(&usage(7, None)), "7 calls this month (unlimited)");
    }

    #[test]
    fn usage_percent_rounds_down_caps_at_100_and_treats_a_zero_limit_as_full() {
        assert_eq!(usage_percent(&usage(3, Some(5))), Some(60));
        assert_eq!(usage_percent(&usage(2, Some(3))), Some(66));
        assert_eq!(usage_percent(&usage(9, Some(5))), Some(100));
        assert_eq!(usage_percent(&usage(0, Some(0))), Some(100));
        assert_eq!(usage_percent(&usage(5, None)), None);
    }

    #[test]
    fn the_upgrade_is_offered_from_80_percent_and_urgently_at_the_limit_but_never_to_paid_plans() {
        assert_eq!(upgrade_prompt(&usage(3, Some(5)), false), Upgrade::None);
        assert_eq!(upgrade_prompt(&usage(4, Some(5)), false), Upgrade::Nearing);
        assert_eq!(upgrade_prompt(&usage(5, Some(5)), false), Upgrade::Reached);
        assert_eq!(upgrade_prompt(&usage(500, Some(500)), true), Upgrade::None);
    }

    #[test]
    fn the_plan_says_what_it_allows_what_happens_at_the_limit_and_how_to_go_further() {
        let free = plan_sentence(false, Some(5));
        assert!(free.starts_with("The free plan meters 5 calls a month"), "{free}");
        assert!(
            free.contains("403 platform_quota_reached until the month ends or you upgrade."),
            "{free}"
        );
        let paid = plan_sentence(true, Some(500));
        assert!(paid.contains("500 calls a month") && !paid.contains("upgrade"), "{paid}");
        assert!(plan_sentence(true, None).contains("without a monthly limit"));
    }

    #[test]
    fn money_shows_cents_only_when_there_are_some() {
        assert_eq!(money(900), "$9");
        assert_eq!(money(950), "$9.50");
        assert_eq!(money(5), "$0.05");
    }

    #[test]
    fn errors_advise_what_to_do_by_status() {
        let quota = Problem::from_answer(403, &error("platform_quota_reached", "used"));
        assert!(quota.advice().contains("upgrade"));
        assert!(Problem::from_answer(429, &ErrorDetail::default()).advice().contains("wait"));
        let silent = Problem::from_answer(502, &ErrorDetail::default());
        assert_eq!(silent.message, "The request failed (502).");
        assert!(Problem::unexpected(200, "missing field `count`").advice().contains("Reload"));
    }
}
