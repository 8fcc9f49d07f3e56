use super::*;
use serde_json::json;

fn config(v: Value) -> Result<TierConfig, Invalid> {
    TierConfig::from_request(v.as_array().expect("array"))
}

fn free_and_pro() -> Value {
    json!([
        {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
        {"id": "pro", "name": "Pro", "priceCents": 900, "limit": 50, "features": ["Priority"], "popular": true},
        {"id": "max", "name": "Max", "priceCents": 2900, "limit": null},
    ])
}

#[test]
fn a_valid_list_keeps_its_order_and_fields() {
    let c = config(free_and_pro()).expect("valid");
    assert_eq!(c.tiers().len(), 3);
    assert_eq!(c.first().id.as_str(), "free");
    assert_eq!(c.find("pro").map(|t| t.limit), Some(Some(50)));
    assert_eq!(c.find("max").map(|t| t.limit), Some(None));
    assert!(c.find("pro").is_some_and(|t| t.popular && t.features == ["Priority"]));
}

#[test]
fn the_server_sets_stripe_price_ids_never_the_request() {
    let c = config(json!([{"id": "free", "name": "F", "priceCents": 0, "limit": 1, "stripePriceId": "price_x"}]))
        .expect("valid");
    assert_eq!(c.first().stripe_price_id, None);
}

#[test]
fn the_first_tier_must_be_free() {
    let err =
        config(json!([{"id": "pro", "name": "Pro", "priceCents": 100, "limit": 5}])).unwrap_err();
    assert!(err.0.starts_with("tiers[0].priceCents must be 0"), "{err}");
}

#[test]
fn ids_must_be_unique_slugs() {
    let dup = config(json!([
        {"id": "free", "name": "A", "priceCents": 0, "limit": 1},
        {"id": "free", "name": "B", "priceCents": 0, "limit": 2},
    ]));
    assert_eq!(dup.unwrap_err().0, "tiers[1].id \"free\" is used twice");
    let bad = config(json!([{"id": "Free!", "name": "A", "priceCents": 0, "limit": 1}]));
    assert!(bad.unwrap_err().0.starts_with("tiers[0].id must be"));
}

#[test]
fn every_broken_field_is_named_in_the_message() {
    let cases = [
        (json!({"id": "f", "priceCents": 0, "limit": 1}), "tiers[0].name is required"),
        (json!({"id": "f", "name": " ", "priceCents": 0, "limit": 1}), "tiers[0].name must be"),
        (
            json!({"id": "f", "name": "F", "priceCents": -1, "limit": 1}),
            "tiers[0].priceCents must be",
        ),
        (
            json!({"id": "f", "name": "F", "priceCents": "0", "limit": 1}),
            "tiers[0].priceCents must be",
        ),
        (json!({"id": "f", "name": "F", "limit": 1}), "tiers[0].priceCents is required"),
        (json!({"id": "f", "name": "F", "priceCents": 0}), "tiers[0].limit is required"),
        (json!({"id": "f", "name": "F", "priceCents": 0, "limit": -5}), "tiers[0].limit must be"),
        (json!({"id": "f", "name": "F", "priceCents": 0, "limit": 2.5}), "tiers[0].limit must be"),
        (
            json!({"id": "f", "name": "F", "priceCents": 0, "limit": 1, "features": "x"}),
            "tiers[0].features must be",
        ),
        (
            json!({"id": "f", "name": "F", "priceCents": 0, "limit": 1, "features": [1]}),
            "tiers[0].features must be",
        ),
        (
            json!({"id": "f", "name": "F", "priceCents": 0, "limit": 1, "popular": "yes"}),
            "tiers[0].popular must be",
        ),
        (json!("free"), "tiers[0].must be an object"),
    ];
    for (tier, expected) in cases {
        let err = config(json!([tier])).unwrap_err();
        assert!(err.0.starts_with(expected), "{tier}: got {err}");
    }
}

#[test]
fn between_one_and_twenty_tiers_are_allowed() {
    assert!(config(json!([])).is_err());
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": format!("t{i}"), "name": "T", "priceCents": 0, "limit": 1}))
        .collect();
    assert!(config(Value::Array(many[..20].to_vec())).is_ok());
    assert!(config(Value::Array(many)).is_err());
}

#[test]
fn the_default_is_one_free_tier_of_100_calls() {
    let c = TierConfig::default_for_new_platform();
    assert_eq!(
        serde_json::to_value(c.tiers()).expect("json"),
        json!([
            {"id": "free", "name": "Free", "priceCents": 0, "limit": 100, "features": [], "popular": false, "stripePriceId": null}
        ])
    );
}

fn check(v: Value) -> TierCheck {
    TierConfig::check(v.as_array().expect("array"))
}

fn messages(c: &TierCheck) -> Vec<String> {
    c.problems().iter().map(ToString::to_string).collect()
}

#[test]
fn every_broken_rule_of_a_list_is_found_not_only_the_first() {
    let c = check(json!([
        {"id": "free", "name": " ", "priceCents": 900, "limit": "lots"},
        {"id": "free", "name": "Pro", "priceCents": 900, "limit": 5, "features": "x"},
        {"id": "max", "name": "Max", "priceCents": 2900, "limit": null},
    ]));
    assert_eq!(
        messages(&c),
        [
            "tiers[0].name must be 1 to 64 characters",
            "tiers[0].limit must be an integer ≥ 0, or null for unlimited",
            "tiers[1].features must be an array of at most 20 strings",
            "tiers[1].id \"free\" is used twice",
            "tiers[0].priceCents must be 0: new end-users start on the first tier, which is free",
        ]
    );
    let kinds: Vec<_> = c.problems().iter().map(|p| (p.tier, p.field, p.kind.clone())).collect();
    assert_eq!(
        kinds,
        [
            (Some(0), Some(TierField::Name), ProblemKind::Blank),
            (Some(0), Some(TierField::Limit), ProblemKind::BadLimit),
            (Some(1), Some(TierField::Features), ProblemKind::FeaturesNotAList),
            (
                Some(1),
                Some(TierField::Id),
                ProblemKind::IdUsedTwice { id: TierId::parse("free").expect("slug"), first: 0 }
            ),
            (Some(0), Some(TierField::PriceCents), ProblemKind::FirstTierNotFree),
        ]
    );
}

#[test]
fn a_tier_with_a_problem_leaves_the_valid_ones_readable() {
    let c = check(json!([
        {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
        {"id": "pro", "name": "", "priceCents": 900, "limit": 50},
        {"id": "free", "name": "Again", "priceCents": 100, "limit": 1},
        "not a tier",
        {"id": "max", "name": "Max", "priceCents": 2900, "limit": null, "popular": true},
    ]));
    assert_eq!(c.len(), 5);
    assert_eq!(c.tier(0).map(|t| t.name.as_str()), Some("Free"));
    assert_eq!(c.tier(1), None, "its name is missing");
    assert_eq!(
        c.tier(2).map(|t| t.name.as_str()),
        Some("Again"),
        "valid on its own, though its id clashes"
    );
    assert_eq!(c.problems_at(2).count(), 1);
    assert_eq!(c.tier(3), None);
    assert!(c.tier(4).is_some_and(|t| t.popular && t.limit.is_none()));
    assert_eq!(c.problems_at(4).count(), 0);
    assert_eq!(c.tier(5), None, "no sixth tier");
    assert_eq!(c.into_config().map_err(|p| p.len()), Err(3));
}

#[test]
fn the_api_answers_with_the_first_problem_found() {
    let list = json!([
        {"id": "Pro!", "name": "", "priceCents": 100, "limit": 5},
        {"id": "team", "priceCents": 100, "limit": 5},
    ]);
    let c = check(list.clone());
    assert_eq!(c.problems().len(), 4);
    assert_eq!(config(list).unwrap_err().0, c.problems()[0].to_string());
    assert_eq!(
        c.problems()[0].to_string(),
        "tiers[0].id must be 1 to 32 characters of a-z, 0-9 and -"
    );
}

#[test]
fn each_kind_of_problem_reads_as_the_api_s_message() {
    let id = || TierId::parse("pro").expect("slug");
    let at = |field, kind| TierProblem::at(2, Some(field), kind);
    use ProblemKind as K;
    use TierField as F;
    let cases = [
        (TierProblem::of_list(K::NoTiers), "tiers must hold 1 to 20 tiers"),
        (TierProblem::of_list(K::TooManyTiers), "tiers must hold 1 to 20 tiers"),
        (TierProblem::at(2, None, K::NotAnObject), "tiers[2].must be an object"),
        (at(F::Id, K::Missing), "tiers[2].id is required"),
        (at(F::Name, K::Missing), "tiers[2].name is required"),
        (at(F::PriceCents, K::Missing), "tiers[2].priceCents is required"),
        (
            at(F::Limit, K::Missing),
            "tiers[2].limit is required (an integer ≥ 0, or null for unlimited)",
        ),
        (at(F::Id, K::NotAString), "tiers[2].id must be a string"),
        (at(F::Name, K::NotAString), "tiers[2].name must be a string"),
        (at(F::Id, K::Blank), "tiers[2].id must be 1 to 32 characters of a-z, 0-9 and -"),
        (at(F::Id, K::BadId), "tiers[2].id must be 1 to 32 characters of a-z, 0-9 and -"),
        (at(F::Name, K::Blank), "tiers[2].name must be 1 to 64 characters"),
        (at(F::Name, K::NameTooLong), "tiers[2].name must be 1 to 64 characters"),
        (
            at(F::PriceCents, K::BadPrice),
            "tiers[2].priceCents must be an integer from 0 to 99999999",
        ),
        (at(F::Limit, K::BadLimit), "tiers[2].limit must be an integer ≥ 0, or null for unlimited"),
        (
            at(F::Features, K::FeaturesNotAList),
            "tiers[2].features must be an array of at most 20 strings",
        ),
        (
            at(F::Features, K::TooManyFeatures),
            "tiers[2].features must be an array of at most 20 strings",
        ),
        (
            at(F::Features, K::BadFeature),
            "tiers[2].features must be strings of at most 200 characters",
        ),
        (at(F::Popular, K::NotABoolean), "tiers[2].popular must be true or false"),
        (at(F::Id, K::IdUsedTwice { id: id(), first: 0 }), "tiers[2].id \"pro\" is used twice"),
        (
            TierProblem::at(0, Some(F::PriceCents), K::FirstTierNotFree),
            "tiers[0].priceCents must be 0: new end-users start on the first tier, which is free",
        ),
    ];
    for (problem, message) in cases {
        assert_eq!(problem.to_string(), message, "{problem:?}");
    }
}

#[test]
fn each_field_problem_is_found_with_its_kind() {
    use ProblemKind as K;
    use TierField as F;
    let base = json!({"id": "free", "name": "F", "priceCents": 0, "limit": 1});
    let cases = [
        ("id", json!(null), F::Id, K::Missing),
        ("id", json!(7), F::Id, K::NotAString),
        ("id", json!("  "), F::Id, K::Blank),
        ("id", json!("a".repeat(33)), F::Id, K::BadId),
        ("name", json!(""), F::Name, K::Blank),
        ("name", json!("n".repeat(65)), F::Name, K::NameTooLong),
        ("priceCents", json!(null), F::PriceCents, K::Missing),
        ("priceCents", json!(100_000_000), F::PriceCents, K::BadPrice),
        ("limit", json!(-1), F::Limit, K::BadLimit),
        ("features", json!(vec!["f"; 21]), F::Features, K::TooManyFeatures),
        ("features", json!(["f".repeat(201)]), F::Features, K::BadFeature),
        ("popular", json!("yes"), F::Popular, K::NotABoolean),
    ];
    for (name, value, field, kind) in cases {
        let mut tier = base.clone();
        tier[name] = value;
        let c = check(json!([tier]));
        assert_eq!(c.problems(), [TierProblem::at(0, Some(field), kind)], "{name}");
        assert_eq!(TierField::named(name), Some(field));
    }
    let mut no_limit = base;
    no_limit.as_object_mut().expect("object").remove("limit");
    assert_eq!(check(json!([no_limit])).problems()[0].kind, K::Missing);
    assert_eq!(TierField::named("stripePriceId"), None);
}

#[test]
fn a_list_of_over_twenty_tiers_still_has_each_tier_checked() {
    let mut many: Vec<Value> = (0..21)
        .map(|i| json!({"id": format!("t{i}"), "name": "T", "priceCents": 0, "limit": 1}))
        .collect();
    many[3]["limit"] = json!("x");
    let c = TierConfig::check(&many);
    assert_eq!(
        messages(&c),
        [
            "tiers must hold 1 to 20 tiers",
            "tiers[3].limit must be an integer ≥ 0, or null for unlimited"
        ]
    );
    assert!(c.tier(20).is_some());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn one_of(values: Vec<Value>) -> impl Strategy<Value = Option<Value>> {
        // `None`: the field is left out.
        prop::option::weighted(0.9, prop::sample::select(values))
    }

    /// Tiers as a request may hold them: mostly valid, any field possibly broken.
    fn tier() -> impl Strategy<Value = Value> {
        let long = |n: usize| json!("x".repeat(n));
        let fields = (
            one_of(vec![
                json!("free"),
                json!("pro"),
                json!("max"),
                json!("Pro!"),
                json!(""),
                json!(3),
            ]),
            one_of(vec![
                json!("Free"),
                json!(" Pro "),
                json!(" "),
                long(64),
                long(65),
                json!(null),
            ]),
            one_of(vec![
                json!(0),
                json!(0),
                json!(900),
                json!(-1),
                json!(2.5),
                json!("9"),
                json!(99_999_999),
                json!(100_000_000),
            ]),
            one_of(vec![json!(5), json!(null), json!(0), json!(-5), json!(1.5), json!("x")]),
            one_of(vec![
                json!([]),
                json!(["A", "B"]),
                json!("A"),
                json!([1]),
                json!(vec!["f"; 21]),
                json!([long(201)]),
            ]),
            one_of(vec![json!(true), json!(false), json!("yes")]),
        );
        let object = fields.prop_map(|(id, name, price, limit, features, popular)| {
            let mut map = serde_json::Map::new();
            for (key, value) in [
                ("id", id),
                ("name", name),
                ("priceCents", price),
                ("limit", limit),
                ("features", features),
                ("popular", popular),
            ] {
                if let Some(value) = value {
                    map.insert(key.into(), value);
                }
            }
            Value::Object(map)
        });
        prop_oneof![20 => object, 1 => Just(json!("free"))]
    }

    fn lists() -> impl Strategy<Value = Vec<Value>> {
        prop_oneof![
            20 => prop::collection::vec(tier(), 0..5),
            1 => prop::collection::vec(tier(), 19..23),
        ]
    }

    proptest! {
        /// Any list: the API accepts it exactly when the check finds nothing, and
        /// refuses it with the first problem found; every problem names the tier and
        /// field it is about, in the API's words; a tier is valid on its own exactly
        /// when no problem of its own fields names it, and then it is the tier the API
        /// would store.
        #[test]
        fn the_check_and_the_api_agree_on_every_list(list in lists()) {
            let c = TierConfig::check(&list);
            match TierConfig::from_request(&list) {
                Ok(config) => {
                    prop_assert!(c.problems().is_empty());
                    let own: Vec<_> = (0..list.len()).filter_map(|i| c.tier(i).cloned()).collect();
                    prop_assert_eq!(config.tiers(), own.as_slice());
                }
                Err(e) => prop_assert_eq!(e.0, c.problems()[0].to_string()),
            }
            for p in c.problems() {
                let message = p.to_string();
                match (p.tier, p.field) {
                    (Some(i), Some(f)) => {
                        let at = format!("tiers[{i}].{}", f.name());
                        prop_assert!(message.starts_with(&at), "{} does not start with {}", message, at);
                    }
                    (Some(i), None) => prop_assert_eq!(message, format!("tiers[{i}].must be an object")),
                    (None, _) => prop_assert_eq!(message, "tiers must hold 1 to 20 tiers"),
                }
            }
            for (i, value) in list.iter().enumerate() {
                let of_its_own = c.problems_at(i).any(|p| {
                    !matches!(p.kind, ProblemKind::IdUsedTwice { .. } | ProblemKind::FirstTierNotFree)
                });
                prop_assert_eq!(c.tier(i).is_some(), !of_its_own, "tier {}", i);
                if let Some(tier) = c.tier(i) {
                    let mut alone = value.clone();
                    alone["priceCents"] = json!(0);
                    let single = TierConfig::from_request(&[alone]).map(|c| c.first().clone());
                    prop_assert_eq!(single, Ok(Tier { price_cents: 0, ..tier.clone() }));
                }
            }
        }
    }
}
