use super::*;
use dream_core::ids::TierId;
use yew::functional::Reducible;

fn tiers(list: Value) -> Vec<Tier> {
    serde_json::from_value(list).expect("tiers as the API answers them")
}

fn free_and_pro() -> Vec<Tier> {
    tiers(json!([
        {"id": "free", "name": "Free", "priceCents": 0, "limit": 5, "features": ["A", "B"], "popular": false, "stripePriceId": null},
        {"id": "pro", "name": "Pro", "priceCents": 950, "limit": null, "features": [], "popular": true, "stripePriceId": "price_1"}
    ]))
}

fn editor() -> TierEditor {
    TierEditor::new(&free_and_pro())
}

fn problem(status: u16, message: &str) -> Problem {
    Problem { status, code: "invalid_request".into(), message: message.into() }
}

fn shown(e: &TierEditor) -> Vec<String> {
    e.messages().into_iter().map(|m| m.message).collect()
}

fn message_at(e: &TierEditor, index: usize, field: Field) -> Option<String> {
    e.error_at(index, field).map(|m| m.message)
}

#[test]
fn two_edits_dispatched_before_a_render_both_apply() {
    // `use_reducer` hands each action the state the one before produced, whether or not
    // the page rendered in between.
    let state = Rc::new(editor());
    let state = state.reduce(TierAction::Set(1, Field::Name, "Team".into()));
    let state = state.reduce(TierAction::Set(1, Field::Limit, "50".into()));
    assert_eq!(state.tiers[1].name, "Team");
    assert_eq!(state.tiers[1].limit, "50");

    let state = Rc::new(editor()).reduce(TierAction::Add).reduce(TierAction::Add);
    assert_eq!(state.tiers.len(), 4, "both added tiers are there");
    assert_eq!((state.tiers[2].id.as_str(), state.tiers[3].id.as_str()), ("tier-3", "tier-4"));
}

#[test]
fn saved_tiers_show_as_text_to_edit() {
    let e = editor();
    assert_eq!(e.tiers[0].features, "A\nB");
    assert_eq!((e.tiers[1].price.as_str(), e.tiers[1].limit.as_str()), ("9.50", ""));
    assert!(e.tiers[1].popular);
    assert!(!e.changed());
    assert_eq!((e.problems().len(), &e.saving), (0, &Saving::Idle));
    assert_eq!(e.status().text, "No unsaved changes");
}

#[test]
fn adding_appends_a_free_tier_of_100_calls_up_to_20_tiers() {
    let e = editor().after(TierAction::Add);
    assert_eq!(
        e.tiers[2],
        TierDraft {
            id: "tier-3".into(),
            price: "0".into(),
            limit: "100".into(),
            ..TierDraft::default()
        }
    );
    assert!(e.changed());
    let needs = e.problems();
    assert_eq!(needs.len(), 1, "{needs:?}");
    assert_eq!((needs[0].index, needs[0].field), (Some(2), Some(Field::Name)), "it needs a name");

    let full = (0..30).fold(editor(), |e, _| e.after(TierAction::Add));
    assert_eq!(full.tiers.len(), MAX_TIERS);
    assert!(!full.can_add());
}

#[test]
fn a_fresh_tier_shows_no_message_until_its_field_is_left_or_save_is_pressed() {
    let typing = editor().after(TierAction::Add).after(TierAction::Set(2, Field::Id, "te".into()));
    assert!(typing.messages().is_empty(), "{:?}", typing.messages());
    assert_eq!(typing.status().text, "Unsaved changes");

    let left =
        typing.after(TierAction::Leave(2, Field::Id)).after(TierAction::Leave(2, Field::Name));
    assert_eq!(shown(&left), ["Tier 3: name is required"]);
    assert_eq!(left.error_at(2, Field::Id), None, "the id te is fine");

    let pressed = typing.after(TierAction::Attempt);
    assert!(pressed.attempted);
    assert_eq!(shown(&pressed), ["Tier 3: name is required"]);
    assert_eq!(pressed.status().text, "Not saved: 1 problem to fix");
    assert_eq!(pressed.status().tone, Tone::Problem);
    assert_eq!(pressed.request(), None, "nothing is sent");
}

#[test]
fn a_message_showing_follows_its_field_as_it_is_corrected() {
    let e = editor()
        .after(TierAction::Set(1, Field::Price, "9.999".into()))
        .after(TierAction::Leave(1, Field::Price));
    let bad_price = "Tier 2: enter a price in dollars, such as 9 or 9.50";
    assert_eq!(message_at(&e, 1, Field::Price).as_deref(), Some(bad_price));
    let fixed = e.after(TierAction::Set(1, Field::Price, "9.99".into()));
    assert_eq!(message_at(&fixed, 1, Field::Price), None, "gone as soon as it is right");
    let again = fixed.after(TierAction::Set(1, Field::Price, "9.9.9".into()));
    assert_eq!(message_at(&again, 1, Field::Price).as_deref(), Some(bad_price));
}

#[test]
fn removing_takes_out_that_tier_but_never_the_last_one_or_a_missing_one() {
    let e = editor().after(TierAction::Remove(1));
    assert_eq!(e.tiers.len(), 1);
    assert_eq!(e.tiers[0].id, "free");
    assert_eq!(e.after(TierAction::Remove(0)), e, "the last tier stays");
    assert_eq!(editor().after(TierAction::Remove(7)), editor(), "no tier 7");

    // What was left follows its tier when one before it goes.
    let e = editor()
        .after(TierAction::Add)
        .after(TierAction::Leave(2, Field::Name))
        .after(TierAction::Remove(1));
    assert_eq!(shown(&e), ["Tier 2: name is required"]);
}

#[test]
fn moving_up_swaps_a_tier_with_the_one_before_and_the_first_stays_first() {
    let e = editor().after(TierAction::MoveUp(1));
    assert_eq!((e.tiers[0].id.as_str(), e.tiers[1].id.as_str()), ("pro", "free"));
    let errors = e.problems();
    assert_eq!((errors[0].index, errors[0].field), (Some(0), Some(Field::Price)));
    assert_eq!(
        message_at(&e, 0, Field::Price).as_deref(),
        Some("Tier 1 is where new end-users start, so it must be free"),
        "the message shows at once"
    );
    assert_eq!(editor().after(TierAction::MoveUp(0)), editor());
}

#[test]
fn setting_a_field_changes_only_that_field() {
    let cases = [
        (Field::Id, "team", "id"),
        (Field::Name, "Team", "name"),
        (Field::Price, "12", "price"),
        (Field::Limit, "40", "limit"),
        (Field::Features, "X\nY", "features"),
    ];
    for (field, value, what) in cases {
        let e = editor().after(TierAction::Set(1, field, value.into()));
        let t = &e.tiers[1];
        let got = match field {
            Field::Id => &t.id,
            Field::Name => &t.name,
            Field::Price => &t.price,
            Field::Limit => &t.limit,
            _ => &t.features,
        };
        assert_eq!(got, value, "{what}");
        assert_eq!(e.tiers[0], editor().tiers[0], "tier 0 is untouched by {what}");
        assert!(e.problems().is_empty(), "{what}: {:?}", e.problems());
    }
    let e = editor().after(TierAction::Set(1, Field::Popular, "false".into()));
    assert!(!e.tiers[1].popular);
    assert_eq!(editor().after(TierAction::Set(9, Field::Name, "x".into())), editor());
    assert_eq!(editor().after(TierAction::Leave(9, Field::Name)), editor());
}

#[test]
fn an_id_used_twice_shows_once_either_tier_s_id_was_left() {
    let e = editor().after(TierAction::Set(0, Field::Id, "pro".into()));
    assert_eq!(e.messages(), vec![], "not left yet");
    let left = e.after(TierAction::Leave(0, Field::Id));
    let message = left.error_at(1, Field::Id).expect("next to the later tier's id");
    assert_eq!(message.message, "The id pro is used by Tier 1");
}

#[test]
fn resetting_returns_to_the_saved_tiers_without_messages() {
    let e = editor()
        .after(TierAction::Add)
        .after(TierAction::Set(0, Field::Price, "nine".into()))
        .after(TierAction::Attempt)
        .after(TierAction::Failed(problem(502, "Stripe did not answer.")));
    assert!(!e.messages().is_empty());
    let reset = e.after(TierAction::Reset);
    assert_eq!(reset.tiers, editor().tiers);
    assert!(!reset.changed());
    assert_eq!((reset.messages().len(), &reset.saving, reset.attempted), (0, &Saving::Idle, false));
    let fresh = reset.after(TierAction::Add);
    assert_eq!(fresh.messages(), vec![], "a tier added after discarding starts fresh");
}

#[test]
fn the_request_is_the_checked_tiers() {
    let body = editor().request().expect("valid");
    assert_eq!(body["tiers"][1]["priceCents"], 950);
    assert_eq!(body["tiers"][1]["limit"], Value::Null);
    assert_eq!(body["tiers"][0]["features"], json!(["A", "B"]));
    let spaced = editor().after(TierAction::Set(1, Field::Id, " team ".into()));
    assert_eq!(spaced.request().expect("valid")["tiers"][1]["id"], "team");
}

#[test]
fn the_preview_keeps_every_valid_tier_and_says_what_is_wrong_with_the_others() {
    let e = editor()
        .after(TierAction::Add)
        .after(TierAction::Set(2, Field::Name, "Max".into()))
        .after(TierAction::Set(1, Field::Name, " ".into()));
    let cards = e.preview();
    assert_eq!(cards.len(), 3, "one card per tier, in order");
    assert!(matches!(&cards[0], PreviewCard::Tier(t) if t.name == "Free"));
    assert_eq!(
        cards[1],
        PreviewCard::Problem { index: 1, message: "Tier 2 has a problem: name is required".into() }
    );
    assert!(matches!(&cards[2], PreviewCard::Tier(t) if t.name == "Max" && t.limit == Some(100)));
    let twice = editor().after(TierAction::Set(1, Field::Id, "free".into())).preview();
    assert_eq!(
        twice[1],
        PreviewCard::Problem {
            index: 1,
            message: "Tier 2 has a problem: the id free is used by Tier 1".into()
        }
    );
}

#[test]
fn text_that_is_not_a_price_or_a_number_of_calls_is_named_by_core() {
    let cases = [
        (Field::Price, "nine", "Tier 2: enter a price in dollars, such as 9 or 9.50"),
        (Field::Price, "1000000", "Tier 2: enter a price in dollars, such as 9 or 9.50"),
        (Field::Price, "", "Tier 2: enter a price in dollars, such as 9 or 9.50"),
        (
            Field::Limit,
            "-5",
            "Tier 2: enter a whole number of calls, or leave it empty for unlimited",
        ),
        (
            Field::Limit,
            "2.5",
            "Tier 2: enter a whole number of calls, or leave it empty for unlimited",
        ),
        (
            Field::Id,
            "Pro!",
            "Tier 2: the id must be lowercase letters, digits and dashes (up to 32)",
        ),
        (Field::Id, " ", "Tier 2: id is required"),
        (Field::Name, &"n".repeat(65), "Tier 2: the name can be at most 64 characters"),
        (Field::Features, &"f\n".repeat(21), "Tier 2: at most 20 features, one per line"),
        (Field::Features, &"f".repeat(201), "Tier 2: each feature can be at most 200 characters"),
    ];
    for (field, typed, expected) in cases {
        let e = editor()
            .after(TierAction::Set(1, field, typed.to_string()))
            .after(TierAction::Leave(1, field));
        assert_eq!(message_at(&e, 1, field).as_deref(), Some(expected), "{field:?} {typed:?}");
    }
}

#[test]
fn every_problem_core_names_has_a_sentence_in_the_editor_s_words() {
    use ProblemKind as K;
    use TierField as F;
    let at = |tier, field, kind| TierProblem::at(tier, Some(field), kind);
    let free = TierId::parse("free").expect("slug");
    let cases = [
        (at(1, F::Name, K::Blank), "Tier 2: name is required"),
        (at(1, F::Name, K::Missing), "Tier 2: name is required"),
        (
            at(1, F::Id, K::BadId),
            "Tier 2: the id must be lowercase letters, digits and dashes (up to 32)",
        ),
        (at(1, F::Id, K::IdUsedTwice { id: free, first: 0 }), "The id free is used by Tier 1"),
        (
            at(0, F::PriceCents, K::FirstTierNotFree),
            "Tier 1 is where new end-users start, so it must be free",
        ),
        (at(2, F::PriceCents, K::BadPrice), "Tier 3: enter a price in dollars, such as 9 or 9.50"),
        (
            at(2, F::Limit, K::Missing),
            "Tier 3: enter a whole number of calls, or leave it empty for unlimited",
        ),
        (at(0, F::Name, K::NotAString), "Tier 1: name must be text"),
        (at(0, F::Features, K::FeaturesNotAList), "Tier 1: the features must be a list"),
        (at(0, F::Popular, K::NotABoolean), "Tier 1: most popular must be on or off"),
        (TierProblem::at(3, None, K::NotAnObject), "Tier 4: it could not be read"),
        (TierProblem::of_list(K::NoTiers), "Keep at least one tier"),
        (TierProblem::of_list(K::TooManyTiers), "Keep at most 20 tiers"),
    ];
    for (problem, expected) in cases {
        assert_eq!(words::sentence(&problem), expected, "{problem:?}");
    }
}

#[test]
fn the_save_status_says_unsaved_saving_saved_or_why_not() {
    let edited = editor().after(TierAction::Set(1, Field::Name, "Team".into()));
    assert_eq!(edited.status().text, "Unsaved changes");
    let sending = edited.after(TierAction::Sending);
    assert!(sending.busy());
    assert_eq!(sending.status().text, "Saving…");
    let mut answer = free_and_pro();
    answer[1].name = "Team".into();
    let saved = sending.after(TierAction::Saved(answer));
    assert_eq!((saved.status().text.as_str(), saved.status().tone), ("Saved", Tone::Ok));
    assert!(!saved.attempted, "a later tier starts fresh again");

    let down = sending.after(TierAction::Failed(problem(502, "Stripe did not answer.")));
    assert_eq!(
        down.status().text,
        "Not saved: Stripe did not answer. Something failed on the way; retry."
    );
    let edited_again = down.after(TierAction::Set(1, Field::Name, "Teams".into()));
    assert_eq!(edited_again.status().text, "Unsaved changes", "an edit clears the failure");
}

#[test]
fn a_save_takes_the_api_s_tiers_as_the_saved_ones() {
    let e =
        editor().after(TierAction::Set(1, Field::Name, "Team".into())).after(TierAction::Sending);
    assert!(e.busy());
    let mut answer = free_and_pro();
    answer[1].name = "Team".into();
    let done = e.after(TierAction::Saved(answer));
    assert_eq!(done.saving, Saving::Saved);
    assert_eq!(done.tiers[1].name, "Team");
    assert!(!done.changed());
}

#[test]
fn edits_made_while_a_save_is_on_its_way_are_kept() {
    let e = Rc::new(editor())
        .reduce(TierAction::Set(1, Field::Name, "Team".into()))
        .reduce(TierAction::Sending)
        .reduce(TierAction::Set(1, Field::Limit, "70".into()));
    assert!(e.busy(), "the save is still on its way");
    let mut answer = free_and_pro();
    answer[1].name = "Team".into();
    let done = e.reduce(TierAction::Saved(answer));
    assert_eq!((done.tiers[1].name.as_str(), done.tiers[1].limit.as_str()), ("Team", "70"));
    assert_eq!(done.saved[1].limit, "", "the saved tier is the API's");
    assert!(done.changed(), "the later edit is still to be saved");
    assert_eq!(done.status().text, "Unsaved changes");
}

#[test]
fn a_refused_save_puts_the_api_s_message_next_to_its_field() {
    let e = editor().after(TierAction::Sending);
    let refused =
        e.after(TierAction::Failed(problem(400, "tiers[1].name must be 1 to 64 characters")));
    let message = refused.error_at(1, Field::Name).expect("next to the name");
    assert_eq!(message.message, "Tier 2: name must be 1 to 64 characters");
    assert_eq!(refused.status().text, "Not saved: Tier 2: name must be 1 to 64 characters");
    assert!(matches!(refused.saving, Saving::Failed(_)));
    assert!(!refused.busy());

    let down = e.after(TierAction::Failed(problem(502, "Stripe did not answer.")));
    assert!(down.messages().is_empty(), "nothing to put next to a field");
    let edited = refused.after(TierAction::Set(1, Field::Name, "Team".into()));
    assert_eq!(edited.saving, Saving::Idle, "an edit clears the failed save's message");
    assert!(edited.messages().is_empty());
}

#[test]
fn a_refusal_core_also_finds_is_said_in_the_editor_s_words() {
    let sent = editor().after(TierAction::Set(1, Field::Id, "free".into())).tiers;
    let located = refusal(&sent, "tiers[1].id \"free\" is used twice");
    assert_eq!((located.index, located.field), (Some(1), Some(Field::Id)));
    assert_eq!(located.message, "The id free is used by Tier 1");
}

#[test]
fn messages_about_the_whole_list_are_told_apart_from_a_field_s() {
    let general = refusal(&[], "tiers must hold 1 to 20 tiers");
    assert_eq!((general.index, general.field), (None, None));
    assert_eq!(general.message, "Keep at least one tier", "core finds it in no tiers");
    let as_sent = refusal(&editor().tiers, "tiers must hold 1 to 20 tiers");
    assert_eq!((as_sent.index, as_sent.field), (None, None));
    assert_eq!(as_sent.message, "tiers must hold 1 to 20 tiers", "the API's, as core finds none");
    let tier = refusal(&[], "tiers[3].must be an object");
    assert_eq!((tier.index, tier.field), (Some(3), None));
    let unknown = refusal(&[], "tiers[0].colour must be blue");
    assert_eq!((unknown.index, unknown.field), (Some(0), None));
    assert_eq!(unknown.message, "Tier 1: colour must be blue");
}

#[test]
fn prices_read_as_dollars_with_at_most_two_decimals() {
    assert_eq!(parse_dollars("9.5"), Some(950));
    assert_eq!(parse_dollars("$29"), Some(2900));
    assert_eq!(parse_dollars(" 0 "), Some(0));
    for bad in ["", "9.999", "-1", "nine", "9.a", "99999999999999999999"] {
        assert_eq!(parse_dollars(bad), None, "{bad}");
    }
}

#[test]
fn leaving_with_no_unsaved_tiers_asks_nothing() {
    // The editor keeps the flag; none is on screen here, so leaving needs no question
    // (asking would need a browser).
    assert!(!has_unsaved_tiers());
    assert!(confirm_leaving_tiers());
}
