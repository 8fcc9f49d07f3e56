//! One `/v1` call: who makes it ([`Call`], an extractor: the key, `Stripe-Account`,
//! Stripe's form encoding `a[b][0]=v` decoded by `dream_core::stripe_form`), which
//! parameters its endpoint takes ([`Accepts`]: anything else is refused as Stripe
//! refuses it), and how it is answered ([`Call::answer`]: a late answer when
//! `/dev/delays` says so, `Idempotency-Key` replay, events delivered after).

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use dream_core::stripe_form;
use serde_json::{Map, Value};
use std::time::Duration;

use super::errors::StripeError;
use super::state::{Account, IdempotencyScope};
use super::{bearer, Stripe};

/// The parameters an endpoint takes, as a tree of names. Every endpoint also takes
/// `expand[]`.
pub(super) enum Accepts {
    /// A plain value (`name=Pro`).
    Text,
    /// Free-form keys with plain values (`metadata[anything]=…`), or `metadata=` to clear.
    Metadata,
    /// An object with these keys (`recurring[interval]=month`).
    Fields(&'static [(&'static str, Accepts)]),
    /// A list of these (`line_items[0][price]=…`; `expand[]=…`).
    List(&'static Accepts),
}

use Accepts::{Fields, List, Metadata, Text};

/// A retrieval (`GET /v1/…/{id}`) and a cancellation take only `expand[]`.
pub(super) const NOTHING: Accepts = Fields(&[]);
const EXPAND: Accepts = List(&Text);

impl Accepts {
    /// Refuses the first parameter of `params` this does not take, named as sent.
    pub(super) fn check(&self, params: &Value) -> Result<(), StripeError> {
        let (Fields(fields), Value::Object(given)) = (self, params) else {
            return Ok(());
        };
        for (key, value) in given {
            let spec = match fields.iter().find(|(name, _)| name == key) {
                Some((_, spec)) => spec,
                None if key == "expand" => &EXPAND,
                None => return Err(StripeError::unknown(key)),
            };
            spec.check_at(key.clone(), value)?;
        }
        Ok(())
    }

    fn check_at(&self, name: String, value: &Value) -> Result<(), StripeError> {
        match (self, value) {
            (Text, Value::String(_)) => Ok(()),
            (Text, nested) => Err(StripeError::unknown(&first_leaf(name, nested))),
            (Metadata, Value::String(s)) if s.is_empty() => Ok(()),
            (Metadata, Value::Object(given)) => {
                match given.iter().find(|(_, value)| !value.is_string()) {
                    Some((key, nested)) => {
                        Err(StripeError::unknown(&first_leaf(format!("{name}[{key}]"), nested)))
                    }
                    None => Ok(()),
                }
            }
            (Fields(fields), Value::Object(given)) => {
                for (key, value) in given {
                    let field = format!("{name}[{key}]");
                    match fields.iter().find(|(known, _)| known == key) {
                        Some((_, spec)) => spec.check_at(field, value)?,
                        None => return Err(StripeError::unknown(&field)),
                    }
                }
                Ok(())
            }
            (List(item), Value::Array(items)) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, value)| item.check_at(format!("{name}[{i}]"), value)),
            // `expand[]=…`, or indexes that skip: still a list.
            (List(item), Value::Object(given)) => given.iter().try_for_each(|(key, value)| {
                let field = format!("{name}[{key}]");
                if key.is_empty() || key.parse::<usize>().is_ok() {
                    item.check_at(field, value)
                } else {
                    Err(StripeError::unknown(&field))
                }
            }),
            (Metadata | Fields(_), _) => Err(StripeError::invalid(&name, "Invalid object")),
            (List(_), _) => Err(StripeError::invalid(&name, "Invalid array")),
        }
    }
}

/// The full name of the first value under `name` (`name[a][0]`), as Stripe names it.
fn first_leaf(name: String, value: &Value) -> String {
    match value {
        Value::Object(map) => match map.iter().next() {
            Some((key, inner)) => first_leaf(format!("{name}[{key}]"), inner),
            None => name,
        },
        Value::Array(items) => match items.first() {
            Some(inner) => first_leaf(format!("{name}[0]"), inner),
            None => name,
        },
        _ => name,
    }
}

/// What a handler hands back: the object, and the events it caused (delivered once
/// the account is unlocked).
pub(super) struct Done {
    pub(super) body: Value,
    pub(super) events: Vec<Value>,
}

impl From<Value> for Done {
    fn from(body: Value) -> Self {
        Self { body, events: Vec::new() }
    }
}

impl Done {
    pub(super) fn with_event(body: Value, event: Value) -> Self {
        Self { body, events: vec![event] }
    }
}

/// A `/v1` call: the account it acts as (`None`: the platform), its parameters (query
/// string and form body), and its `Idempotency-Key` scope (POST only).
pub(super) struct Call {
    pub(super) owner: Option<String>,
    pub(super) params: Value,
    idempotency: Option<IdempotencyScope>,
}

impl FromRequest<Stripe> for Call {
    type Rejection = StripeError;

    async fn from_request(req: Request, stripe: &Stripe) -> Result<Self, StripeError> {
        let (method, path) = (req.method().clone(), req.uri().path().to_string());
        let query = req.uri().query().unwrap_or_default().to_string();
        let owner = stripe.caller(req.headers())?;
        let idempotency = req
            .headers()
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .filter(|_| method == Method::POST)
            .map(|k| (owner.clone(), k.to_string(), method.to_string(), path));
        let body = axum::body::to_bytes(req.into_body(), 1 << 20)
            .await
            .map_err(|_| StripeError::invalid("body", "The request body is too large."))?;
        let text = format!("{query}&{}", String::from_utf8_lossy(&body));
        let params = stripe_form::decode(&text).ok_or_else(|| {
            StripeError::invalid("body", "The request body could not be decoded.")
        })?;
        Ok(Self { owner, params, idempotency })
    }
}

impl Call {
    pub(super) fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// A parameter's plain value, if given and not empty.
    pub(super) fn field(&self, name: &str) -> Option<&str> {
        super::field(&self.params, name)
    }

    /// A parameter's plain value, or Stripe's `parameter_missing`.
    pub(super) fn required(&self, name: &str) -> Result<&str, StripeError> {
        self.field(name).ok_or_else(|| StripeError::required(name))
    }

    /// `metadata` as given (free-form keys), or `{}`.
    pub(super) fn metadata(&self) -> Value {
        match self.params.get("metadata") {
            Some(Value::Object(map)) => Value::Object(map.clone()),
            _ => Value::Object(Map::new()),
        }
    }

    /// Answers the call with `act` on the locked account, once its parameters are
    /// checked against `accepts`: late if `/dev/delays` names its `name`, and with the
    /// first answer again for a repeated `Idempotency-Key`.
    pub(super) async fn answer(
        self,
        stripe: &Stripe,
        accepts: &Accepts,
        act: impl FnOnce(&mut Account, &Call) -> Result<Done, StripeError>,
    ) -> Response {
        if let Err(e) = accepts.check(&self.params) {
            return e.into_response();
        }
        let delay = self.params["name"].as_str().and_then(|name| stripe.delay_for(name));
        if let Some(ms) = delay {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let done = {
            let mut account = stripe.account();
            if let Some((status, body)) =
                self.idempotency.as_ref().and_then(|key| account.idempotent.get(key).cloned())
            {
                return replayed(status, body);
            }
            let done = act(&mut account, &self);
            if let (Some(key), Ok(done)) = (self.idempotency, &done) {
                account.idempotent.insert(key, (StatusCode::OK, done.body.clone()));
            }
            done
        };
        match done {
            Ok(Done { body, events }) => {
                if !events.is_empty() {
                    stripe.deliver(events);
                }
                Json(body).into_response()
            }
            Err(e) => e.into_response(),
        }
    }
}

fn replayed(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
    resp
}

impl Stripe {
    /// Whose objects a `/v1` call acts on: the secret key acts as the platform (`None`),
    /// or as the connected account named by `Stripe-Account`; an OAuth access token acts
    /// as its own account.
    pub(super) fn caller(&self, headers: &HeaderMap) -> Result<Option<String>, StripeError> {
        let key = bearer(headers);
        let header = headers
            .get("stripe-account")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
        let account = self.account();
        let acting = if key == Some(&*self.secret_key) {
            header
        } else {
            let token =
                key.and_then(|k| account.connect.tokens.iter().find(|t| t.access_token == k));
            match token {
                Some(token) if !token.revoked => {
                    if let Some(other) = header.filter(|h| *h != token.stripe_user_id) {
                        return Err(StripeError::no_access(&other));
                    }
                    Some(token.stripe_user_id.clone())
                }
                Some(token) => return Err(StripeError::revoked(&token.access_token)),
                None => return Err(StripeError::unauthenticated()),
            }
        };
        match acting {
            Some(id) if !account.connected(&id) => Err(StripeError::no_access(&id)),
            acting => Ok(acting),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CHECKOUT: Accepts = Fields(&[
        ("mode", Text),
        ("line_items", List(&Fields(&[("price", Text), ("quantity", Text)]))),
        ("metadata", Metadata),
        ("subscription_data", Fields(&[("metadata", Metadata)])),
    ]);

    fn refused(params: &str) -> Option<(String, String)> {
        let decoded = stripe_form::decode(params).expect("decodes");
        CHECKOUT
            .check(&decoded)
            .err()
            .map(|e| (e.param().unwrap_or_default().to_string(), e.message().to_string()))
    }

    #[test]
    fn known_parameters_free_form_metadata_and_expand_are_taken() {
        let all = "mode=subscription&line_items[0][price]=price_1&line_items[0][quantity]=1\
            &line_items[1][price]=price_2&metadata[platformId]=plt_1&metadata[any_key]=x\
            &subscription_data[metadata][userId]=u1&expand[]=line_items&expand[0]=customer";
        assert_eq!(refused(all), None);
        assert_eq!(refused("metadata="), None, "an empty metadata clears it");
        assert_eq!(refused(""), None);
    }

    #[test]
    fn an_unknown_parameter_is_refused_by_its_full_name_at_any_depth() {
        let unknown =
            |name: &str| Some((name.to_string(), format!("Received unknown parameter: {name}")));
        assert_eq!(refused("mode=subscription&modes=x"), unknown("modes"));
        assert_eq!(refused("line_items[0][prise]=price_1"), unknown("line_items[0][prise]"));
        assert_eq!(
            refused("subscription_data[metdata][userId]=u1"),
            unknown("subscription_data[metdata]")
        );
        assert_eq!(refused("mode[x]=1"), unknown("mode[x]"));
        assert_eq!(refused("metadata[a][b]=1"), unknown("metadata[a][b]"));
        assert_eq!(refused("line_items[price]=p"), unknown("line_items[price]"));
    }

    #[test]
    fn a_plain_value_where_an_object_or_list_belongs_is_invalid() {
        let (param, message) = refused("subscription_data=x").expect("refused");
        assert_eq!((param.as_str(), message.as_str()), ("subscription_data", "Invalid object"));
        let (param, message) = refused("line_items=x").expect("refused");
        assert_eq!((param.as_str(), message.as_str()), ("line_items", "Invalid array"));
    }

    #[test]
    fn the_first_leaf_of_a_nested_value_is_named_in_brackets() {
        assert_eq!(first_leaf("a".into(), &json!({"b": [{"c": "1"}]})), "a[b][0][c]");
        assert_eq!(first_leaf("a".into(), &json!("v")), "a");
    }
}
