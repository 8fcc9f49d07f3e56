//! Stripe Connect in the Stripe stand-in over HTTP: connected accounts,
//! `Stripe-Account` scoping, onboarding links, and Connect OAuth.

mod common;

use axum::http::StatusCode;
use common::*;
use dream_standins::stripe::{Delivery, DEV_CLIENT_ID, DEV_SECRET_KEY};
use serde_json::{json, Value};

#[tokio::test]
async fn objects_created_under_a_connected_account_are_invisible_without_it_and_the_reverse() {
    let s = Setup::start(Delivery::default(), 0).await;
    let acct = s.connected_account().await;
    let theirs = s.price_as(Some(&acct), 900).await;
    let ours = s.price(900).await;

    let (status, price) = s.get_as(Some(&acct), &format!("/v1/prices/{theirs}")).await;
    assert_eq!(status, StatusCode::OK, "{price}");
    let product = price["product"].as_str().expect("product").to_string();
    for path in [format!("/v1/prices/{theirs}"), format!("/v1/products/{product}")] {
        let (status, body) = s.get_as(None, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"]["code"], "resource_missing");
    }
    let (status, body) = s.get_as(Some(&acct), &format!("/v1/prices/{ours}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "resource_missing");

    // Using another account's price is the same as naming one that does not exist.
    let params = json!({"mode": "subscription", "success_url": "http://x", "line_items": [{"price": theirs}]});
    let (status, body, _) = s.post("/v1/checkout/sessions", params, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let session = s.checkout_as(Some(&acct), &theirs).await;
    let path = format!("/v1/checkout/sessions/{}", session["id"].as_str().expect("id"));
    assert_eq!(s.get_as(Some(&acct), &path).await.0, StatusCode::OK);
    assert_eq!(s.get_as(None, &path).await.0, StatusCode::NOT_FOUND);
    let other = s.connected_account().await;
    assert_eq!(s.get_as(Some(&other), &path).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unknown_stripe_account_gets_403_account_invalid() {
    let s = Setup::start(Delivery::default(), 0).await;
    for account in ["acct_nope", ""] {
        let (status, body, _) =
            s.post_as(Some(account), "/v1/products", json!({"name": "Pro"}), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["code"], "account_invalid");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(
            message.contains(&format!("does not have access to account '{account}'")),
            "{message}"
        );
    }
    let (status, body) = s.get_as(Some("acct_nope"), "/v1/prices/price_x").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("account_invalid"))
    );
}

#[tokio::test]
async fn the_same_idempotency_key_under_two_accounts_is_two_requests() {
    let s = Setup::start(Delivery::default(), 0).await;
    let acct = s.connected_account().await;
    let (_, ours, _) = s.post("/v1/products", json!({"name": "Pro"}), Some("key-1")).await;
    let (_, theirs, headers) =
        s.post_as(Some(&acct), "/v1/products", json!({"name": "Pro"}), Some("key-1")).await;
    assert!(headers.get("idempotent-replayed").is_none());
    assert_ne!(ours["id"], theirs["id"]);
    let (_, again, headers) =
        s.post_as(Some(&acct), "/v1/products", json!({"name": "Pro"}), Some("key-1")).await;
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(again, theirs);
}

#[tokio::test]
async fn a_checkout_paid_on_a_connected_account_delivers_events_naming_the_account() {
    let s = Setup::start(Delivery::default(), 0).await;
    let acct = s.connected_account().await;
    let price = s.price_as(Some(&acct), 900).await;
    let session = s.checkout_as(Some(&acct), &price).await;
    s.pay(&session).await;
    let events = s.wait_for_events(2).await;
    assert_eq!(kinds(&events), ["customer.subscription.created", "checkout.session.completed"]);
    assert!(events.iter().all(|e| e["account"] == acct.as_str()), "{events:?}");

    // What the Pay page made belongs to the account too.
    let subscription = events[0]["data"]["object"]["id"].as_str().expect("id").to_string();
    let customer = events[0]["data"]["object"]["customer"].clone();
    let path = format!("/v1/subscriptions/{subscription}");
    assert_eq!(s.get_as(Some(&acct), &path).await.0, StatusCode::OK);
    assert_eq!(s.get_as(None, &path).await.0, StatusCode::NOT_FOUND);
    let (status, _, _) = s.post(&path, json!({"cancel_at_period_end": "true"}), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let resp = s
        .http
        .delete(format!("{}{path}", s.base))
        .bearer_auth(DEV_SECRET_KEY)
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let portal = json!({"customer": customer, "return_url": "http://127.0.0.1:8790/settings"});
    let (status, _, _) = s.post("/v1/billing_portal/sessions", portal.clone(), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the platform cannot open the account's portal");

    let (status, portal, _) =
        s.post_as(Some(&acct), "/v1/billing_portal/sessions", portal, None).await;
    assert_eq!(status, StatusCode::OK, "{portal}");
    let back = s.cancel_in_portal(&portal, &subscription).await;
    assert_eq!(back, "http://127.0.0.1:8790/settings");
    let events = s.wait_for_events(3).await;
    assert_eq!(events[2]["type"], "customer.subscription.deleted");
    assert_eq!(events[2]["account"], acct.as_str());
    let (status, cancelled) = s.get_as(Some(&acct), &path).await;
    assert_eq!((status, &cancelled["status"]), (StatusCode::OK, &json!("canceled")));
}

#[tokio::test]
async fn accounts_are_created_unable_to_charge_and_read_back() {
    let s = Setup::start(Delivery::default(), 0).await;
    let acct = s.connected_account().await;
    assert!(acct.starts_with("acct_"));
    let (status, account) = s.get_as(None, &format!("/v1/accounts/{acct}")).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(account["object"], "account");
    assert_eq!(account["type"], "standard");
    assert_eq!(account["country"], "US");
    assert_eq!(account["email"], "dev@example.com");
    assert_eq!(account["metadata"]["platformId"], "plt_1");
    for flag in ["charges_enabled", "details_submitted", "payouts_enabled"] {
        assert_eq!(account[flag], false, "{flag}");
    }
    let (status, _, _) = s.post("/v1/accounts", json!({"type": "other"}), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = s.get_as(None, "/v1/accounts/acct_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn account_link_onboarding_enables_charges_and_redirects_to_return_url() {
    let s = Setup::start(Delivery::default(), 0).await;
    let acct = s.connected_account().await;
    let (status, link, _) = s
        .post(
            "/v1/account_links",
            json!({"account": acct, "refresh_url": "http://127.0.0.1:8790/refresh", "return_url": "http://127.0.0.1:8790/return", "type": "account_onboarding"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{link}");
    assert_eq!(link["object"], "account_link");
    assert_eq!(
        link["expires_at"].as_i64().expect("expires_at")
            - link["created"].as_i64().expect("created"),
        300
    );
    let url = link["url"].as_str().expect("url");
    assert!(url.starts_with(&format!("{}/connect/onboard/", s.base)), "{url}");

    let page = s.http.get(url).send().await.expect("page").text().await.expect("html");
    assert!(
        page.contains("Complete onboarding") && page.contains(r#"<form method="post""#),
        "{page}"
    );
    let resp = s.http.post(url).send().await.expect("onboard");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "http://127.0.0.1:8790/return");

    let (_, account) = s.get_as(None, &format!("/v1/accounts/{acct}")).await;
    for flag in ["charges_enabled", "details_submitted", "payouts_enabled"] {
        assert_eq!(account[flag], true, "{flag}");
    }
    let events = s.wait_for_events(1).await;
    assert_eq!(kinds(&events), ["account.updated"]);
    assert_eq!(events[0]["account"], acct.as_str());
    assert_eq!(events[0]["data"]["object"]["charges_enabled"], true);

    // A link is used once: opening it again leads to refresh_url.
    let again = s.http.get(url).send().await.expect("page");
    assert_eq!(again.headers()["location"], "http://127.0.0.1:8790/refresh");
    let unknown =
        s.http.get(format!("{}/connect/onboard/nope", s.base)).send().await.expect("page");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_account_link_needs_account_onboarding_and_an_account_of_the_platform() {
    let s = Setup::start(Delivery::default(), 0).await;
    let acct = s.connected_account().await;
    let link = |account: &str, kind: &str| json!({"account": account, "refresh_url": "http://r", "return_url": "http://t", "type": kind});
    let (status, body, _) = s.post("/v1/account_links", link(&acct, "account_update"), None).await;
    assert_eq!((status, &body["error"]["param"]), (StatusCode::BAD_REQUEST, &json!("type")));
    let (status, body, _) =
        s.post("/v1/account_links", link("acct_nope", "account_onboarding"), None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("resource_missing"))
    );
    let (status, body, _) = s.post("/v1/account_links", json!({"account": acct}), None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::BAD_REQUEST, &json!("parameter_missing"))
    );
}

#[tokio::test]
async fn oauth_approval_gives_a_code_the_token_endpoint_exchanges_once() {
    let s = Setup::start(Delivery::default(), 0).await;
    let callback = s.authorize("st_a/b+c=", "approve").await;
    assert_eq!(format!("{}{}", callback.origin().ascii_serialization(), callback.path()), REDIRECT);
    assert_eq!(
        query(&callback, "state").as_deref(),
        Some("st_a/b+c="),
        "the state comes back intact"
    );
    assert_eq!(query(&callback, "scope").as_deref(), Some("read_write"));
    let code = query(&callback, "code").expect("a code");
    assert!(code.starts_with("ac_"), "{code}");

    let exchange =
        json!({"grant_type": "authorization_code", "code": code, "client_secret": DEV_SECRET_KEY});
    let resp = s.connect_post("/oauth/token", exchange.clone(), None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let token: Value = resp.json().await.expect("JSON");
    let access = token["access_token"].as_str().expect("access_token");
    let random = access.strip_prefix("sk_test_").expect("a secret key");
    assert!(random.len() >= 24 && random.chars().all(|c| c.is_ascii_alphanumeric()), "{access}");
    assert!(token["refresh_token"].as_str().expect("refresh").starts_with("rt_"));
    assert!(token["stripe_publishable_key"].as_str().expect("pk").starts_with("pk_test_"));
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["scope"], "read_write");
    assert_eq!(token["livemode"], false);
    let acct = token["stripe_user_id"].as_str().expect("stripe_user_id");

    let (status, account) = s.get_as(None, &format!("/v1/accounts/{acct}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (account["type"].clone(), account["charges_enabled"].clone()),
        (json!("standard"), json!(true))
    );
    assert_eq!(account["details_submitted"], true);
    let events = s.wait_for_events(1).await;
    assert_eq!(kinds(&events), ["account.application.authorized"]);
    assert_eq!(events[0]["account"], acct);

    let resp = s.connect_post("/oauth/token", exchange, None).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].as_str().expect("description").contains(&code), "{body}");
    assert!(body.get("error").is_some_and(Value::is_string), "OAuth's shape, not the API's");

    // The access token is a key acting as the account.
    let (_, product, _) =
        s.post_as(Some(acct), "/v1/products", json!({"name": "Theirs"}), None).await;
    let resp = s
        .http
        .get(format!("{}/v1/products/{}", s.base, product["id"].as_str().expect("id")))
        .bearer_auth(access)
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_token_endpoint_refuses_unknown_codes_bad_secrets_and_other_grants_in_oauths_shape() {
    let s = Setup::start(Delivery::default(), 0).await;
    let cases = [
        (
            json!({"grant_type": "authorization_code", "code": "ac_nope"}),
            Some(DEV_SECRET_KEY),
            400,
            "invalid_grant",
        ),
        (
            json!({"grant_type": "refresh_token", "code": "ac_nope"}),
            Some(DEV_SECRET_KEY),
            400,
            "unsupported_grant_type",
        ),
        (
            json!({"grant_type": "authorization_code", "code": "ac_nope"}),
            Some("sk_test_wrong"),
            401,
            "invalid_client",
        ),
        (
            json!({"grant_type": "authorization_code", "code": "ac_nope", "client_secret": "sk_test_wrong"}),
            None,
            401,
            "invalid_client",
        ),
        (
            json!({"grant_type": "authorization_code", "code": "ac_nope"}),
            None,
            401,
            "invalid_client",
        ),
    ];
    for (form, bearer, status, error) in cases {
        let resp = s.connect_post("/oauth/token", form.clone(), bearer).await;
        assert_eq!(resp.status().as_u16(), status, "{form}");
        let body: Value = resp.json().await.expect("JSON");
        assert_eq!(body["error"], error, "{form}: {body}");
        assert!(body["error_description"].is_string(), "{body}");
    }
    let resp = s
        .connect_post(
            "/oauth/token",
            json!({"grant_type": "authorization_code", "code": "ac_nope"}),
            Some(DEV_SECRET_KEY),
        )
        .await;
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["error_description"], "Authorization code does not exist: ac_nope");
}

#[tokio::test]
async fn denying_oauth_redirects_with_access_denied_and_the_state() {
    let s = Setup::start(Delivery::default(), 0).await;
    let callback = s.authorize("st_denied", "deny").await;
    assert_eq!(query(&callback, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        query(&callback, "error_description").as_deref(),
        Some("The user denied your request")
    );
    assert_eq!(query(&callback, "state").as_deref(), Some("st_denied"));
    assert!(query(&callback, "code").is_none());
    assert!(
        callback.as_str().contains("error_description=The+user+denied+your+request"),
        "{callback}"
    );
    assert_eq!(s.dev_connect().await["accounts"], json!([]), "no account was connected");
}

#[tokio::test]
async fn a_bad_authorization_request_gets_an_error_page_and_no_redirect() {
    let s = Setup::start(Delivery::default(), 0).await;
    let mut cases = Vec::new();
    for (name, value) in [
        ("client_id", Some("ca_other")),
        ("client_id", None),
        ("response_type", Some("token")),
        ("redirect_uri", None),
        ("redirect_uri", Some("javascript:alert(1)")),
    ] {
        let mut params = Setup::authorize_params("st_1");
        match value {
            Some(value) => params[name] = json!(value),
            None => {
                params.as_object_mut().expect("an object").remove(name);
            }
        }
        cases.push(params);
    }
    for params in cases {
        let resp = s
            .http
            .get(format!("{}/oauth/authorize", s.base))
            .query(&params)
            .send()
            .await
            .expect("page");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{params}");
        assert!(resp.headers().get("location").is_none());
        let body: Value = resp.json().await.expect("JSON");
        assert!(body["error"].is_string() && body["error_description"].is_string(), "{body}");
        let mut form = params.clone();
        form["decision"] = json!("approve");
        let resp = s.connect_post("/oauth/authorize", form, None).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{params}");
    }
    assert_eq!(s.dev_connect().await["accounts"], json!([]));
}

#[tokio::test]
async fn deauthorizing_makes_the_account_unusable_and_a_second_deauthorize_fails() {
    let s = Setup::start(Delivery::default(), 0).await;
    let token = s.oauth_connect().await;
    let acct = token["stripe_user_id"].as_str().expect("acct").to_string();
    let access = token["access_token"].as_str().expect("access").to_string();
    let (status, _, _) = s.post_as(Some(&acct), "/v1/products", json!({"name": "Pro"}), None).await;
    assert_eq!(status, StatusCode::OK);

    let deauthorize = json!({"client_id": DEV_CLIENT_ID, "stripe_user_id": acct});
    let resp =
        s.connect_post("/oauth/deauthorize", deauthorize.clone(), Some(DEV_SECRET_KEY)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.expect("JSON"), json!({"stripe_user_id": acct}));

    let (status, body, _) =
        s.post_as(Some(&acct), "/v1/products", json!({"name": "Pro"}), None).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("account_invalid"))
    );
    let resp = s
        .http
        .post(format!("{}/v1/products", s.base))
        .bearer_auth(&access)
        .body("name=Pro")
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "its access token is revoked");

    let connect = s.dev_connect().await;
    assert_eq!(connect["accounts"][0]["id"], acct.as_str());
    assert_eq!(connect["accounts"][0]["connected"], false);
    assert_eq!(connect["tokens"][0]["access_token"], access.as_str());
    assert_eq!(connect["tokens"][0]["revoked"], true);

    let events = s.wait_for_events(2).await;
    assert_eq!(
        kinds(&events),
        ["account.application.authorized", "account.application.deauthorized"]
    );
    assert_eq!(events[1]["account"], acct.as_str());
    assert_eq!(events[1]["data"]["object"]["id"], DEV_CLIENT_ID);

    let resp = s.connect_post("/oauth/deauthorize", deauthorize, Some(DEV_SECRET_KEY)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({"error": "invalid_client", "error_description": format!("No such user: {acct}")})
    );
    let resp = s
        .connect_post(
            "/oauth/deauthorize",
            json!({"client_id": DEV_CLIENT_ID, "stripe_user_id": "acct_x"}),
            Some("sk_test_wrong"),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn dev_connect_lists_accounts_and_every_token_issued() {
    let s = Setup::start(Delivery::default(), 0).await;
    let made = s.connected_account().await;
    let token = s.oauth_connect().await;
    let connect = s.dev_connect().await;
    let accounts = connect["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 2);
    let by_id = |id: &str| accounts.iter().find(|a| a["id"] == id).cloned().expect("listed");
    assert_eq!(by_id(&made)["charges_enabled"], false);
    assert_eq!(by_id(&made)["connected"], true);
    let oauth = by_id(token["stripe_user_id"].as_str().expect("acct"));
    assert_eq!(
        (oauth["charges_enabled"].clone(), oauth["connected"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(
        connect["tokens"],
        json!([{
            "stripe_user_id": token["stripe_user_id"],
            "access_token": token["access_token"],
            "refresh_token": token["refresh_token"],
            "revoked": false,
        }])
    );
}
