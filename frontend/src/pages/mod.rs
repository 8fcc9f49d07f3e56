//! The screens.

pub mod connect;
pub mod dashboard;
pub mod landing;
pub mod preview;
pub mod tiers;

use crate::answers::read;
use crate::api::{self, Config, RawAnswer, Worker};
use crate::state::Problem;
use crate::Ctx;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::rc::Rc;
use yew::prelude::*;

/// What a screen has of one API read: not yet, the answer, or the problem.
pub type Load<T> = Option<Result<T, Problem>>;

/// Reads `path` from `worker` as the developer, again whenever `version` changes.
#[hook]
pub fn use_read<T>(ctx: &Ctx, worker: Worker, path: String, version: u32) -> Load<T>
where
    T: DeserializeOwned + Clone + 'static,
{
    let result = use_state(|| None);
    {
        let (result, config) = (result.clone(), ctx.config.clone());
        use_effect_with((path.clone(), version), move |_| {
            let done = Callback::from(move |answer| result.set(Some(answer)));
            send(&config, worker, "GET", &path, None, done);
        });
    }
    (*result).clone()
}

/// Makes a call as the developer in the background; `done` gets its outcome.
pub fn send<T: DeserializeOwned + 'static>(
    config: &Rc<Config>,
    worker: Worker,
    method: &'static str,
    path: &str,
    body: Option<Value>,
    done: Callback<Result<T, Problem>>,
) {
    let done = done.reform(|answer: RawAnswer| answer.and_then(|(s, text)| read(s, &text)));
    let (config, path) = (config.clone(), path.to_string());
    // Not generic: one copy of the call's future whatever the answers' types.
    wasm_bindgen_futures::spawn_local(async move {
        done.emit(api::call(&config, worker, method, &path, body).await);
    });
}

/// A button that posts `body` to `path` as the developer: `then` gets the answer,
/// `failed` the problem.
pub fn post<T: DeserializeOwned + 'static>(
    ctx: &Ctx,
    worker: Worker,
    path: &'static str,
    body: Option<Value>,
    then: Callback<T>,
    failed: Callback<Problem>,
) -> Callback<MouseEvent> {
    let config = ctx.config.clone();
    Callback::from(move |_| {
        let (then, failed) = (then.clone(), failed.clone());
        let done = Callback::from(move |outcome: Result<T, Problem>| match outcome {
            Ok(answer) => then.emit(answer),
            Err(problem) => failed.emit(problem),
        });
        send(&config, worker, "POST", path, body.clone(), done);
    })
}

/// Sends the browser to `url` (Stripe's pages).
pub fn go_to(url: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_href(url);
    }
}

pub fn origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

/// A query parameter of the page's address.
pub fn query(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
}
