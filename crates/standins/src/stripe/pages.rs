//! The pages a person sees on Stripe, served by the stand-in: hosted checkout ("Pay"),
//! the billing portal ("Cancel"), Connect onboarding ("Complete onboarding"), and
//! Connect OAuth's approval page. Each page acts for the owner of its session: its URL
//! is the credential.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Redirect, Response};
use dream_core::stripe_form;
use serde_json::json;

use super::connect::{application, oauth_form};
use super::errors::{OAuthError, StripeError};
use super::state::{AuthorizationCode, LinkTarget};
use super::{field, now, random, Stripe, CODE_LIFETIME};
use crate::{html_escape, html_page};

pub(super) async fn pay_page(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
) -> Result<Html<String>, StripeError> {
    let (session, _) = stripe.account().hosted(&id, "checkout.session")?;
    let price = &session["line_items"]["data"][0]["price"];
    let amount = price["unit_amount"].as_i64().unwrap_or(0);
    let body = format!(
        r#"<h1>Subscribe</h1><p>${}.{:02} {} per month. This is the local Stripe stand-in: no card needed.</p>
<form method="post"><button type="submit" style="padding: .5rem 1rem">Pay</button></form>"#,
        amount / 100,
        amount % 100,
        html_escape(&price["currency"].as_str().unwrap_or("usd").to_uppercase()),
    );
    Ok(Html(html_page("Checkout (local Stripe stand-in)", &body)))
}

/// "Pay": a customer, an active subscription, two events, and back to `success_url`,
/// all in the account the session belongs to.
pub(super) async fn pay(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
) -> Result<Redirect, StripeError> {
    let mut account = stripe.account();
    let (mut session, owner) = account.hosted(&id, "checkout.session")?;
    let owner = owner.as_deref();
    if session["status"] != "open" {
        return Err(StripeError::invalid("session", "This Checkout Session is no longer active."));
    }
    let customer_id = match session["customer"].as_str() {
        Some(existing) => existing.to_string(),
        None => {
            let customer = json!({"id": account.new_id("cus"), "object": "customer", "email": session["customer_email"]});
            let customer = account.put(owner, customer);
            customer["id"].as_str().unwrap_or_default().to_string()
        }
    };
    let subscription_id = account.new_id("sub");
    let subscription = json!({
        "id": subscription_id,
        "object": "subscription",
        "status": "active",
        "customer": customer_id,
        "cancel_at_period_end": false,
        "current_period_end": now() + 30 * 24 * 3600,
        "items": {"data": [{"price": session["line_items"]["data"][0]["price"]}]},
        "metadata": session["subscription_data"]["metadata"].clone(),
    });
    account.put(owner, subscription.clone());
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["customer"] = json!(customer_id);
    session["subscription"] = json!(subscription_id);
    account.put(owner, session.clone());
    let created = account.event(owner, "customer.subscription.created", &subscription);
    let completed = account.event(owner, "checkout.session.completed", &session);
    drop(account);
    stripe.deliver(vec![created, completed]);
    let success =
        session["success_url"].as_str().unwrap_or("/").replace("{CHECKOUT_SESSION_ID}", &id);
    Ok(Redirect::to(&success))
}

pub(super) async fn portal_page(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
) -> Result<Html<String>, StripeError> {
    let account = stripe.account();
    let (session, owner) = account.hosted(&id, "billing_portal.session")?;
    let rows: String = account
        .objects
        .values()
        .filter(|o| o["object"] == "subscription" && o["customer"] == session["customer"] && o["status"] == "active")
        .filter(|o| account.owner(o["id"].as_str().unwrap_or_default()) == owner.as_deref())
        .map(|s| {
            let sub = html_escape(s["id"].as_str().unwrap_or_default());
            format!(
                r#"<li>{sub} <form method="post" action="/p/session/{id}/cancel/{sub}" style="display:inline"><button type="submit">Cancel</button></form></li>"#,
                id = html_escape(&id),
            )
        })
        .collect();
    let body = format!("<h1>Your subscriptions</h1><ul>{rows}</ul>");
    Ok(Html(html_page("Billing (local Stripe stand-in)", &body)))
}

pub(super) async fn portal_cancel(
    State(stripe): State<Stripe>,
    Path((id, subscription)): Path<(String, String)>,
) -> Result<Redirect, StripeError> {
    let mut account = stripe.account();
    let (session, owner) = account.hosted(&id, "billing_portal.session")?;
    let owner = owner.as_deref();
    let owned = account.get(owner, &subscription, "subscription")?;
    if owned["customer"] != session["customer"] {
        return Err(StripeError::missing(&subscription));
    }
    let cancelled = account.cancel(owner, &subscription)?;
    let event = account.event(owner, "customer.subscription.deleted", &cancelled);
    drop(account);
    stripe.deliver(vec![event]);
    Ok(Redirect::to(session["return_url"].as_str().unwrap_or("/")))
}

/// An account link's onboarding page: one button, which completes onboarding.
pub(super) async fn onboard_page(State(stripe): State<Stripe>, Path(id): Path<String>) -> Response {
    let account = stripe.account();
    let link = match account.link(&id, now()) {
        Ok(LinkTarget::Onboarding(link)) => link,
        Ok(LinkTarget::Refresh(refresh_url)) => return Redirect::to(&refresh_url).into_response(),
        Err(e) => return e.into_response(),
    };
    let connected = account.objects.get(&link.account).cloned().unwrap_or_default();
    let email = connected["email"].as_str().unwrap_or("no email yet");
    let body = format!(
        r#"<h1>Set up your Stripe account</h1><p>Account {account} ({email}). This is the local Stripe stand-in: no business details needed.</p>
<form method="post"><button type="submit" style="padding: .5rem 1rem">Complete onboarding</button></form>"#,
        account = html_escape(&link.account),
        email = html_escape(email),
    );
    Html(html_page("Onboarding (local Stripe stand-in)", &body)).into_response()
}

/// "Complete onboarding": the account can take charges and payouts; `account.updated`,
/// and back to `return_url`.
pub(super) async fn onboard(State(stripe): State<Stripe>, Path(id): Path<String>) -> Response {
    let mut account = stripe.account();
    let link = match account.link(&id, now()) {
        Ok(LinkTarget::Onboarding(link)) => link,
        Ok(LinkTarget::Refresh(refresh_url)) => return Redirect::to(&refresh_url).into_response(),
        Err(e) => return e.into_response(),
    };
    let mut onboarded = match account.get(None, &link.account, "account") {
        Ok(onboarded) => onboarded,
        Err(e) => return e.into_response(),
    };
    for flag in ["details_submitted", "charges_enabled", "payouts_enabled"] {
        onboarded[flag] = json!(true);
    }
    account.put(None, onboarded.clone());
    if let Some(used) = account.connect.links.get_mut(&id) {
        used.used = true;
    }
    let event = account.event(Some(&link.account), "account.updated", &onboarded);
    drop(account);
    stripe.deliver(vec![event]);
    Redirect::to(&link.return_url).into_response()
}

/// The page where a Stripe user approves or denies connecting to the application.
pub(super) async fn authorize_page(
    State(stripe): State<Stripe>,
    uri: Uri,
) -> Result<Html<String>, OAuthError> {
    let params = stripe_form::decode(uri.query().unwrap_or_default())
        .ok_or_else(|| OAuthError::invalid_request("The query string could not be decoded."))?;
    let request = stripe.authorize_request(&params)?;
    let mut hidden = vec![
        ("response_type", "code".to_string()),
        ("client_id", request.client_id.clone()),
        ("scope", request.scope.clone()),
        ("redirect_uri", request.redirect_uri.clone()),
    ];
    if let Some(state) = &request.state {
        hidden.push(("state", state.clone()));
    }
    if let Some(email) = &request.email {
        hidden.push(("stripe_user[email]", email.clone()));
    }
    let hidden: String = hidden
        .iter()
        .map(|(name, value)| {
            format!(r#"<input type="hidden" name="{name}" value="{}">"#, html_escape(value))
        })
        .collect();
    let body = format!(
        r#"<h1>Connect to {client}</h1><p>{client} asks for {scope} access to a Stripe account. This is the local Stripe stand-in: approving creates a new, ready account.</p>
<form method="post" action="/oauth/authorize">{hidden}
<button type="submit" name="decision" value="approve" style="padding: .5rem 1rem">Connect my Stripe account</button>
<button type="submit" name="decision" value="deny" style="padding: .5rem 1rem">Deny</button>
</form>"#,
        client = html_escape(&request.client_id),
        scope = html_escape(&request.scope),
    );
    Ok(Html(html_page("Connect (local Stripe stand-in)", &body)))
}

/// The approval form: approving connects a new account and redirects with a code;
/// denying redirects with `error=access_denied`.
pub(super) async fn authorize(
    State(stripe): State<Stripe>,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let params = oauth_form(&body)?;
    let request = stripe.authorize_request(&params)?;
    match field(&params, "decision") {
        Some("approve") => {}
        Some("deny") => {
            return Ok(request.redirect_with(&[
                ("error", "access_denied"),
                ("error_description", "The user denied your request"),
            ]))
        }
        _ => return Err(OAuthError::invalid_request("decision must be approve or deny.")),
    }
    let mut account = stripe.account();
    let connected = json!({
        "id": account.new_id("acct"),
        "object": "account",
        "type": "standard",
        "email": request.email,
        "country": "US",
        "created": now(),
        "charges_enabled": true,
        "details_submitted": true,
        "payouts_enabled": true,
        "metadata": {},
    });
    let connected = account.put(None, connected);
    let account_id = connected["id"].as_str().unwrap_or_default().to_string();
    let code = format!("ac_{}", random(24));
    account.connect.codes.insert(
        code.clone(),
        AuthorizationCode {
            account: account_id.clone(),
            client_id: request.client_id.clone(),
            scope: request.scope.clone(),
            expires_at: now() + CODE_LIFETIME,
            used: false,
        },
    );
    let event = account.event(
        Some(&account_id),
        "account.application.authorized",
        &application(&request.client_id),
    );
    drop(account);
    stripe.deliver(vec![event]);
    Ok(request.redirect_with(&[("code", &code), ("scope", &request.scope)]))
}
