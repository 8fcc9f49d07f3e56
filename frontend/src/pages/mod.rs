//! The screens.

pub mod connect;
pub mod dashboard;
pub mod landing;
pub mod preview;
pub mod tiers;

use crate::api::{self, Worker};
use crate::state::Problem;
use crate::Ctx;
use serde_json::Value;
use yew::prelude::*;

/// What a screen has of one API read: not yet, the answer, or the problem.
pub type Load = Option<Result<Value, Problem>>;

/// Reads `path` from `worker` as the developer, again whenever `version` changes.
#[hook]
pub fn use_read(ctx: &Ctx, worker: Worker, path: String, version: u32) -> Load {
    let result = use_state(|| None);
    {
        let (result, config) = (result.clone(), ctx.config.clone());
        use_effect_with((path.clone(), version), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                result.set(Some(api::call(&config, worker, "GET", &path, None).await));
            });
        });
    }
    (*result).clone()
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
