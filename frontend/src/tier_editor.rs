//! The tier editor's state: the tiers as typed, the tiers last saved, the messages next
//! to the fields, and where a save stands. It changes only through [`TierAction`]s, as a
//! [`Reducible`] behind `use_reducer`, so actions dispatched before the next render each
//! apply to the result of the one before (none is lost). The tiers are checked with
//! `dream_core::tier`, so the messages are the API's own.

use crate::state::{money, Problem};
use dream_core::tier::{Tier, TierConfig, MAX_TIERS};
use serde_json::{json, Value};
use std::rc::Rc;
use yew::functional::Reducible;

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

impl TierDraft {
    /// A saved tier, as the editor shows it.
    pub fn of(tier: &Tier) -> Self {
        Self {
            id: tier.id.to_string(),
            name: tier.name.clone(),
            price: money(tier.price_cents).trim_start_matches('$').to_string(),
            limit: tier.limit.map(|l| l.to_string()).unwrap_or_default(),
            features: tier.features.join("\n"),
            popular: tier.popular,
        }
    }

    /// The tier a developer adds: free, 100 calls, to be named.
    fn added(position: usize) -> Self {
        Self {
            id: format!("tier-{position}"),
            price: "0".into(),
            limit: "100".into(),
            ..Self::default()
        }
    }

    fn set(&mut self, field: Field, value: String) {
        match field {
            Field::Id => self.id = value,
            Field::Name => self.name = value,
            Field::Price => self.price = value,
            Field::Limit => self.limit = value,
            Field::Features => self.features = value,
            Field::Popular => self.popular = value == "true",
        }
    }
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

/// Where saving stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saving {
    Idle,
    /// Sent: the tiers as they were sent, to tell whether they were edited meanwhile.
    Busy(Vec<TierDraft>),
    Saved,
    Failed(Problem),
}

/// What can happen to the editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TierAction {
    /// A new tier at the end (at most [`MAX_TIERS`]).
    Add,
    Remove(usize),
    MoveUp(usize),
    /// A field of a tier, as typed (`Popular`: `"true"` or `"false"`).
    Set(usize, Field, String),
    /// Back to the tiers last saved.
    Reset,
    /// The current tiers were sent to be saved.
    Sending,
    /// The API saved them and answered with these.
    Saved(Vec<Tier>),
    /// The save failed; a `400` is put next to the field it names.
    Failed(Problem),
}

/// The tier list being edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierEditor {
    pub tiers: Vec<TierDraft>,
    pub saved: Vec<TierDraft>,
    pub errors: Vec<FieldError>,
    pub saving: Saving,
}

impl TierEditor {
    /// The editor over the platform's saved tiers.
    pub fn new(saved: &[Tier]) -> Self {
        let drafts: Vec<TierDraft> = saved.iter().map(TierDraft::of).collect();
        Self { errors: vec![], saving: Saving::Idle, tiers: drafts.clone(), saved: drafts }
    }

    /// Whether the tiers differ from the ones saved.
    pub fn changed(&self) -> bool {
        self.tiers != self.saved
    }

    pub fn can_add(&self) -> bool {
        self.tiers.len() < MAX_TIERS
    }

    pub fn busy(&self) -> bool {
        matches!(self.saving, Saving::Busy(_))
    }

    /// The tiers as the API would take them, or the messages to show next to the fields.
    pub fn check(&self) -> Result<TierConfig, Vec<FieldError>> {
        check(&self.tiers)
    }

    /// The `PUT /v1/tiers` body, when the tiers are valid.
    pub fn request(&self) -> Result<Value, Vec<FieldError>> {
        self.check().map(|config| json!({ "tiers": config.tiers() }))
    }

    /// The pricing table the tiers make, empty while they are not valid.
    pub fn preview(&self) -> Vec<Tier> {
        self.check().map(|config| config.tiers().to_vec()).unwrap_or_default()
    }

    /// The messages about the whole list rather than one field.
    pub fn general_errors(&self) -> impl Iterator<Item = &FieldError> {
        self.errors.iter().filter(|e| e.index.is_none() || e.field.is_none())
    }

    /// The message next to one field, if any.
    pub fn error_at(&self, index: usize, field: Field) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.index == Some(index) && e.field == Some(field))
    }

    /// The state after `action`.
    pub fn after(&self, action: TierAction) -> Self {
        let mut next = self.clone();
        let edited = match action {
            TierAction::Add if next.can_add() => {
                next.tiers.push(TierDraft::added(next.tiers.len() + 1));
                true
            }
            TierAction::Remove(i) if i < next.tiers.len() && next.tiers.len() > 1 => {
                next.tiers.remove(i);
                true
            }
            TierAction::MoveUp(i) if i > 0 && i < next.tiers.len() => {
                next.tiers.swap(i - 1, i);
                true
            }
            TierAction::Set(i, field, value) if i < next.tiers.len() => {
                next.tiers[i].set(field, value);
                true
            }
            TierAction::Reset => {
                next.tiers = next.saved.clone();
                true
            }
            TierAction::Sending => {
                next.saving = Saving::Busy(next.tiers.clone());
                false
            }
            TierAction::Saved(tiers) => {
                let drafts: Vec<TierDraft> = tiers.iter().map(TierDraft::of).collect();
                // Edits made while the save was on its way stay, to be saved next.
                let edited_meanwhile =
                    matches!(&self.saving, Saving::Busy(sent) if *sent != self.tiers);
                if !edited_meanwhile {
                    next.tiers = drafts.clone();
                }
                next.saved = drafts;
                next.errors = check(&next.tiers).err().unwrap_or_default();
                next.saving = Saving::Saved;
                false
            }
            TierAction::Failed(problem) => {
                if problem.status == 400 {
                    next.errors = vec![locate(&problem.message)];
                }
                next.saving = Saving::Failed(problem);
                false
            }
            // An index that no longer exists (a tier removed meanwhile), a 21st tier or
            // the last one: nothing changes.
            TierAction::Add
            | TierAction::Remove(_)
            | TierAction::MoveUp(_)
            | TierAction::Set(..) => return next,
        };
        if edited {
            next.errors = check(&next.tiers).err().unwrap_or_default();
            // A save on its way stays on its way; a past save's status no longer applies.
            if !next.busy() {
                next.saving = Saving::Idle;
            }
        }
        next
    }
}

impl Reducible for TierEditor {
    type Action = TierAction;

    fn reduce(self: Rc<Self>, action: TierAction) -> Rc<Self> {
        Rc::new(self.after(action))
    }
}

/// The tiers as the API would take them (`dream_core::tier`'s rules), or the messages
/// to show next to the fields.
pub fn check(drafts: &[TierDraft]) -> Result<TierConfig, Vec<FieldError>> {
    let mut errors = vec![];
    let mut tiers = vec![];
    for (i, t) in drafts.iter().enumerate() {
        let at = |field, message: &str| FieldError {
            index: Some(i),
            field: Some(field),
            message: message.into(),
        };
        let price = parse_dollars(&t.price).unwrap_or_else(|| {
            errors.push(at(Field::Price, "Enter a price in dollars, such as 9 or 9.50."));
            0
        });
        let limit = match t.limit.trim() {
            "" => Value::Null,
            text => text.parse::<u64>().map(Value::from).unwrap_or_else(|_| {
                errors.push(at(
                    Field::Limit,
                    "Enter a whole number of calls, or leave empty for unlimited.",
                ));
                Value::Null
            }),
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
    TierConfig::from_request(&tiers).map_err(|e| vec![locate(&e.0)])
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
mod tests;
