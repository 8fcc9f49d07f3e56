//! What the dashboard shows, as plain functions of what the API answered: usage text
//! and percentages, when to offer an upgrade, money, error advice, and the tier
//! editor's state. No browser here, so all of it is tested natively.

use dream_core::tier::TierConfig;
use serde::Deserialize;
use serde_json::{json, Value};

/// The contract's `Usage`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub count: u64,
    pub limit: Option<u64>,
    #[serde(default)]
    pub resets_at: String,
}

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

/// An API error as the dashboard explains it: the server's message and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl Problem {
    pub fn from_answer(status: u16, body: &Value) -> Self {
        let text = |k: &str| body["error"][k].as_str().unwrap_or_default().to_string();
        let message = text("message");
        Self {
            status,
            code: text("code"),
            message: if message.is_empty() {
                format!("The request failed ({status}).")
            } else {
                message
            },
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

/// A tier as the editor holds it: text as typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TierDraft {
    pub id: String,
    pub name: String,
    /// Dollars, as typed: `9`, `9.50`.
    pub price: String,
    /// Empty is unlimited.
    pub limit: String,
    /// One feature per line.
    pub features: String,
    pub popular: bool,
}

/// The editor's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    Name,
    Price,
    Limit,
    Features,
    Popular,
}

impl Field {
    fn of(contract_name: &str) -> Option<Self> {
        Some(match contract_name {
            "id" => Self::Id,
            "name" => Self::Name,
            "priceCents" => Self::Price,
            "limit" => Self::Limit,
            "features" => Self::Features,
            "popular" => Self::Popular,
            _ => return None,
        })
    }
}

/// A message to show next to a field (`index` `None`: about the whole list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub index: Option<usize>,
    pub field: Option<Field>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierEdit {
    Add,
    Remove(usize),
    MoveUp(usize),
    Set(usize, Field, String),
    Replace(Vec<TierDraft>),
}

/// The tier list being edited.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TierEditor {
    pub tiers: Vec<TierDraft>,
}

impl TierEditor {
    pub fn from_api(tiers: &Value) -> Self {
        let drafts = tiers
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|t| TierDraft {
                        id: t["id"].as_str().unwrap_or_default().into(),
                        name: t["name"].as_str().unwrap_or_default().into(),
                        price: t["priceCents"]
                            .as_u64()
                            .map(|c| money(c).trim_start_matches('$').to_string())
                            .unwrap_or_default(),
                        limit: t["limit"].as_u64().map(|l| l.to_string()).unwrap_or_default(),
                        features: t["features"]
                            .as_array()
                            .map(|f| {
                                f.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n")
                            })
                            .unwrap_or_default(),
                        popular: t["popular"].as_bool().unwrap_or(false),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self { tiers: drafts }
    }

    pub fn apply(&self, edit: TierEdit) -> Self {
        let mut tiers = self.tiers.clone();
        match edit {
            TierEdit::Add => tiers.push(TierDraft {
                id: format!("tier-{}", tiers.len() + 1),
                name: String::new(),
                price: "0".into(),
                limit: "100".into(),
                ..TierDraft::default()
            }),
            TierEdit::Remove(i) if i < tiers.len() => {
                tiers.remove(i);
            }
            TierEdit::MoveUp(i) if i > 0 && i < tiers.len() => tiers.swap(i - 1, i),
            TierEdit::Set(i, field, value) if i < tiers.len() => {
                let t = &mut tiers[i];
                match field {
                    Field::Id => t.id = value,
                    Field::Name => t.name = value,
                    Field::Price => t.price = value,
                    Field::Limit => t.limit = value,
                    Field::Features => t.features = value,
                    Field::Popular => t.popular = value == "true",
                }
            }
            TierEdit::Replace(drafts) => tiers = drafts,
            _ => {}
        }
        Self { tiers }
    }

    /// The `PUT /v1/tiers` body, checked by the same rules the API applies
    /// (`dream_core::tier`), or the messages to show next to the fields.
    pub fn to_request(&self) -> Result<Value, Vec<FieldError>> {
        let mut errors = vec![];
        let mut tiers = vec![];
        for (i, t) in self.tiers.iter().enumerate() {
            let at = |field, message: &str| FieldError {
                index: Some(i),
                field: Some(field),
                message: message.into(),
            };
            let price = match parse_dollars(&t.price) {
                Some(cents) => cents,
                None => {
                    errors.push(at(Field::Price, "Enter a price in dollars, such as 9 or 9.50."));
                    0
                }
            };
            let limit = match t.limit.trim() {
                "" => Value::Null,
                text => match text.parse::<u64>() {
                    Ok(n) => json!(n),
                    Err(_) => {
                        errors.push(at(
                            Field::Limit,
                            "Enter a whole number of calls, or leave empty for unlimited.",
                        ));
                        Value::Null
                    }
                },
            };
            let features: Vec<&str> =
                t.features.lines().map(str::trim).filter(|f| !f.is_empty()).collect();
            tiers.push(json!({
                "id": t.id.trim(), "name": t.name, "priceCents": price, "limit": limit,
                "features": features, "popular": t.popular,
            }));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        TierConfig::from_request(&tiers).map_err(|e| vec![locate(&e.0)])?;
        Ok(json!({ "tiers": tiers }))
    }
}

/// Cents from `9`, `9.5`, `9.50`, `$9`.
pub fn parse_dollars(text: &str) -> Option<u64> {
    let text = text.trim().trim_start_matches('$');
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let cents = format!("{fraction:0<2}").parse::<u64>().ok()?;
    whole.parse::<u64>().ok()?.checked_mul(100)?.checked_add(cents)
}

/// Puts a rule's message (`tiers[1].limit must …`) next to its field.
pub fn locate(message: &str) -> FieldError {
    let parsed = message.strip_prefix("tiers[").and_then(|rest| {
        let (index, rest) = rest.split_once("].")?;
        let field = rest.split(|c: char| !c.is_ascii_alphanumeric()).next()?;
        Some((index.parse::<usize>().ok()?, Field::of(field)))
    });
    match parsed {
        Some((index, field)) => FieldError { index: Some(index), field, message: message.into() },
        None => FieldError { index: None, field: None, message: message.into() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(count: u64, limit: Option<u64>) -> Usage {
        Usage { count, limit, resets_at: String::new() }
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
    fn money_shows_cents_only_when_there_are_some() {
        assert_eq!(money(900), "$9");
        assert_eq!(money(950), "$9.50");
        assert_eq!(money(5), "$0.05");
        assert_eq!(parse_dollars("9.5"), Some(950));
        assert_eq!(parse_dollars("$29"), Some(2900));
        for bad in ["", "9.999", "-1", "nine", "9.a"] {
            assert_eq!(parse_dollars(bad), None, "{bad}");
        }
    }

    #[test]
    fn errors_advise_what_to_do_by_status() {
        let quota = Problem::from_answer(
            403,
            &json!({"error": {"code": "platform_quota_reached", "message": "used"}}),
        );
        assert!(quota.advice().contains("upgrade"));
        assert!(Problem::from_answer(429, &json!({})).advice().contains("wait"));
        assert_eq!(Problem::from_answer(502, &json!({})).message, "The request failed (502).");
    }

    #[test]
    fn the_editor_adds_moves_edits_and_removes_tiers() {
        let e = TierEditor::from_api(
            &json!([{"id": "free", "name": "Free", "priceCents": 0, "limit": 5, "features": ["A", "B"]}]),
        );
        assert_eq!(e.tiers[0].features, "A\nB");
        let e = e.apply(TierEdit::Add).apply(TierEdit::Set(1, Field::Name, "Pro".into()));
        let e = e.apply(TierEdit::MoveUp(1));
        assert_eq!(e.tiers[0].name, "Pro");
        let e = e.apply(TierEdit::Remove(0)).apply(TierEdit::Remove(7));
        assert_eq!(e.tiers.len(), 1);
        assert_eq!(e.tiers[0].id, "free");
    }

    #[test]
    fn the_editor_builds_the_request_or_puts_each_message_next_to_its_field() {
        let e = TierEditor::from_api(&json!([
            {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
            {"id": "pro", "name": "Pro", "priceCents": 950, "limit": null, "popular": true}
        ]));
        let body = e.to_request().expect("valid");
        assert_eq!(body["tiers"][1]["priceCents"], 950);
        assert_eq!(body["tiers"][1]["limit"], Value::Null);

        let typo = e.apply(TierEdit::Set(1, Field::Limit, "lots".into()));
        let errors = typo.to_request().expect_err("a bad limit");
        assert_eq!((errors[0].index, errors[0].field), (Some(1), Some(Field::Limit)));

        let paid_first = e.apply(TierEdit::MoveUp(1));
        let errors = paid_first.to_request().expect_err("the first tier must be free");
        assert_eq!((errors[0].index, errors[0].field), (Some(0), Some(Field::Price)));

        let twice = e.apply(TierEdit::Set(1, Field::Id, "free".into()));
        assert_eq!(twice.to_request().expect_err("duplicate")[0].field, Some(Field::Id));
    }
}
