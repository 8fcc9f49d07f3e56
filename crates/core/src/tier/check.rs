//! Checking a list of tiers as a request holds them: every broken rule, not only the
//! first, and each tier that is valid on its own, so a caller can show those while
//! the rest is being fixed.

use super::problem::{ProblemKind, TierField, TierProblem};
use super::{Tier, TierConfig, MAX_FEATURES, MAX_FEATURE_CHARS, MAX_NAME_CHARS};
use super::{MAX_PRICE_CENTS, MAX_TIERS};
use crate::ids::TierId;
use crate::json::whole_number;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What checking a list found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierCheck {
    /// One per tier, in order: the tier when its own fields are all valid.
    tiers: Vec<Option<Tier>>,
    problems: Vec<TierProblem>,
}

impl TierCheck {
    /// Checks every rule of `tiers`.
    pub fn of(tiers: &[Value]) -> Self {
        let mut problems = vec![];
        if tiers.is_empty() {
            problems.push(TierProblem::of_list(ProblemKind::NoTiers));
        } else if tiers.len() > MAX_TIERS {
            problems.push(TierProblem::of_list(ProblemKind::TooManyTiers));
        }
        let mut first_use: BTreeMap<TierId, usize> = BTreeMap::new();
        let mut first_price = None;
        let mut checked = Vec::with_capacity(tiers.len());
        for (i, value) in tiers.iter().enumerate() {
            let Value::Object(map) = value else {
                problems.push(TierProblem::at(i, None, ProblemKind::NotAnObject));
                checked.push(None);
                continue;
            };
            let fields = Fields::read(map);
            for (field, kind) in &fields.problems {
                problems.push(TierProblem::at(i, Some(*field), kind.clone()));
            }
            if let Some(id) = &fields.id {
                match first_use.get(id) {
                    Some(&first) => problems.push(TierProblem::at(
                        i,
                        Some(TierField::Id),
                        ProblemKind::IdUsedTwice { id: id.clone(), first },
                    )),
                    None => {
                        first_use.insert(id.clone(), i);
                    }
                }
            }
            if i == 0 {
                first_price = fields.price_cents;
            }
            checked.push(fields.tier());
        }
        if first_price.is_some_and(|cents| cents != 0) {
            problems.push(TierProblem::at(
                0,
                Some(TierField::PriceCents),
                ProblemKind::FirstTierNotFree,
            ));
        }
        Self { tiers: checked, problems }
    }

    /// Every broken rule, in the order the API names the first: the list's length, then
    /// each tier in turn (its fields in order, then its id's first use), then whether
    /// the first tier is free.
    pub fn problems(&self) -> &[TierProblem] {
        &self.problems
    }

    /// The problems that name the tier at `index`.
    pub fn problems_at(&self, index: usize) -> impl Iterator<Item = &TierProblem> {
        self.problems.iter().filter(move |p| p.tier == Some(index))
    }

    /// The tier at `index` when its own fields are valid. It may still break a rule of
    /// the list (an id used before, a price on the first tier): see [`Self::problems_at`].
    pub fn tier(&self, index: usize) -> Option<&Tier> {
        self.tiers.get(index)?.as_ref()
    }

    /// How many tiers were checked.
    pub fn len(&self) -> usize {
        self.tiers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    /// The configuration, when no rule is broken.
    pub fn into_config(self) -> Result<TierConfig, Vec<TierProblem>> {
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        Ok(TierConfig { tiers: self.tiers.into_iter().flatten().collect() })
    }
}

/// One tier's fields, each read on its own so that every broken one is named.
struct Fields {
    id: Option<TierId>,
    name: Option<String>,
    price_cents: Option<u64>,
    limit: Option<Option<u64>>,
    features: Option<Vec<String>>,
    popular: Option<bool>,
    problems: Vec<(TierField, ProblemKind)>,
}

impl Fields {
    fn read(map: &Map<String, Value>) -> Self {
        let mut problems = vec![];
        let id = kept(&mut problems, TierField::Id, read_id(map));
        let name = kept(&mut problems, TierField::Name, read_name(map));
        let price_cents = kept(&mut problems, TierField::PriceCents, read_price(map));
        let limit = kept(&mut problems, TierField::Limit, read_limit(map));
        let features = kept(&mut problems, TierField::Features, read_features(map));
        let popular = kept(&mut problems, TierField::Popular, read_popular(map));
        Self { id, name, price_cents, limit, features, popular, problems }
    }

    fn tier(self) -> Option<Tier> {
        Some(Tier {
            id: self.id?,
            name: self.name?,
            price_cents: self.price_cents?,
            limit: self.limit?,
            features: self.features?,
            popular: self.popular?,
            stripe_price_id: None,
        })
    }
}

/// The value read, or `None` with its problem noted.
fn kept<T>(
    problems: &mut Vec<(TierField, ProblemKind)>,
    field: TierField,
    read: Result<T, ProblemKind>,
) -> Option<T> {
    read.map_err(|kind| problems.push((field, kind))).ok()
}

/// A field's value; `null` counts as absent.
fn present<'a>(map: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    map.get(field).filter(|v| !v.is_null())
}

fn required_text<'a>(map: &'a Map<String, Value>, field: &str) -> Result<&'a str, ProblemKind> {
    match present(map, field) {
        None => Err(ProblemKind::Missing),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ProblemKind::NotAString),
    }
}

fn read_id(map: &Map<String, Value>) -> Result<TierId, ProblemKind> {
    let id = required_text(map, "id")?;
    if id.trim().is_empty() {
        return Err(ProblemKind::Blank);
    }
    TierId::parse(id).map_err(|_| ProblemKind::BadId)
}

fn read_name(map: &Map<String, Value>) -> Result<String, ProblemKind> {
    let name = required_text(map, "name")?.trim();
    match name.chars().count() {
        0 => Err(ProblemKind::Blank),
        n if n > MAX_NAME_CHARS => Err(ProblemKind::NameTooLong),
        _ => Ok(name.to_string()),
    }
}

fn read_price(map: &Map<String, Value>) -> Result<u64, ProblemKind> {
    let price = present(map, "priceCents").ok_or(ProblemKind::Missing)?;
    whole_number(price).filter(|cents| *cents <= MAX_PRICE_CENTS).ok_or(ProblemKind::BadPrice)
}

/// `null` is unlimited; the field itself is required, so that leaving it out is not
/// taken for unlimited by mistake.
fn read_limit(map: &Map<String, Value>) -> Result<Option<u64>, ProblemKind> {
    match map.get("limit") {
        None => Err(ProblemKind::Missing),
        Some(Value::Null) => Ok(None),
        Some(limit) => whole_number(limit).map(Some).ok_or(ProblemKind::BadLimit),
    }
}

fn read_features(map: &Map<String, Value>) -> Result<Vec<String>, ProblemKind> {
    match present(map, "features") {
        None => Ok(vec![]),
        Some(Value::Array(items)) if items.len() > MAX_FEATURES => {
            Err(ProblemKind::TooManyFeatures)
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) if s.chars().count() <= MAX_FEATURE_CHARS => Ok(s.clone()),
                _ => Err(ProblemKind::BadFeature),
            })
            .collect(),
        Some(_) => Err(ProblemKind::FeaturesNotAList),
    }
}

fn read_popular(map: &Map<String, Value>) -> Result<bool, ProblemKind> {
    match present(map, "popular") {
        None => Ok(false),
        Some(Value::Bool(popular)) => Ok(*popular),
        Some(_) => Err(ProblemKind::NotABoolean),
    }
}
