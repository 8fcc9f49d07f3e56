//! The billing rules, natively.

use super::*;
use crate::ids::{PlatformId, TierId, UserId};
use crate::tier::TierConfig;
use crate::webhook::StripeEvent;
use serde_json::{json, Value};

fn platform() -> PlatformId {
    PlatformId::parse("plt_0123456789ab").expect("valid")
}

fn tiers(v: Value) -> TierConfig {
    TierConfig::from_request(v.as_array().expect("array")).expect("valid")
}

fn free_and_pro(pro_cents: u64) -> TierConfig {
    tiers(json!([
        {"id": "free", "name": "Free", "priceCents": 0, "limit": 5},
        {"id": "pro", "name": "Pro", "priceCents": pro_cents, "limit": 50},
    ]))
}

fn acct(id: &str) -> BillingAccount {
    BillingAccount::Connected(StripeAccountId::parse(id).expect("valid"))
}

fn event(id: &str, kind: &str, created: i64, account: Option<&str>, object: Value) -> StripeEvent {
    StripeEvent {
        id: id.into(),
        kind: kind.into(),
        created,
        account: account.map(Into::into),
        object,
    }
}

fn completed(id: &str, created: i64, sub: &str) -> StripeEvent {
    event(
        id,
        "checkout.session.completed",
        created,
        None,
        json!({"client_reference_id": "u1", "customer": "cus_1", "subscription": sub,
               "metadata": {"platformId": "plt_0123456789ab", "userId": "u1", "tierId": "pro", "priceId": "price_pro"}}),
    )
}

fn deleted(id: &str, created: i64, sub: &str) -> StripeEvent {
    event(
        id,
        "customer.subscription.deleted",
        created,
        None,
        json!({"id": sub, "status": "canceled", "metadata": {"platformId": "plt_0123456789ab", "userId": "u1"}}),
    )
}

#[test]
fn a_paid_tier_without_a_price_gets_one_with_stable_idempotency_keys() {
    let none = PricedTiers { config: TierConfig::default_for_new_platform(), account: None };
    let (config, create) =
        plan_prices(&platform(), &none, &free_and_pro(900), &BillingAccount::Ours);
    assert_eq!(create.len(), 1);
    assert_eq!(create[0].tier_id.as_str(), "pro");
    assert_eq!(create[0].price["unit_amount"], 900);
    assert_eq!(create[0].price["recurring"]["interval"], "month");
    assert_eq!(create[0].product["metadata"]["platformId"], "plt_0123456789ab");
    assert!(config.tiers().iter().all(|t| t.stripe_price_id.is_none()));
    let (_, again) = plan_prices(&platform(), &none, &free_and_pro(900), &BillingAccount::Ours);
    assert_eq!(again, create, "a retry asks for the same objects under the same keys");
}

#[test]
fn a_tier_keeps_its_price_until_its_price_or_the_account_changes() {
    let priced = with_price(&free_and_pro(900), &TierId::parse("pro").expect("id"), "price_pro");
    let previous = PricedTiers { config: priced, account: Some(StoredAccount::Ours) };
    let (same, create) =
        plan_prices(&platform(), &previous, &free_and_pro(900), &BillingAccount::Ours);
    assert!(create.is_empty());
    assert_eq!(same.find("pro").and_then(|t| t.stripe_price_id.as_deref()), Some("price_pro"));

    let (changed, create) =
        plan_prices(&platform(), &previous, &free_and_pro(1200), &BillingAccount::Ours);
    assert_eq!(create.len(), 1);
    assert_eq!(changed.find("pro").and_then(|t| t.stripe_price_id.clone()), None);
    assert_ne!(
        create[0].price_key,
        plan_prices(&platform(), &previous, &free_and_pro(900), &acct("acct_1")).1[0].price_key
    );

    let (moved, create) = plan_prices(&platform(), &previous, &free_and_pro(900), &acct("acct_1"));
    assert_eq!(create.len(), 1, "prices on our account cannot be used on a connected one");
    assert!(create[0].price_key.contains("acct_1"));
    assert_eq!(moved.find("pro").and_then(|t| t.stripe_price_id.clone()), None);
}

#[test]
fn only_a_paid_tier_of_the_platform_can_be_checked_out() {
    let config = free_and_pro(900);
    assert!(checkout_tier(&config, "pro").is_ok());
    assert!(checkout_tier(&config, "free").unwrap_err().0.contains("free"));
    assert!(checkout_tier(&config, "gold").unwrap_err().0.contains("free, pro"));
}

#[test]
fn checkout_names_the_platform_and_end_user_on_the_session_and_subscription() {
    let config = free_and_pro(900);
    let user = UserId::parse("u1").expect("valid");
    let tier = checkout_tier(&config, "pro").expect("paid");
    let params = CheckoutRequest {
        platform: &platform(),
        user: &user,
        tier,
        price_id: "price_pro",
        success_url: "https://app.example/ok",
        cancel_url: "https://app.example/no",
        email: Some("e@x.co"),
        customer: None,
    }
    .params();
    assert_eq!(params["client_reference_id"], "u1");
    assert_eq!(params["metadata"]["platformId"], "plt_0123456789ab");
    assert_eq!(params["subscription_data"]["metadata"]["userId"], "u1");
    assert_eq!(params["line_items"][0]["price"], "price_pro");
    assert_eq!(params["customer_email"], "e@x.co");
}

#[test]
fn return_urls_must_be_absolute_http() {
    assert!(return_url("successUrl", "https://a.example/x?y=1").is_ok());
    assert!(return_url("successUrl", "https://xn--caf-dma.example/%C3%A9?a=1#top").is_ok());
    let long = format!("https://a.example/{}", "x".repeat(2048));
    for bad in [
        "/relative",
        "javascript:alert(1)",
        "ftp://x",
        "https://a b",
        "",
        "https://<x>",
        "https://a.example/{x}",
        "https://café.example",
        &long,
    ] {
        assert!(return_url("successUrl", bad).is_err(), "{bad}");
    }
}

#[test]
fn events_name_their_end_user_and_the_change() {
    let e = end_user_event(&completed("evt_1", 1, "sub_1")).expect("an end-user event");
    assert_eq!((e.platform_id.as_str(), e.user_id.as_str()), ("plt_0123456789ab", "u1"));
    assert!(
        matches!(e.change, EndUserChange::Subscribed { ref price_id, .. } if price_id.as_deref() == Some("price_pro"))
    );
    let cancel = end_user_event(&deleted("evt_2", 2, "sub_1")).expect("an end-user event");
    assert_eq!(cancel.change, EndUserChange::Cancelled { subscription_id: "sub_1".into() });
    let unpaid = event(
        "evt_3",
        "customer.subscription.updated",
        3,
        None,
        json!({"id": "sub_1", "status": "unpaid", "metadata": {"platformId": "plt_0123456789ab", "userId": "u1"}}),
    );
    assert!(matches!(
        end_user_event(&unpaid).map(|e| e.change),
        Some(EndUserChange::Cancelled { .. })
    ));
}

#[test]
fn a_developer_s_own_subscription_is_not_an_end_user_event() {
    let developer = event(
        "evt_1",
        "checkout.session.completed",
        1,
        None,
        json!({"client_reference_id": "user_abc", "subscription": "sub_1", "metadata": {}}),
    );
    assert!(!is_end_user_event(&developer));
    assert_eq!(end_user_event(&developer), None);
    assert!(is_end_user_event(&completed("evt_2", 1, "sub_1")));
}

#[test]
fn an_event_s_account_is_ours_when_absent_and_the_connected_one_when_named() {
    assert_eq!(BillingAccount::of_event(None), Some(BillingAccount::Ours));
    assert_eq!(BillingAccount::of_event(Some("acct_1")), Some(acct("acct_1")));
    assert_eq!(BillingAccount::of_event(Some("not-an-account")), None);
}

#[test]
fn the_tier_bought_is_found_by_price_then_by_the_paid_tier_named() {
    let config = with_price(&free_and_pro(900), &TierId::parse("pro").expect("id"), "price_pro");
    assert_eq!(tier_bought(&config, Some("price_pro"), None).map(|t| t.id.as_str()), Some("pro"));
    assert_eq!(
        tier_bought(&config, Some("price_old"), Some("pro")).map(|t| t.id.as_str()),
        Some("pro")
    );
    assert_eq!(tier_bought(&config, Some("price_old"), Some("free")), None);
    assert_eq!(tier_bought(&config, None, Some("gone")), None);
}

#[test]
fn billing_events_apply_once_in_order_and_only_to_the_current_subscription() {
    let mut b = EndUserBilling::default();
    let sub = |e: &StripeEvent| end_user_event(e).expect("end-user").change;
    let c1 = completed("evt_1", 10, "sub_1");
    assert_eq!(
        b.apply(&c1, &sub(&c1), Some("pro"), &BillingAccount::Ours),
        Some(PlanUpdate::Set { tier: "pro".into() })
    );
    assert_eq!(b.customer_id.as_deref(), Some("cus_1"));
    assert_eq!(b.customer_account, Some(StoredAccount::Ours));
    assert_eq!(
        b.apply(&c1, &sub(&c1), Some("pro"), &BillingAccount::Ours),
        Some(PlanUpdate::Keep),
        "a duplicate"
    );

    let c2 = completed("evt_2", 20, "sub_2");
    b.apply(&c2, &sub(&c2), Some("pro"), &BillingAccount::Ours);
    let old_end = deleted("evt_3", 30, "sub_1");
    assert_eq!(
        b.apply(&old_end, &sub(&old_end), None, &BillingAccount::Ours),
        Some(PlanUpdate::Keep),
        "not the current subscription"
    );
    let end = deleted("evt_4", 40, "sub_2");
    assert_eq!(b.apply(&end, &sub(&end), None, &BillingAccount::Ours), Some(PlanUpdate::Reset));
    assert_eq!(b.subscription_id, None);
}

#[test]
fn a_purchase_of_a_tier_not_there_yet_is_not_recorded_so_a_retry_applies_it() {
    let mut b = EndUserBilling::default();
    let change = |e: &StripeEvent| end_user_event(e).expect("end-user").change;
    let bought = completed("evt_1", 10, "sub_1");
    assert_eq!(b.apply(&bought, &change(&bought), None, &BillingAccount::Ours), None);
    assert_eq!(b.subscription_id, None, "nothing recorded");
    assert_eq!(
        b.apply(&bought, &change(&bought), Some("pro"), &BillingAccount::Ours),
        Some(PlanUpdate::Set { tier: "pro".into() })
    );
}

#[test]
fn a_cancellation_delivered_before_its_checkout_leaves_the_end_user_on_the_first_tier() {
    let mut b = EndUserBilling::default();
    let end = deleted("evt_2", 20, "sub_1");
    let start = completed("evt_1", 10, "sub_1");
    let change = |e: &StripeEvent| end_user_event(e).expect("end-user").change;
    assert_eq!(b.apply(&end, &change(&end), None, &BillingAccount::Ours), Some(PlanUpdate::Keep));
    assert_eq!(
        b.apply(&start, &change(&start), Some("pro"), &BillingAccount::Ours),
        Some(PlanUpdate::Keep)
    );
    assert_eq!(b.subscription_id, None);
}

#[test]
fn a_subscription_bought_in_preview_still_ends_after_the_developer_connects_stripe() {
    let mut b = EndUserBilling::default();
    let change = |e: &StripeEvent| end_user_event(e).expect("end-user").change;
    let bought = completed("evt_1", 10, "sub_1");
    b.apply(&bought, &change(&bought), Some("pro"), &BillingAccount::Ours);
    let connected = acct("acct_1");

    let late_purchase = completed("evt_2", 20, "sub_2");
    assert_eq!(
        b.apply(&late_purchase, &change(&late_purchase), Some("pro"), &connected),
        Some(PlanUpdate::Keep),
        "new purchases count only on the platform's current account"
    );
    let mut elsewhere = deleted("evt_3", 30, "sub_1");
    elsewhere.account = Some("acct_other".into());
    assert_eq!(b.apply(&elsewhere, &change(&elsewhere), None, &connected), Some(PlanUpdate::Keep));
    let end = deleted("evt_4", 40, "sub_1");
    assert_eq!(
        b.apply(&end, &change(&end), None, &connected),
        Some(PlanUpdate::Reset),
        "the end comes from the account the subscription lives on"
    );
}

#[test]
fn a_deauthorization_names_the_account_that_revoked_access() {
    let revoked = event(
        "evt_1",
        "account.application.deauthorized",
        1,
        Some("acct_1"),
        json!({"id": "ca_1"}),
    );
    assert_eq!(
        deauthorized_account(&revoked),
        Some(StripeAccountId::parse("acct_1").expect("valid"))
    );
    let unnamed = event("evt_2", "account.application.deauthorized", 1, None, json!({}));
    assert_eq!(deauthorized_account(&unnamed), None);
    assert_eq!(deauthorized_account(&completed("evt_3", 1, "sub_1")), None);
}

#[test]
fn preview_serves_a_hundred_end_users_and_always_the_ones_it_serves() {
    let limit = Some(PREVIEW_END_USERS);
    assert!(preview_admits(false, 99, limit));
    assert!(!preview_admits(false, 100, limit));
    assert!(preview_admits(true, 100, limit));
    assert!(preview_admits(false, 1_000_000, None));
}

#[test]
fn account_ids_and_tokens_keep_their_shape_and_tokens_never_print() {
    assert!(StripeAccountId::parse("acct_1Abc").is_ok());
    for bad in ["acct_", "cus_1", "acct_a-b", ""] {
        assert!(StripeAccountId::parse(bad).is_err(), "{bad}");
    }
    let token = StripeToken::new("sk_test_secret");
    assert!(!format!("{token:?}").contains("secret"));
    let record = OAuthToken {
        access_token: token,
        refresh_token: None,
        stripe_user_id: StripeAccountId::parse("acct_1").expect("valid"),
        livemode: false,
        scope: Some("read_write".into()),
    }
    .into_record("2026-11-25T00:00:00Z".into());
    assert!(!format!("{record:?}").contains("sk_test_secret"));
    assert!(record.ready);
}

#[test]
fn tiers_are_priced_on_an_account_when_it_created_their_prices_or_none_is_paid() {
    let only_free = tiers(json!([{"id": "free", "name": "Free", "priceCents": 0, "limit": 5}]));
    let free = PricedTiers { config: only_free, account: None };
    assert!(free.priced_on(&BillingAccount::Ours));
    assert!(free.priced_on(&acct("acct_1Dev")));

    let ours = PricedTiers { config: free_and_pro(900), account: Some(StoredAccount::Ours) };
    assert!(ours.priced_on(&BillingAccount::Ours));
    assert!(!ours.priced_on(&acct("acct_1Dev")));

    let unpriced = PricedTiers { config: free_and_pro(900), account: None };
    assert!(!unpriced.priced_on(&BillingAccount::Ours));
}

#[test]
fn the_account_prices_were_made_on_is_remembered_by_hash_never_by_id() {
    let connected = acct("acct_1SecretShape");
    let stored = serde_json::to_string(&StoredAccount::from(&connected)).expect("JSON");
    assert!(!stored.contains("acct_1SecretShape"), "{stored}");
    assert!(stored.contains(&account_hash(&StripeAccountId::parse("acct_1SecretShape").unwrap())));
    let priced =
        PricedTiers { config: free_and_pro(900), account: Some(StoredAccount::from(&connected)) };
    assert!(priced.priced_on(&connected));
    assert!(!priced.priced_on(&acct("acct_1Other")));
    assert!(!priced.priced_on(&BillingAccount::Ours));
}
