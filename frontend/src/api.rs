//! The dashboard's only way out: HTTP to the three workers, as API.md describes them,
//! with the signed-in developer's session token.

use crate::auth;
use crate::state::Problem;
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

async fn fetch_json(
    url: &str,
    method: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<Value, Problem> {
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
    let status = response.status();
    let text = JsFuture::from(response.text().map_err(js_error)?).await.map_err(js_error)?;
    let text = text.as_string().unwrap_or_default();
    let json: Value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    if (200..300).contains(&status) {
        Ok(json)
    } else {
        Err(Problem::from_answer(status, &json))
    }
}

/// `/config.json` beside the app.
pub async fn load_config() -> Result<Config, Problem> {
    let value = fetch_json("/config.json", "GET", None, None).await?;
    serde_json::from_value(value).map_err(|e| Problem::network(&format!("config.json: {e}")))
}

/// A call as the signed-in developer. A `401` ends the session (the caller then shows
/// the sign-in).
pub async fn call(
    config: &Config,
    worker: Worker,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<Value, Problem> {
    let token = auth::token(&config.auth).await;
    let url = format!("{}{path}", config.base(worker));
    let result = fetch_json(&url, method, token.as_deref(), body.as_ref()).await;
    if matches!(&result, Err(p) if p.status == 401) {
        auth::forget();
    }
    result
}

/// A call that needs no session (public pricing).
pub async fn public(config: &Config, path: &str) -> Result<Value, Problem> {
    fetch_json(&format!("{}{path}", config.api_url), "GET", None, None).await
}
