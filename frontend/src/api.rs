//! The dashboard's only way out: HTTP to the three workers, as API.md describes them,
//! with the signed-in developer's session token.

use crate::answers::read;
use crate::auth;
use crate::state::Problem;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// Where the workers are (`/config.json`, written where the dashboard is deployed).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub api_url: String,
    pub platform_auth_url: String,
    pub stripe_oauth_url: String,
    pub auth: auth::Provider,
}

/// Which worker a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worker {
    Api,
    PlatformAuth,
    StripeOAuth,
}

impl Config {
    fn base(&self, worker: Worker) -> &str {
        match worker {
            Worker::Api => &self.api_url,
            Worker::PlatformAuth => &self.platform_auth_url,
            Worker::StripeOAuth => &self.stripe_oauth_url,
        }
    }
}

fn js_error(e: JsValue) -> Problem {
    Problem::network(&e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

/// One request; the answer read as `T` (see [`read`]).
async fn fetch_json<T: DeserializeOwned>(
    url: &str,
    method: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<T, Problem> {
    let (status, text) = fetch_text(url, method, token, body).await?;
    read(status, &text)
}

/// The status and body of one request, or the network's failure. Not generic, so the
/// browser calls are compiled once whatever the answers' types.
async fn fetch_text(
    url: &str,
    method: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, String), Problem> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(js_error)?;
    if let Some(token) = token {
        headers.set("Authorization", &format!("Bearer {token}")).map_err(js_error)?;
    }
    if let Some(body) = body {
        headers.set("Content-Type", "application/json").map_err(js_error)?;
        init.set_body(&JsValue::from_str(&body.to_string()));
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(url, &init).map_err(js_error)?;
    let window = web_sys::window().ok_or_else(|| Problem::network("no window"))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(js_error)?
        .dyn_into()
        .map_err(js_error)?;
    let text = JsFuture::from(response.text().map_err(js_error)?).await.map_err(js_error)?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}

/// `/config.json` beside the app.
pub async fn load_config() -> Result<Config, Problem> {
    fetch_json("/config.json", "GET", None, None).await
}

/// An answer as it came (status and body), for [`read`] to type.
pub type RawAnswer = Result<(u16, String), Problem>;

/// A call as the signed-in developer. A `401` ends the session (the caller then shows
/// the sign-in). The answer is left untyped here, so this code exists once in the app
/// whatever the answers' types.
pub async fn call(
    config: &Config,
    worker: Worker,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> RawAnswer {
    let token = auth::token(&config.auth).await;
    let url = format!("{}{path}", config.base(worker));
    let (status, text) = fetch_text(&url, method, token.as_deref(), body.as_ref()).await?;
    if status == 401 {
        auth::forget();
    }
    Ok((status, text))
}

/// A call that needs no session (public pricing).
pub async fn public<T: DeserializeOwned>(config: &Config, path: &str) -> Result<T, Problem> {
    fetch_json(&format!("{}{path}", config.api_url), "GET", None, None).await
}
