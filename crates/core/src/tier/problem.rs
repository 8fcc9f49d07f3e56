//! What can be wrong with a list of tiers, one value per broken rule, so that a caller
//! can say it in its own words. Its `Display` is the API's `400` message, which names
//! the tier and the field (`tiers[1].limit …`).

use super::{MAX_FEATURES, MAX_FEATURE_CHARS, MAX_NAME_CHARS, MAX_PRICE_CENTS, MAX_TIERS};
use crate::error::Invalid;
use crate::ids::TierId;
use std::fmt;

/// A tier's fields, as a request names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TierField {
    Id,
    Name,
    PriceCents,
    Limit,
    Features,
    Popular,
}

impl TierField {
    /// Every field, in the order they are checked.
    pub const ALL: [Self; 6] =
        [Self::Id, Self::Name, Self::PriceCents, Self::Limit, Self::Features, Self::Popular];

    /// The field's name in a request (`priceCents`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Name => "name",
            Self::PriceCents => "priceCents",
            Self::Limit => "limit",
            Self::Features => "features",
            Self::Popular => "popular",
        }
    }

    /// The field a request names `name`, if a tier has one.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Which rule is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The list is empty.
    NoTiers,
    /// The list holds more than [`MAX_TIERS`] tiers.
    TooManyTiers,
    /// A tier is not a JSON object.
    NotAnObject,
    /// A required field is absent or `null`.
    Missing,
    /// `id` or `name` is not a string.
    NotAString,
    /// `id` or `name` is empty, or only spaces.
    Blank,
    /// `id` is not 1 to 32 characters of `a-z`, `0-9` and `-`.
    BadId,
    /// `name` is over [`MAX_NAME_CHARS`] characters once trimmed.
    NameTooLong,
    /// `priceCents` is not a whole number from 0 to [`MAX_PRICE_CENTS`].
    BadPrice,
    /// `limit` is not a whole number ≥ 0 (nor `null`, for unlimited).
    BadLimit,
    /// `features` is not an array.
    FeaturesNotAList,
    /// `features` holds more than [`MAX_FEATURES`] items.
    TooManyFeatures,
    /// A feature is not a string of at most [`MAX_FEATURE_CHARS`] characters.
    BadFeature,
    /// `popular` is not `true` or `false`.
    NotABoolean,
    /// Another tier, earlier in the list (`first`, from 0), has this id.
    IdUsedTwice { id: TierId, first: usize },
    /// The first tier has a price: new end-users start there, so it must be free.
    FirstTierNotFree,
}

/// One broken rule: which tier (`None`: the whole list), which field, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierProblem {
    /// The tier's index in the list, from 0.
    pub tier: Option<usize>,
    pub field: Option<TierField>,
    pub kind: ProblemKind,
}

impl TierProblem {
    /// A problem of the whole list.
    pub fn of_list(kind: ProblemKind) -> Self {
        Self { tier: None, field: None, kind }
    }

    /// A problem of one tier's field (`field` `None`: of the tier as a whole).
    pub fn at(tier: usize, field: Option<TierField>, kind: ProblemKind) -> Self {
        Self { tier: Some(tier), field, kind }
    }
}

impl fmt::Display for TierProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ProblemKind as K;
        // The tier and field the message is about: `tiers[1].`
        let at = self.tier.map(|i| format!("tiers[{i}].")).unwrap_or_default();
        let field = self.field.map_or("", TierField::name);
        match &self.kind {
            K::NoTiers | K::TooManyTiers => write!(f, "tiers must hold 1 to {MAX_TIERS} tiers"),
            K::NotAnObject => write!(f, "{at}must be an object"),
            K::Missing if self.field == Some(TierField::Limit) => {
                write!(f, "{at}limit is required (an integer ≥ 0, or null for unlimited)")
            }
            K::Missing => write!(f, "{at}{field} is required"),
            K::NotAString => write!(f, "{at}{field} must be a string"),
            K::Blank | K::BadId if self.field == Some(TierField::Id) => {
                write!(f, "{at}id must be 1 to 32 characters of a-z, 0-9 and -")
            }
            K::Blank | K::BadId | K::NameTooLong => {
                write!(f, "{at}name must be 1 to {MAX_NAME_CHARS} characters")
            }
            K::BadPrice => {
                write!(f, "{at}priceCents must be an integer from 0 to {MAX_PRICE_CENTS}")
            }
            K::BadLimit => write!(f, "{at}limit must be an integer ≥ 0, or null for unlimited"),
            K::FeaturesNotAList | K::TooManyFeatures => {
                write!(f, "{at}features must be an array of at most {MAX_FEATURES} strings")
            }
            K::BadFeature => {
                write!(f, "{at}features must be strings of at most {MAX_FEATURE_CHARS} characters")
            }
            K::NotABoolean => write!(f, "{at}popular must be true or false"),
            K::IdUsedTwice { id, .. } => write!(f, "{at}id \"{id}\" is used twice"),
            K::FirstTierNotFree => write!(
                f,
                "{at}priceCents must be 0: new end-users start on the first tier, which is free"
            ),
        }
    }
}

impl From<TierProblem> for Invalid {
    fn from(problem: TierProblem) -> Self {
        Invalid::new(problem.to_string())
    }
}
