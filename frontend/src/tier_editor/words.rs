//! The editor's words for what core's tier check finds. The API names a tier by its
//! index and a field by its request name (`tiers[1].priceCents …`); the editor names
//! them as the form shows them ("Tier 2", "price") and says what to do.

use dream_core::tier::{ProblemKind, TierField, TierProblem};
use dream_core::tier::{MAX_FEATURES, MAX_FEATURE_CHARS, MAX_NAME_CHARS, MAX_TIERS};

/// A tier as the form's legends name it: "Tier 2".
pub fn tier_label(index: usize) -> String {
    format!("Tier {}", index + 1)
}

/// What is wrong, said of the tier or the list ("name is required").
pub fn what(problem: &TierProblem) -> String {
    use ProblemKind as K;
    let field = problem.field.map_or("this field", label);
    match (&problem.kind, problem.field) {
        (K::NoTiers, _) => "keep at least one tier".into(),
        (K::TooManyTiers, _) => format!("keep at most {MAX_TIERS} tiers"),
        (K::NotAnObject, _) => "it could not be read".into(),
        (K::BadPrice, _) | (K::Missing, Some(TierField::PriceCents)) => {
            "enter a price in dollars, such as 9 or 9.50".into()
        }
        (K::BadLimit, _) | (K::Missing, Some(TierField::Limit)) => {
            "enter a whole number of calls, or leave it empty for unlimited".into()
        }
        (K::Missing | K::Blank, _) => format!("{field} is required"),
        (K::NotAString, _) => format!("{field} must be text"),
        (K::BadId, _) => "the id must be lowercase letters, digits and dashes (up to 32)".into(),
        (K::NameTooLong, _) => format!("the name can be at most {MAX_NAME_CHARS} characters"),
        (K::FeaturesNotAList, _) => "the features must be a list".into(),
        (K::TooManyFeatures, _) => format!("at most {MAX_FEATURES} features, one per line"),
        (K::BadFeature, _) => {
            format!("each feature can be at most {MAX_FEATURE_CHARS} characters")
        }
        (K::NotABoolean, _) => "most popular must be on or off".into(),
        (K::IdUsedTwice { id, first }, _) => {
            format!("the id {id} is used by {}", tier_label(*first))
        }
        (K::FirstTierNotFree, _) => "it is where new end-users start, so it must be free".into(),
    }
}

/// The sentence shown next to the field: "Tier 2: name is required".
pub fn sentence(problem: &TierProblem) -> String {
    let what = what(problem);
    match (problem.tier, &problem.kind) {
        (Some(0), ProblemKind::FirstTierNotFree) => {
            "Tier 1 is where new end-users start, so it must be free".into()
        }
        (None, _) | (_, ProblemKind::IdUsedTwice { .. }) => capitalised(&what),
        (Some(index), _) => format!("{}: {what}", tier_label(index)),
    }
}

/// The preview's card in place of a tier with a problem.
pub fn card(problem: &TierProblem) -> String {
    match problem.tier {
        Some(index) => format!("{} has a problem: {}", tier_label(index), what(problem)),
        None => capitalised(&what(problem)),
    }
}

/// A field as the form labels it, lower-cased inside a sentence.
fn label(field: TierField) -> &'static str {
    match field {
        TierField::Id => "id",
        TierField::Name => "name",
        TierField::PriceCents => "price",
        TierField::Limit => "monthly limit",
        TierField::Features => "features",
        TierField::Popular => "most popular",
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}
