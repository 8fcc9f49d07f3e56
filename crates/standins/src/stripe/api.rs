//! The `/v1` endpoints of Stripe's API the stand-in serves (Connect's are in
//! `connect`), one handler each. Each lists the parameters it takes: those the workers
//! send, and those of the real API the stand-in implements; anything else is refused
//! with Stripe's `Received unknown parameter`.

use axum::extract::{Path, State};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::errors::StripeError;
use super::form::Accepts::{self, Fields, List, Metadata, Text};
use super::form::{Call, Done, NOTHING};
use super::Stripe;

pub(super) const PRODUCT: Accepts = Fields(&[("name", Text), ("metadata", Metadata)]);

pub(super) const PRICE: Accepts = Fields(&[
    ("product", Text),
    ("unit_amount", Text),
    ("currency", Text),
    ("recurring", Fields(&[("interval", Text), ("interval_count", Text)])),
    ("metadata", Metadata),
]);

pub(super) const CHECKOUT_SESSION: Accepts = Fields(&[
    ("mode", Text),
    ("line_items", List(&Fields(&[("price", Text), ("quantity", Text)]))),
    ("success_url", Text),
    ("cancel_url", Text),
    ("client_reference_id", Text),
    ("customer", Text),
    ("customer_email", Text),
    ("metadata", Metadata),
    ("subscription_data", Fields(&[("metadata", Metadata)])),
]);

pub(super) const PORTAL_SESSION: Accepts = Fields(&[("customer", Text), ("return_url", Text)]);

pub(super) const SUBSCRIPTION_UPDATE: Accepts =
    Fields(&[("cancel_at_period_end", Text), ("metadata", Metadata)]);

/// `POST /v1/products`.
pub(super) async fn create_product(State(stripe): State<Stripe>, call: Call) -> Response {
    call.answer(&stripe, &PRODUCT, |account, call| {
        let product = json!({
            "id": account.new_id("prod"),
            "object": "product",
            "active": true,
            "name": call.required("name")?,
            "metadata": call.metadata(),
        });
        Ok(account.put(call.owner(), product).into())
    })
    .await
}

/// `GET /v1/products/{id}`.
pub(super) async fn get_product(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
    call: Call,
) -> Response {
    retrieve(&stripe, call, &id, "product").await
}

/// `POST /v1/prices`: on a product of the same account.
pub(super) async fn create_price(State(stripe): State<Stripe>, call: Call) -> Response {
    call.answer(&stripe, &PRICE, |account, call| {
        let product = account.get(call.owner(), call.required("product")?, "product")?;
        let unit_amount: i64 = call
            .required("unit_amount")?
            .parse()
            .map_err(|_| StripeError::invalid("unit_amount", "Invalid integer: unit_amount"))?;
        let price = json!({
            "id": account.new_id("price"),
            "object": "price",
            "active": true,
            "product": product["id"],
            "unit_amount": unit_amount,
            "currency": call.required("currency")?,
            "recurring": call.params.get("recurring").cloned().unwrap_or(Value::Null),
            "metadata": call.metadata(),
        });
        Ok(account.put(call.owner(), price).into())
    })
    .await
}

/// `GET /v1/prices/{id}`.
pub(super) async fn get_price(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
    call: Call,
) -> Response {
    retrieve(&stripe, call, &id, "price").await
}

/// `POST /v1/checkout/sessions` (`mode=subscription`): an open session whose hosted
/// page is at `/c/pay/{id}`.
pub(super) async fn create_checkout_session(State(stripe): State<Stripe>, call: Call) -> Response {
    let base = stripe.base.clone();
    call.answer(&stripe, &CHECKOUT_SESSION, |account, call| {
        let mode = call.required("mode")?;
        if mode != "subscription" {
            return Err(StripeError::invalid("mode", "Only mode=subscription is supported here."));
        }
        let success_url = call.required("success_url")?;
        let price_id = call
            .params
            .pointer("/line_items/0/price")
            .and_then(Value::as_str)
            .ok_or_else(|| StripeError::required("line_items[0][price]"))?;
        let price = account.get(call.owner(), price_id, "price")?;
        if let Some(customer) = call.field("customer") {
            account.get(call.owner(), customer, "customer")?;
        }
        let id = account.new_id("cs_test");
        let session = json!({
            "id": id,
            "object": "checkout.session",
            "mode": mode,
            "status": "open",
            "payment_status": "unpaid",
            "url": format!("{base}/c/pay/{id}"),
            "success_url": success_url,
            "cancel_url": call.field("cancel_url"),
            "client_reference_id": call.field("client_reference_id"),
            "customer": call.field("customer"),
            "customer_email": call.field("customer_email"),
            "subscription": null,
            "metadata": call.metadata(),
            "line_items": {"data": [{"price": price}]},
            "subscription_data": call.params.get("subscription_data").cloned().unwrap_or(json!({})),
        });
        Ok(account.put(call.owner(), session).into())
    })
    .await
}

/// `GET /v1/checkout/sessions/{id}`.
pub(super) async fn get_checkout_session(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
    call: Call,
) -> Response {
    retrieve(&stripe, call, &id, "checkout.session").await
}

/// `POST /v1/billing_portal/sessions`: a page at `/p/session/{id}` for the customer.
pub(super) async fn create_portal_session(State(stripe): State<Stripe>, call: Call) -> Response {
    let base = stripe.base.clone();
    call.answer(&stripe, &PORTAL_SESSION, |account, call| {
        let customer = account.get(call.owner(), call.required("customer")?, "customer")?;
        let id = account.new_id("bps");
        let session = json!({
            "id": id,
            "object": "billing_portal.session",
            "customer": customer["id"],
            "return_url": call.field("return_url"),
            "url": format!("{base}/p/session/{id}"),
        });
        Ok(account.put(call.owner(), session).into())
    })
    .await
}

/// `GET /v1/subscriptions/{id}`.
pub(super) async fn get_subscription(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
    call: Call,
) -> Response {
    retrieve(&stripe, call, &id, "subscription").await
}

/// `POST /v1/subscriptions/{id}`: `cancel_at_period_end` and metadata (merged);
/// delivers `customer.subscription.updated`.
pub(super) async fn update_subscription(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
    call: Call,
) -> Response {
    call.answer(&stripe, &SUBSCRIPTION_UPDATE, |account, call| {
        let owner = call.owner();
        let mut subscription = account.get(owner, &id, "subscription")?;
        if let Some(flag) = call.field("cancel_at_period_end") {
            subscription["cancel_at_period_end"] = json!(flag == "true");
        }
        if let Value::Object(metadata) = call.metadata() {
            for (k, v) in metadata {
                subscription["metadata"][k] = v;
            }
        }
        account.put(owner, subscription.clone());
        let event = account.event(owner, "customer.subscription.updated", &subscription);
        Ok(Done::with_event(subscription, event))
    })
    .await
}

/// `DELETE /v1/subscriptions/{id}`: cancelled at once; delivers
/// `customer.subscription.deleted`.
pub(super) async fn cancel_subscription(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
    call: Call,
) -> Response {
    call.answer(&stripe, &NOTHING, |account, call| {
        let subscription = account.cancel(call.owner(), &id)?;
        let event = account.event(call.owner(), "customer.subscription.deleted", &subscription);
        Ok(Done::with_event(subscription, event))
    })
    .await
}

/// An object of the caller's, by id.
async fn retrieve(stripe: &Stripe, call: Call, id: &str, object: &str) -> Response {
    call.answer(stripe, &NOTHING, |account, call| Ok(account.get(call.owner(), id, object)?.into()))
        .await
}

/// Any other `/v1` path or method, as Stripe answers it.
pub(super) async fn unrecognized(method: Method, uri: Uri) -> Response {
    StripeError::unrecognized(method.as_str(), uri.path()).into_response()
}
