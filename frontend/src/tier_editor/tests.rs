use super::*;
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
    assert_eq!((e.errors.len(), &e.saving), (0, &Saving::Idle));
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
    assert_eq!(
        e.error_at(2, Field::Name).map(|e| e.field),
        Some(Some(Field::Name)),
        "it needs a name"
    );

    let full = (0..30).fold(editor(), |e, _| e.after(TierAction::Add));
    assert_eq!(full.tiers.len(), MAX_TIERS);
    assert!(!full.can_add());
}

#[test]
fn removing_takes_out_that_tier_but_never_the_last_one_or_a_missing_one() {
    let e = editor().after(TierAction::Remove(1));
    assert_eq!(e.tiers.len(), 1);
    assert_eq!(e.tiers[0].id, "free");
    assert_eq!(e.after(TierAction::Remove(0)), e, "the last tier stays");
    assert_eq!(editor().after(TierAction::Remove(7)), editor(), "no tier 7");
}

#[test]
fn moving_up_swaps_a_tier_with_the_one_before_and_the_first_stays_first() {
    let e = editor().after(TierAction::MoveUp(1));
    assert_eq!((e.tiers[0].id.as_str(), e.tiers[1].id.as_str()), ("pro", "free"));
    let errors = e.check().expect_err("the first tier must be free");
    assert_eq!((errors[0].index, errors[0].field), (Some(0), Some(Field::Price)));
    assert_eq!(e.errors, errors, "the message shows at once");
    assert_eq!(editor().after(TierAction::MoveUp(0)), editor());
}

#[test]
fn setting_a_field_changes_only_that_field_and_checks_again() {
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
        assert!(e.errors.is_empty(), "{what}: {:?}", e.errors);
    }
    let e = editor().after(TierAction::Set(1, Field::Popular, "false".into()));
    assert!(!e.tiers[1].popular);

    let typo = editor().after(TierAction::Set(1, Field::Limit, "lots".into()));
    assert_eq!(typo.error_at(1, Field::Limit).map(|e| e.index), Some(Some(1)));
    assert!(typo.preview().is_empty(), "no preview of invalid tiers");
    let twice = editor().after(TierAction::Set(1, Field::Id, "free".into()));
    assert_eq!(twice.errors[0].field, Some(Field::Id));
    assert_eq!(editor().after(TierAction::Set(9, Field::Name, "x".into())), editor());
}

#[test]
fn resetting_returns_to_the_saved_tiers_without_messages() {
    let e = editor()
        .after(TierAction::Add)
        .after(TierAction::Set(0, Field::Price, "nine".into()))
        .after(TierAction::Failed(problem(502, "Stripe did not answer.")));
    assert!(!e.errors.is_empty());
    let reset = e.after(TierAction::Reset);
    assert_eq!(reset.tiers, editor().tiers);
    assert!(!reset.changed());
    assert_eq!((reset.errors.len(), &reset.saving), (0, &Saving::Idle));
}

#[test]
fn the_request_and_the_preview_are_the_checked_tiers() {
    let e = editor();
    let body = e.request().expect("valid");
    assert_eq!(body["tiers"][1]["priceCents"], 950);
    assert_eq!(body["tiers"][1]["limit"], Value::Null);
    assert_eq!(body["tiers"][0]["features"], json!(["A", "B"]));
    let preview = e.preview();
    assert_eq!(preview.len(), 2);
    assert_eq!(preview[1].price_cents, 950);
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
}

#[test]
fn a_refused_save_puts_the_api_s_message_next_to_its_field() {
    let e = editor().after(TierAction::Sending);
    let refused =
        e.after(TierAction::Failed(problem(400, "tiers[1].name must be 1 to 64 characters")));
    assert_eq!(refused.error_at(1, Field::Name).map(|e| e.index), Some(Some(1)));
    assert!(matches!(refused.saving, Saving::Failed(_)));
    assert!(!refused.busy());

    let down = e.after(TierAction::Failed(problem(502, "Stripe did not answer.")));
    assert!(down.errors.is_empty(), "nothing to put next to a field");
    let edited = down.after(TierAction::Set(1, Field::Name, "Team".into()));
    assert_eq!(edited.saving, Saving::Idle, "an edit clears the failed save's message");
}

#[test]
fn messages_about_the_whole_list_are_told_apart_from_a_field_s() {
    let general = locate("tiers must hold 1 to 20 tiers");
    assert_eq!((general.index, general.field), (None, None));
    let e =
        TierEditor { errors: vec![general.clone(), locate("tiers[0].limit must be")], ..editor() };
    assert_eq!(e.general_errors().collect::<Vec<_>>(), vec![&general]);
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
