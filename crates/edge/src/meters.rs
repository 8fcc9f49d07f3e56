//! The client side of the metering Durable Objects (which live in the api worker and
//! are bound by other workers with `script_name`). Messages are `dream_core::protocol`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;
use worker::{Env, Method, Request, RequestInit, Stub};

/// The stub of the object `name` in the namespace bound as `binding`.
pub fn stub(env: &Env, binding: &str, name: &str) -> worker::Result<Stub> {
    env.durable_object(binding)?.get_by_name(name)
}

/// Sends `command` to an object and reads its JSON reply.
pub async fn call<C: Serialize, R: DeserializeOwned>(
    stub: &Stub,
    path: &str,
    command: &C,
) -> worker::Result<R> {
    let body =
        serde_json::to_string(command).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let reply = exchange(stub, path, body).await?;
    serde_json::from_str(&reply)
        .map_err(|e| worker::Error::RustError(format!("meter {path} replied: {e}")))
}

/// The untyped round trip, kept out of [`call`] so that each command type adds only its
/// (de)serialization to the wasm, not another copy of the request code.
async fn exchange(stub: &Stub, path: &str, body: String) -> worker::Result<String> {
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(JsValue::from_str(&body)));
    let req = Request::new_with_init(&format!("https://meter{path}"), &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    let text = resp.text().await?;
    if resp.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "meter {path} answered {}: {text}",
            resp.status_code()
        )));
    }
    Ok(text)
}
