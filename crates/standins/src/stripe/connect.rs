//! Stripe Connect: connected accounts (`/v1/accounts`), onboarding links
//! (`/v1/account_links`), and Connect OAuth's token exchange and revocation
//! (`/oauth/token`, `/oauth/deauthorize`, with OAuth's error shape). The pages a person
//! sees (onboarding, approving the application) are in `pages`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use dream_core::stripe_form;
use serde_json::{json, Value};

use super::errors::{masked, OAuthError, StripeError};
use super::form::Accepts::{self, Fields, Metadata, Text};
use super::form::{Call, NOTHING};
use super::state::{AccessToken, AccountLink};
use super::{bearer, field, now, random, Stripe, LINK_LIFETIME};

pub(super) const ACCOUNT: Accepts =
    Fields(&[("type", Text), ("email", Text), ("country", Text), ("metadata", Metadata)]);

pub(super) const ACCOUNT_LINK: Accepts =
    Fields(&[("account", Text), ("refresh_url", Text), ("return_url", Text), ("type", Text)]);

/// `POST /v1/accounts` (the platform only): a connected account that cannot take
/// charges until it has been onboarded.
pub(super) async fn create_account(State(stripe): State<Stripe>, call: Call) -> Response {
    call.answer(&stripe, &ACCOUNT, |account, call| {
        if call.owner().is_some() {
            return Err(StripeError::platform_only());
        }
        let kind = call.field("type").unwrap_or("standard");
        if !matches!(kind, "standard" | "express" | "custom") {
            return Err(StripeError::invalid(
                "type",
                format!("Invalid type: {kind}. Must be one of standard, express or custom."),
            ));
        }
        let created = json!({
            "id": account.new_id("acct"),
            "object": "account",
            "type": kind,
            "email": call.field("email"),
            "country": call.field("country").unwrap_or("US"),
            "created": now(),
            "charges_enabled": false,
            "details_submitted": false,
            "payouts_enabled": false,
            "metadata": call.metadata(),
        });
        Ok(account.put(None, created).into())
    })
    .await
}

/// `GET /v1/accounts/{id}`: the platform sees its connected accounts; a connected
/// account sees itself.
pub(super) async fn get_account(
    State(stripe): State<Stripe>,
    Path(id): Path<String>,
    call: Call,
) -> Response {
    call.answer(&stripe, &NOTHING, |account, call| {
        if call.owner().is_some_and(|owner| owner != id) || !account.connected(&id) {
            return Err(StripeError::missing(&id));
        }
        Ok(account.get(None, &id, "account")?.into())
    })
    .await
}

/// `POST /v1/account_links` (`type=account_onboarding`, the platform only): a link to
/// `/connect/onboard/{id}`, valid 5 minutes and used once.
pub(super) async fn create_account_link(State(stripe): State<Stripe>, call: Call) -> Response {
    let base = stripe.base.clone();
    call.answer(&stripe, &ACCOUNT_LINK, |account, call| {
        if call.owner().is_some() {
            return Err(StripeError::platform_only());
        }
        let connected = call.required("account")?;
        let refresh_url = call.required("refresh_url")?;
        let return_url = call.required("return_url")?;
        let kind = call.required("type")?;
        if kind != "account_onboarding" {
            return Err(StripeError::invalid(
                "type",
                format!("Invalid type: {kind}. Must be account_onboarding."),
            ));
        }
        if !account.connected(connected) {
            return Err(StripeError {
                param: Some("account".into()),
                ..StripeError::missing(connected)
            });
        }
        let link_id = random(24);
        let created = now();
        let link = AccountLink {
            account: connected.to_string(),
            refresh_url: refresh_url.to_string(),
            return_url: return_url.to_string(),
            expires_at: created + LINK_LIFETIME,
            used: false,
        };
        account.connect.links.insert(link_id.clone(), link);
        Ok(json!({
            "object": "account_link",
            "created": created,
            "expires_at": created + LINK_LIFETIME,
            "url": format!("{base}/connect/onboard/{link_id}"),
        })
        .into())
    })
    .await
}

/// An OAuth request's form body.
pub(super) fn oauth_form(body: &Bytes) -> Result<Value, OAuthError> {
    stripe_form::decode(&String::from_utf8_lossy(body))
        .ok_or_else(|| OAuthError::invalid_request("The request body could not be decoded."))
}

/// A call to an OAuth endpoint by the platform (its secret key as `client_secret` or in
/// `Authorization`): its form parameters.
pub(super) struct OAuthCall(Value);

impl FromRequest<Stripe> for OAuthCall {
    type Rejection = OAuthError;

    async fn from_request(req: Request, stripe: &Stripe) -> Result<Self, OAuthError> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, stripe)
            .await
            .map_err(|_| OAuthError::invalid_request("The request body could not be read."))?;
        let params = oauth_form(&body)?;
        stripe.oauth_client(&headers, &params)?;
        Ok(Self(params))
    }
}

/// `POST /oauth/token`: an authorization code, once, for the account's keys.
pub(super) async fn oauth_token(
    State(stripe): State<Stripe>,
    OAuthCall(params): OAuthCall,
) -> Result<Json<Value>, OAuthError> {
    match field(&params, "grant_type") {
        Some("authorization_code") => {}
        Some(other) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("Unsupported grant type: {other}"),
            ))
        }
        None => return Err(OAuthError::invalid_request("Missing required param: grant_type.")),
    }
    let code = field(&params, "code")
        .ok_or_else(|| OAuthError::invalid_request("Missing required param: code."))?;
    let mut account = stripe.account();
    let (stripe_user_id, scope) = account.redeem(code, &stripe.client_id, now())?;
    let token = AccessToken {
        stripe_user_id,
        access_token: format!("sk_test_{}", random(32)),
        refresh_token: format!("rt_{}", random(32)),
        publishable_key: format!("pk_test_{}", random(32)),
        scope,
        revoked: false,
    };
    account.connect.tokens.push(token.clone());
    Ok(Json(json!({
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
        "token_type": "bearer",
        "stripe_publishable_key": token.publishable_key,
        "stripe_user_id": token.stripe_user_id,
        "scope": token.scope,
        "livemode": false,
    })))
}

/// `POST /oauth/deauthorize`: the account is disconnected and its tokens revoked;
/// delivers `account.application.deauthorized`.
pub(super) async fn oauth_deauthorize(
    State(stripe): State<Stripe>,
    OAuthCall(params): OAuthCall,
) -> Result<Json<Value>, OAuthError> {
    let client_id = field(&params, "client_id")
        .ok_or_else(|| OAuthError::invalid_request("Missing required param: client_id."))?;
    if client_id != &*stripe.client_id {
        return Err(OAuthError::no_such_application(client_id));
    }
    let user = field(&params, "stripe_user_id")
        .ok_or_else(|| OAuthError::invalid_request("Missing required param: stripe_user_id."))?;
    let mut account = stripe.account();
    if !account.connected(user) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            format!("No such user: {user}"),
        ));
    }
    account.connect.deauthorized.insert(user.to_string());
    for token in account.connect.tokens.iter_mut().filter(|t| t.stripe_user_id == user) {
        token.revoked = true;
    }
    let event =
        account.event(Some(user), "account.application.deauthorized", &application(client_id));
    drop(account);
    stripe.deliver(vec![event]);
    Ok(Json(json!({ "stripe_user_id": user })))
}

/// The Connect application as events describe it.
pub(super) fn application(client_id: &str) -> Value {
    json!({"id": client_id, "object": "application", "name": "dream-api (local)"})
}

/// An authorization request whose parameters have been checked.
pub(super) struct AuthorizeRequest {
    pub(super) client_id: String,
    pub(super) scope: String,
    pub(super) state: Option<String>,
    /// As given, to carry through the approval form.
    pub(super) redirect_uri: String,
    redirect: reqwest::Url,
    /// `stripe_user[email]`, which prefills the account's email.
    pub(super) email: Option<String>,
}

impl AuthorizeRequest {
    /// `redirect_uri` with `pairs` and then `state` added to its query.
    pub(super) fn redirect_with(&self, pairs: &[(&str, &str)]) -> Response {
        let mut url = self.redirect.clone();
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in pairs {
                query.append_pair(name, value);
            }
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
        }
        (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
    }
}

impl Stripe {
    /// Whether an OAuth call carries the platform's secret key, as `client_secret` or in
    /// `Authorization` (Bearer, or Basic with the key as the user name).
    fn oauth_client(&self, headers: &HeaderMap, params: &Value) -> Result<(), OAuthError> {
        let basic = || {
            let encoded = headers.get("authorization")?.to_str().ok()?.strip_prefix("Basic ")?;
            let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
            Some(decoded.split_once(':').map_or(decoded.clone(), |(user, _)| user.to_string()))
        };
        let given = field(params, "client_secret")
            .map(str::to_string)
            .or_else(|| bearer(headers).map(str::to_string))
            .or_else(basic);
        match given {
            Some(key) if key == *self.secret_key => Ok(()),
            Some(key) => Err(OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                format!("Invalid API Key provided: {}", masked(&key)),
            )),
            None => Err(OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "No API key provided: send your secret key as client_secret or in the Authorization header.",
            )),
        }
    }

    /// The parameters of an authorization request, checked.
    pub(super) fn authorize_request(&self, params: &Value) -> Result<AuthorizeRequest, OAuthError> {
        let client_id = field(params, "client_id")
            .ok_or_else(|| OAuthError::invalid_request("Missing required param: client_id."))?;
        if client_id != &*self.client_id {
            return Err(OAuthError::no_such_application(client_id));
        }
        match field(params, "response_type") {
            Some("code") => {}
            Some(other) => {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "unsupported_response_type",
                    format!("Unsupported response_type: {other}. Use response_type=code."),
                ))
            }
            None => {
                return Err(OAuthError::invalid_request("Missing required param: response_type."))
            }
        }
        let redirect_uri = field(params, "redirect_uri")
            .ok_or_else(|| OAuthError::invalid_request("Missing required param: redirect_uri."))?;
        let redirect = reqwest::Url::parse(redirect_uri)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .ok_or_else(|| {
                OAuthError::invalid_request(format!("Invalid redirect_uri: {redirect_uri}"))
            })?;
        let scope = field(params, "scope").unwrap_or("read_write");
        if !matches!(scope, "read_write" | "read_only") {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                format!("Invalid scope: {scope}. Use read_write or read_only."),
            ));
        }
        Ok(AuthorizeRequest {
            client_id: client_id.to_string(),
            scope: scope.to_string(),
            state: field(params, "state").map(str::to_string),
            redirect_uri: redirect_uri.to_string(),
            redirect,
            email: params.pointer("/stripe_user/email").and_then(Value::as_str).map(str::to_string),
        })
    }
}
