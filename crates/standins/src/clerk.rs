//! The Clerk stand-in: what dream-api uses of Clerk's Backend API and sessions.
//!
//! - `GET /v1/jwks`: the instance's RSA-2048 keys (e = 65537), as Clerk publishes them.
//! - `POST /v1/users`, `GET /v1/users/{id}`, `PATCH /v1/users/{id}/metadata` (a deep
//!   merge in which `null` removes a key), with Clerk's error shape.
//! - `GET|POST /sign-in`: a dev sign-in page; it mints a session token for the email
//!   given and sends it to `redirect_url` as `__session`.
//! - `POST /dev/sessions` mints a token for a user (for tests); `POST /dev/rotate-keys`
//!   adds a new signing key (the old one stays published, as during a real rotation).
//! - `GET /dev/jwks-requests`: `{"count": N}`, how many requests `GET /v1/jwks` has had
//!   since start (authorized or not), so tests can see how often a worker fetches keys.
//!   A request answered by a fault does not reach the JWKS and is not counted.
//! - `POST /dev/faults`, `DELETE /dev/faults`: the Backend API and the JWKS answer late
//!   or fail on demand (see [`crate::faults`]), in Clerk's error shape.
//! - With [`Clerk::rotating_after`], the signing key rotates by itself once, right after
//!   the Nth session token is minted, so a whole test run sees a rotation in its midst.
//!
//! Backend API calls need `Authorization: Bearer <secret key>`.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::faults::Faults;
use crate::{html_escape, html_page, StateFile};

/// The secret key the stand-in accepts when `CLERK_SECRET_KEY` is not set.
pub const DEV_SECRET_KEY: &str = "sk_test_dream_standin";
/// The local dashboard's origin: the `azp` of tokens signed in without a redirect.
pub const DASHBOARD_ORIGIN: &str = "http://127.0.0.1:8790";
/// Clerk's default session-token lifetime.
pub const TOKEN_LIFETIME_SECONDS: i64 = 60;
/// How long a session from the dev sign-in page lasts. Clerk's session tokens live a
/// minute and ClerkJS refreshes them in the browser; the local dashboard has no such
/// refresher, so the stand-in's sign-in page hands out one token for the whole session.
pub const SIGN_IN_SESSION_SECONDS: i64 = 8 * 3600;

struct SigningKey {
    kid: String,
    jwk: Value,
    /// The private key, PKCS#1 DER in base64url, for `--state`.
    der: String,
    encoding: EncodingKey,
}

impl SigningKey {
    fn generate(kid: String) -> Result<Self, String> {
        let private =
            RsaPrivateKey::new(&mut rand::thread_rng(), 2048).map_err(|e| e.to_string())?;
        Self::from_private(kid, &private)
    }

    fn from_pkcs1_der(kid: String, der: &[u8]) -> Result<Self, String> {
        let private = RsaPrivateKey::from_pkcs1_der(der).map_err(|e| e.to_string())?;
        Self::from_private(kid, &private)
    }

    fn from_private(kid: String, private: &RsaPrivateKey) -> Result<Self, String> {
        let der = private.to_pkcs1_der().map_err(|e| e.to_string())?;
        let public = private.to_public_key();
        let jwk = json!({
            "use": "sig",
            "kty": "RSA",
            "kid": kid,
            "alg": "RS256",
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        });
        Ok(Self {
            kid,
            jwk,
            der: URL_SAFE_NO_PAD.encode(der.as_bytes()),
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        })
    }
}

/// What `--state` keeps of an instance: keys as PKCS#1 DER (base64url), users, ids.
#[derive(Serialize, Deserialize)]
struct SavedInstance {
    keys: Vec<(String, String)>,
    users: BTreeMap<String, Value>,
    next_id: u64,
}

#[derive(Default)]
struct Instance {
    /// Published keys; the last one signs.
    keys: Vec<SigningKey>,
    users: BTreeMap<String, Value>,
    next_id: u64,
}

impl Instance {
    fn new_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}_{:024}", self.next_id)
    }

    fn create_user(&mut self, email: &str) -> Value {
        let id = self.new_id("user");
        let email_id = self.new_id("idn");
        let now = now_ms();
        let user = json!({
            "id": id,
            "object": "user",
            "email_addresses": [{"id": email_id, "object": "email_address", "email_address": email}],
            "primary_email_address_id": email_id,
            "public_metadata": {},
            "private_metadata": {},
            "unsafe_metadata": {},
            "created_at": now,
            "updated_at": now,
        });
        self.users.insert(id, user.clone());
        user
    }

    fn user_by_email(&self, email: &str) -> Option<Value> {
        self.users
            .values()
            .find(|u| u["email_addresses"][0]["email_address"].as_str() == Some(email))
            .cloned()
    }
}

/// One Clerk instance, shared by its handlers.
#[derive(Clone)]
pub struct Clerk {
    secret_key: Arc<str>,
    issuer: Arc<str>,
    instance: Arc<Mutex<Instance>>,
    state: StateFile,
    /// Requests to `/v1/jwks` since start (not kept in `--state`).
    jwks_requests: Arc<AtomicU64>,
    /// Session tokens minted since start, and after how many the key rotates by itself.
    minted: Arc<AtomicU64>,
    rotate_after: Option<u64>,
    faults: Faults,
}

impl Clerk {
    /// A new instance with one signing key (generating it takes a moment).
    pub fn new(secret_key: String, issuer: String) -> Self {
        Self::with_state(secret_key, issuer, StateFile::default())
    }

    /// An instance kept in `state` between runs: loaded from it when it exists, saved
    /// to it after every change.
    pub fn with_state(secret_key: String, issuer: String, state: StateFile) -> Self {
        let instance = state.load::<SavedInstance>().and_then(|saved| {
            let keys: Result<Vec<_>, _> = saved
                .keys
                .into_iter()
                .map(|(kid, der)| {
                    let der = URL_SAFE_NO_PAD.decode(der).map_err(|e| e.to_string())?;
                    SigningKey::from_pkcs1_der(kid, &der)
                })
                .collect();
            keys.ok().map(|keys| Instance { keys, users: saved.users, next_id: saved.next_id })
        });
        let loaded = instance.is_some();
        let clerk = Self {
            secret_key: secret_key.into(),
            issuer: issuer.into(),
            instance: Arc::new(Mutex::new(instance.unwrap_or_default())),
            state,
            jwks_requests: Arc::default(),
            minted: Arc::default(),
            rotate_after: None,
            faults: Faults::new(fault_answer),
        };
        if !loaded {
            if let Err(e) = clerk.rotate_keys() {
                eprintln!("Clerk stand-in: generating a signing key: {e}");
            }
        }
        clerk
    }

    /// Writes the instance to its state file, if it has one.
    pub fn save(&self) {
        let saved = {
            let instance = self.instance();
            SavedInstance {
                keys: instance.keys.iter().map(|k| (k.kid.clone(), k.der.clone())).collect(),
                users: instance.users.clone(),
                next_id: instance.next_id,
            }
        };
        self.state.save(&saved);
    }

    /// Rotates the signing key once, right after the `tokens`th session token is minted
    /// (the tokens minted before keep verifying: the old key stays published).
    pub fn rotating_after(mut self, tokens: u64) -> Self {
        self.rotate_after = Some(tokens);
        self
    }

    pub fn router(&self) -> Router {
        let app = Router::new()
            .route("/v1/jwks", get(jwks))
            .route("/v1/users", post(create_user))
            .route("/v1/users/{id}", get(get_user).delete(delete_user))
            .route("/v1/users/{id}/metadata", patch(patch_metadata))
            .route("/sign-in", get(sign_in_page).post(sign_in))
            .route("/dev/sessions", post(dev_session))
            .route("/dev/rotate-keys", post(dev_rotate_keys))
            .route("/dev/jwks-requests", get(dev_jwks_requests))
            .layer(axum::middleware::from_fn_with_state(self.clone(), save_after_changes))
            .with_state(self.clone());
        self.faults.wrap(app)
    }

    fn instance(&self) -> MutexGuard<'_, Instance> {
        // A panic while holding the lock leaves plain data behind: keep serving it.
        self.instance.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a new signing key; the previous ones stay published.
    pub fn rotate_keys(&self) -> Result<String, String> {
        let kid = {
            let mut instance = self.instance();
            instance.new_id("ins")
        };
        let key = SigningKey::generate(kid.clone())?;
        self.instance().keys.push(key);
        Ok(kid)
    }

    /// A session token for `user_id`, as Clerk's session-token template
    /// `{"metadata": "{{user.public_metadata}}"}` would make it.
    pub fn mint(
        &self,
        user_id: &str,
        azp: Option<&str>,
        lifetime_seconds: i64,
    ) -> Result<String, ClerkError> {
        let mut instance = self.instance();
        let user =
            instance.users.get(user_id).cloned().ok_or_else(|| ClerkError::not_found("user"))?;
        let sid = instance.new_id("sess");
        let key = instance.keys.last().ok_or_else(|| ClerkError::internal("no signing key"))?;
        let now = now_ms() / 1000;
        let mut claims = json!({
            "exp": now + lifetime_seconds,
            "iat": now,
            "nbf": now - 10,
            "iss": &*self.issuer,
            "sid": sid,
            "sub": user_id,
            "v": 2,
            "metadata": user["public_metadata"],
        });
        if let Some(azp) = azp {
            claims["azp"] = json!(azp);
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &key.encoding)
            .map_err(|e| ClerkError::internal(&e.to_string()))?;
        drop(instance);
        let minted = self.minted.fetch_add(1, Ordering::Relaxed) + 1;
        if self.rotate_after == Some(minted) {
            // Generating a key takes a moment: not on the caller's time.
            let clerk = self.clone();
            std::thread::spawn(move || match clerk.rotate_keys() {
                Ok(kid) => {
                    clerk.save();
                    eprintln!(
                        "Clerk stand-in: rotated the signing key after {minted} tokens: {kid}"
                    );
                }
                Err(e) => eprintln!("Clerk stand-in: rotating the signing key: {e}"),
            });
        }
        Ok(token)
    }

    fn authorize(&self, headers: &HeaderMap) -> Result<(), ClerkError> {
        let presented = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if presented == Some(&*self.secret_key) {
            Ok(())
        } else {
            Err(ClerkError {
                status: StatusCode::UNAUTHORIZED,
                code: "authentication_invalid",
                message: "Unauthorized request".into(),
            })
        }
    }
}

/// Clerk's error shape: `{"errors": [{"message", "long_message", "code"}]}`.
#[derive(Debug)]
pub struct ClerkError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ClerkError {
    fn not_found(what: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "resource_not_found",
            message: format!("{what} not found"),
        }
    }

    fn invalid(message: &str) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "form_param_invalid",
            message: message.into(),
        }
    }

    fn internal(message: &str) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_clerk_error",
            message: message.into(),
        }
    }
}

/// The answer of an injected fault, in Clerk's error shape.
fn fault_answer(status: StatusCode) -> Response {
    ClerkError {
        status,
        code: "internal_clerk_error",
        message: format!("Clerk could not complete the request ({}).", status.as_u16()),
    }
    .into_response()
}

impl IntoResponse for ClerkError {
    fn into_response(self) -> Response {
        let body = json!({"errors": [{"message": self.message, "long_message": self.message, "code": self.code}]});
        (self.status, Json(body)).into_response()
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Merges `patch` into `target` the way Clerk's metadata endpoint does: objects merge
/// key by key, recursively; `null` removes a key; anything else replaces.
pub fn deep_merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(&key);
                } else {
                    deep_merge(target.entry(key).or_insert(Value::Object(Map::new())), value);
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

/// Every request but a read may have changed the instance: save it afterwards.
async fn save_after_changes(
    State(clerk): State<Clerk>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let changes = req.method() != axum::http::Method::GET;
    let resp = next.run(req).await;
    if changes {
        clerk.save();
    }
    resp
}

async fn jwks(State(clerk): State<Clerk>, headers: HeaderMap) -> Result<Json<Value>, ClerkError> {
    clerk.jwks_requests.fetch_add(1, Ordering::Relaxed);
    clerk.authorize(&headers)?;
    let keys: Vec<Value> = clerk.instance().keys.iter().map(|k| k.jwk.clone()).collect();
    Ok(Json(json!({ "keys": keys })))
}

#[derive(Deserialize)]
struct CreateUser {
    #[serde(default)]
    email_address: Vec<String>,
}

async fn create_user(
    State(clerk): State<Clerk>,
    headers: HeaderMap,
    Json(body): Json<CreateUser>,
) -> Result<Json<Value>, ClerkError> {
    clerk.authorize(&headers)?;
    let email = body
        .email_address
        .first()
        .ok_or_else(|| ClerkError::invalid("email_address is required"))?;
    Ok(Json(clerk.instance().create_user(email)))
}

async fn get_user(
    State(clerk): State<Clerk>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ClerkError> {
    clerk.authorize(&headers)?;
    clerk.instance().users.get(&id).cloned().map(Json).ok_or_else(|| ClerkError::not_found("user"))
}

/// Clerk's `DELETE /v1/users/{id}`: the user is gone; later reads of it are `404`.
async fn delete_user(
    State(clerk): State<Clerk>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ClerkError> {
    clerk.authorize(&headers)?;
    clerk.instance().users.remove(&id).ok_or_else(|| ClerkError::not_found("user"))?;
    Ok(Json(json!({ "object": "user", "id": id, "deleted": true })))
}

async fn patch_metadata(
    State(clerk): State<Clerk>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ClerkError> {
    clerk.authorize(&headers)?;
    let mut instance = clerk.instance();
    let user = instance.users.get_mut(&id).ok_or_else(|| ClerkError::not_found("user"))?;
    for field in ["public_metadata", "private_metadata", "unsafe_metadata"] {
        if let Some(patch) = body.get(field) {
            if !patch.is_object() {
                return Err(ClerkError::invalid(&format!("{field} must be an object")));
            }
            deep_merge(&mut user[field], patch.clone());
        }
    }
    user["updated_at"] = json!(now_ms());
    Ok(Json(user.clone()))
}

#[derive(Deserialize)]
struct SignInQuery {
    redirect_url: Option<String>,
}

async fn sign_in_page(Query(query): Query<SignInQuery>) -> Html<String> {
    let redirect = html_escape(query.redirect_url.as_deref().unwrap_or(""));
    let body = format!(
        r#"<h1>Sign in</h1>
<p>This is the local Clerk stand-in: any email signs in, no password.</p>
<form method="post" action="/sign-in">
  <label for="email">Email</label><br>
  <input id="email" name="email" type="email" required autocomplete="email" style="width: 100%; padding: .5rem">
  <input type="hidden" name="redirect_url" value="{redirect}">
  <p><button type="submit" style="padding: .5rem 1rem">Sign in</button></p>
</form>"#
    );
    Html(html_page("Sign in (local Clerk stand-in)", &body))
}

#[derive(Deserialize)]
struct SignInForm {
    email: String,
    #[serde(default)]
    redirect_url: String,
}

/// Signs in (creating the user on first sign-in) and hands the session token to the
/// redirect URL as `__session`, or shows it.
async fn sign_in(
    State(clerk): State<Clerk>,
    Form(form): Form<SignInForm>,
) -> Result<Response, ClerkError> {
    let email = form.email.trim().to_ascii_lowercase();
    if !email.contains('@') {
        return Err(ClerkError::invalid("email must be an email address"));
    }
    let user_id = {
        let mut instance = clerk.instance();
        let user = match instance.user_by_email(&email) {
            Some(user) => user,
            None => instance.create_user(&email),
        };
        user["id"].as_str().unwrap_or_default().to_string()
    };
    // The token is for the app that asked: the redirect's origin, else the dashboard.
    let origin = form.redirect_url.split('/').take(3).collect::<Vec<_>>().join("/");
    let azp = if origin.is_empty() { DASHBOARD_ORIGIN } else { origin.as_str() };
    let token = clerk.mint(&user_id, Some(azp), SIGN_IN_SESSION_SECONDS)?;
    if form.redirect_url.is_empty() {
        let body = format!(
            "<h1>Signed in</h1><p>Signed in as {}. The session token:</p><pre>{token}</pre>",
            html_escape(&email)
        );
        return Ok(Html(html_page("Signed in (local Clerk stand-in)", &body)).into_response());
    }
    let separator = if form.redirect_url.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{}{separator}__session={token}", form.redirect_url)).into_response())
}

#[derive(Deserialize)]
struct DevSession {
    user_id: String,
    azp: Option<String>,
    expires_in_seconds: Option<i64>,
}

async fn dev_session(
    State(clerk): State<Clerk>,
    Json(body): Json<DevSession>,
) -> Result<Json<Value>, ClerkError> {
    let lifetime = body.expires_in_seconds.unwrap_or(TOKEN_LIFETIME_SECONDS);
    let token = clerk.mint(&body.user_id, body.azp.as_deref(), lifetime)?;
    Ok(Json(json!({ "jwt": token })))
}

async fn dev_rotate_keys(State(clerk): State<Clerk>) -> Result<Json<Value>, ClerkError> {
    let kid = clerk.rotate_keys().map_err(|e| ClerkError::internal(&e))?;
    Ok(Json(json!({ "kid": kid })))
}

async fn dev_jwks_requests(State(clerk): State<Clerk>) -> Json<Value> {
    Json(json!({ "count": clerk.jwks_requests.load(Ordering::Relaxed) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metadata_merge_adds_replaces_recurses_and_removes_nulls() {
        let mut target =
            json!({"plan": "free", "keep": 1, "nested": {"a": 1, "b": 2}, "gone": true});
        deep_merge(
            &mut target,
            json!({"plan": "paid", "nested": {"b": 3, "c": 4}, "gone": null, "new": [1]}),
        );
        assert_eq!(
            target,
            json!({"plan": "paid", "keep": 1, "nested": {"a": 1, "b": 3, "c": 4}, "new": [1]})
        );
    }
}
