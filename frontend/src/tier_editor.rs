//! The tier editor's state: the tiers as typed, the tiers last saved, which fields were
//! left once, whether a save was tried, and where a save stands. It changes only
//! through [`TierAction`]s, as a [`Reducible`] behind `use_reducer`, so actions
//! dispatched before the next render each apply to the result of the one before (none
//! is lost). The tiers are checked with `dream_core::tier`, which names every broken
//! rule; [`words`] says each in the editor's own words. A message shows once its field
//! was left or a save was tried, never while a fresh field is being typed into.

mod leaving;
pub mod words;

pub use leaving::{confirm_leaving_tiers, has_unsaved_tiers, use_leave_guard, LEAVE_QUESTION};

use crate::state::{money, Problem};
use dream_core::tier::MAX_TIERS;
use dream_core::tier::{ProblemKind, Tier, TierCheck, TierConfig, TierField, TierProblem};
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

    /// The tier as a request holds it. Text that is not a price or a number of calls
    /// is sent as typed, so that core's check names it as the API would.
    fn request_value(&self) -> Value {
        let price = parse_dollars(&self.price).map_or_else(|| json!(self.price), Value::from);
        let limit = match self.limit.trim() {
            "" => Value::Null,
            text => text.parse::<u64>().map_or_else(|_| json!(text), Value::from),
        };
        let features: Vec<&str> =
            self.features.lines().map(str::trim).filter(|f| !f.is_empty()).collect();
        json!({
            "id": self.id.trim(), "name": self.name, "priceCents": price, "limit": limit,
            "features": features, "popular": self.popular,
        })
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

impl From<TierField> for Field {
    fn from(field: TierField) -> Self {
        match field {
            TierField::Id => Self::Id,
            TierField::Name => Self::Name,
            TierField::PriceCents => Self::Price,
            TierField::Limit => Self::Limit,
            TierField::Features => Self::Features,
            TierField::Popular => Self::Popular,
        }
    }
}

/// The fields of one tier that were left at least once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Touched(u8);

impl Touched {
    fn has(self, field: Field) -> bool {
        self.0 & (1 << field as u8) != 0
    }

    fn mark(&mut self, field: Field) {
        self.0 |= 1 << field as u8;
    }
}

/// A message to show (`index` `None`: about the whole list; `field` `None`: about the
/// tier or the list, not one field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub index: Option<usize>,
    pub field: Option<Field>,
    pub message: String,
}

impl FieldError {
    fn of(problem: &TierProblem) -> Self {
        Self {
            index: problem.tier,
            field: problem.field.map(Field::from),
            message: words::sentence(problem),
        }
    }
}

/// A card of the preview, in the editor's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewCard {
    /// A tier as end-users will see it.
    Tier(Tier),
    /// A tier that is not valid yet, and why ("Tier 2 has a problem: …").
    Problem { index: usize, message: String },
}

/// What the save status says, and how it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveStatus {
    pub text: String,
    pub tone: Tone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Quiet,
    Ok,
    Problem,
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
    /// The developer left a field: from now on its message shows.
    Leave(usize, Field),
    /// Back to the tiers last saved.
    Reset,
    /// Save was pressed: every message shows (the tiers are sent only when valid).
    Attempt,
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
    /// One per tier, in step with `tiers`.
    touched: Vec<Touched>,
    /// Save was pressed since the tiers were last saved or discarded.
    pub attempted: bool,
    /// What the API refused on the last save, until the next edit.
    refused: Option<FieldError>,
    pub saving: Saving,
}

impl TierEditor {
    /// The editor over the platform's saved tiers.
    pub fn new(saved: &[Tier]) -> Self {
        let drafts: Vec<TierDraft> = saved.iter().map(TierDraft::of).collect();
        Self {
            touched: vec![Touched::default(); drafts.len()],
            attempted: false,
            refused: None,
            saving: Saving::Idle,
            tiers: drafts.clone(),
            saved: drafts,
        }
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

    /// Every rule the tiers break, as core finds them, and each tier valid on its own.
    pub fn check(&self) -> TierCheck {
        check(&self.tiers)
    }

    /// The `PUT /v1/tiers` body, when the tiers are valid.
    pub fn request(&self) -> Option<Value> {
        let config = self.check().into_config().ok()?;
        Some(json!({ "tiers": config.tiers() }))
    }

    /// Every problem, in the editor's words, whether it shows yet or not.
    pub fn problems(&self) -> Vec<FieldError> {
        self.check().problems().iter().map(FieldError::of).collect()
    }

    /// The messages to show now: those of fields left once (or of every field, once a
    /// save was tried), and what the API refused.
    pub fn messages(&self) -> Vec<FieldError> {
        let check = self.check();
        let shown = check.problems().iter().filter(|p| self.shows(p)).map(FieldError::of);
        shown.chain(self.refused.clone()).collect()
    }

    fn shows(&self, problem: &TierProblem) -> bool {
        let left = |index: usize, field: Field| {
            self.touched.get(index).is_some_and(|touched| touched.has(field))
        };
        let first_use = match problem.kind {
            ProblemKind::IdUsedTwice { first, .. } => left(first, Field::Id),
            _ => false,
        };
        self.attempted
            || first_use
            || matches!((problem.tier, problem.field), (Some(i), Some(f)) if left(i, f.into()))
    }

    /// The message next to one field, if one shows.
    pub fn error_at(&self, index: usize, field: Field) -> Option<FieldError> {
        self.messages().into_iter().find(|e| e.index == Some(index) && e.field == Some(field))
    }

    /// The pricing table the tiers make: every valid tier, and a card saying what is
    /// wrong in place of each other one.
    pub fn preview(&self) -> Vec<PreviewCard> {
        let check = self.check();
        (0..self.tiers.len())
            .map(|index| match (check.problems_at(index).next(), check.tier(index)) {
                (None, Some(tier)) => PreviewCard::Tier(tier.clone()),
                (problem, _) => PreviewCard::Problem {
                    index,
                    message: problem
                        .map_or_else(|| format!("Tier {} has a problem", index + 1), words::card),
                },
            })
            .collect()
    }

    /// What the save status says.
    pub fn status(&self) -> SaveStatus {
        let to_fix = self.check().problems().len();
        let (tone, text) = match &self.saving {
            Saving::Busy(_) => (Tone::Quiet, "Saving…".into()),
            Saving::Failed(p) => match &self.refused {
                Some(refused) => (Tone::Problem, format!("Not saved: {}", refused.message)),
                None => (Tone::Problem, format!("Not saved: {} {}", p.message, p.advice())),
            },
            _ if self.attempted && to_fix > 0 => {
                let s = if to_fix == 1 { "" } else { "s" };
                (Tone::Problem, format!("Not saved: {to_fix} problem{s} to fix"))
            }
            _ if self.changed() => (Tone::Quiet, "Unsaved changes".into()),
            Saving::Saved => (Tone::Ok, "Saved".into()),
            Saving::Idle => (Tone::Quiet, "No unsaved changes".into()),
        };
        SaveStatus { text, tone }
    }

    /// The state after `action`.
    pub fn after(&self, action: TierAction) -> Self {
        let mut next = self.clone();
        let edited = match action {
            TierAction::Add if next.can_add() => {
                next.tiers.push(TierDraft::added(next.tiers.len() + 1));
                next.touched.push(Touched::default());
                true
            }
            TierAction::Remove(i) if i < next.tiers.len() && next.tiers.len() > 1 => {
                next.tiers.remove(i);
                next.touched.remove(i);
                next.new_first_tier(i == 0);
                true
            }
            TierAction::MoveUp(i) if i > 0 && i < next.tiers.len() => {
                next.tiers.swap(i - 1, i);
                next.touched.swap(i - 1, i);
                next.new_first_tier(i == 1);
                true
            }
            TierAction::Set(i, field, value) if i < next.tiers.len() => {
                next.tiers[i].set(field, value);
                true
            }
            TierAction::Leave(i, field) if i < next.tiers.len() => {
                next.touched[i].mark(field);
                false
            }
            TierAction::Reset => {
                next.tiers = next.saved.clone();
                next.touched = vec![Touched::default(); next.tiers.len()];
                next.attempted = false;
                true
            }
            TierAction::Attempt => {
                next.attempted = true;
                false
            }
            TierAction::Sending => {
                next.attempted = true;
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
                    next.touched.resize(next.tiers.len(), Touched::default());
                }
                next.saved = drafts;
                next.attempted = false;
                next.refused = None;
                next.saving = Saving::Saved;
                false
            }
            TierAction::Failed(problem) => {
                if problem.status == 400 {
                    let sent = match &self.saving {
                        Saving::Busy(sent) => sent.as_slice(),
                        _ => &self.tiers,
                    };
                    next.refused = Some(refusal(sent, &problem.message));
                }
                next.saving = Saving::Failed(problem);
                false
            }
            // An index that no longer exists (a tier removed meanwhile), a 21st tier or
            // the last one: nothing changes.
            TierAction::Add
            | TierAction::Remove(_)
            | TierAction::MoveUp(_)
            | TierAction::Set(..)
            | TierAction::Leave(..) => return next,
        };
        if edited {
            next.refused = None;
            // A save on its way stays on its way; a past save's status no longer applies.
            if !next.busy() {
                next.saving = Saving::Idle;
            }
        }
        next
    }

    /// Another tier became the first one: whether it is free matters at once.
    fn new_first_tier(&mut self, happened: bool) {
        if let (true, Some(first)) = (happened, self.touched.first_mut()) {
            first.mark(Field::Price);
        }
    }
}

impl Reducible for TierEditor {
    type Action = TierAction;

    fn reduce(self: Rc<Self>, action: TierAction) -> Rc<Self> {
        Rc::new(self.after(action))
    }
}

/// The drafts checked with `dream_core::tier`'s rules, as the API will check them.
pub fn check(drafts: &[TierDraft]) -> TierCheck {
    let values: Vec<Value> = drafts.iter().map(TierDraft::request_value).collect();
    TierConfig::check(&values)
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

/// A `400`'s message (the API's words, `tiers[1].name must …`) as the editor shows it:
/// the same problem core finds in the tiers that were sent, in the editor's words;
/// otherwise the API's message next to the field it names.
pub fn refusal(sent: &[TierDraft], message: &str) -> FieldError {
    if let Some(problem) = check(sent).problems().iter().find(|p| p.to_string() == message) {
        return FieldError::of(problem);
    }
    let located = message.strip_prefix("tiers[").and_then(|rest| {
        let (index, rest) = rest.split_once("].")?;
        let field = rest.split(|c: char| !c.is_ascii_alphanumeric()).next()?;
        Some((index.parse::<usize>().ok()?, TierField::named(field), rest))
    });
    match located {
        Some((index, field, rest)) => FieldError {
            index: Some(index),
            field: field.map(Field::from),
            message: format!("{}: {rest}", words::tier_label(index)),
        },
        None => FieldError { index: None, field: None, message: message.into() },
    }
}

#[cfg(test)]
mod tests;
