//! The client side of the metering Durable Objects (which live in the api worker and
//! are bound by other workers with `script_name`). Messages are `dream_core::protocol`.
//!
//! A command is one `fetch` to the object, its reply read by [`crate::http::reply_text`].

use crate::http;
use js_sys::Promise;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;
use worker::Env;

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// A Durable Object stub as the runtime gives it.
    #[derive(Debug, Clone)]
    pub type Meter;

    #[wasm_bindgen(method, catch)]
    fn fetch(this: &Meter, url: &str, init: &web_sys::RequestInit) -> Result<Promise, JsValue>;
}

/// The stub of the object `name` in the namespace bound as `binding`.
pub fn stub(env: &Env, binding: &str, name: &str) -> worker::Result<Meter> {
    Ok(env.durable_object(binding)?.get_by_name(name)?.into_rpc())
}

/// Sends `command` to an object and reads its JSON reply.
pub async fn call<C: Serialize, R: DeserializeOwned>(
    meter: &Meter,
    path: &str,
    command: &C,
) -> worker::Result<R> {
    let body =
        serde_json::to_string(command).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let reply = exchange(meter, path, body).await?;
    serde_json::from_str(&reply)
        .map_err(|e| worker::Error::RustError(format!("meter {path} replied: {e}")))
}

/// The untyped round trip, kept out of [`call`] so that each command type adds only its
/// (de)serialization to the wasm, not another copy of the request code.
async fn exchange(meter: &Meter, path: &str, body: String) -> worker::Result<String> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&body));
    let (status, text) =
        http::reply_text(meter.fetch(&format!("https://meter{path}"), &init)?).await?;
    if status != 200 {
        return Err(worker::Error::RustError(format!("meter {path} answered {status}: {text}")));
    }
    Ok(text)
}
