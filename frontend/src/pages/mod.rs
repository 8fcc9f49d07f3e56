//! The screens.

pub mod alerts;
pub mod charts;
pub mod connect;
pub mod dashboard;
pub mod landing;
pub mod logs;
pub mod preview;
pub mod tiers;
pub mod webhooks;

use crate::answers::read;
use crate::api::{self, Config, RawAnswer, Worker};
use crate::components::{Link, Loading, ProblemView, SignedOut};
use crate::state::Problem;
use crate::{Account, Ctx, Route};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// A screen of what belongs to the platform (`what`: "Your tiers"): the account being
/// read, the sign-in, or where to start before credentials exist, so that nothing is
/// asked of the backend that it would refuse; `body` once there is a platform.
pub fn platform_screen(ctx: &Ctx, what: &str, body: impl FnOnce() -> Html) -> Html {
    match &ctx.account {
        Account::Checking => html! { <Loading what="your account" /> },
        Account::SignedOut => html! { <SignedOut ctx={ctx.clone()} /> },
        Account::Failed(p) => {
            html! { <ProblemView problem={p.clone()} retry={ctx.refresh.clone()} /> }
        }
        Account::SignedIn { me, .. } if me.platform.is_none() => html! {
            <p>{ format!("{what} belong to your platform: ") }
                <Link ctx={ctx.clone()} to={Route::Dashboard} label="create your credentials on the dashboard" />
                {" first."}</p>
        },
        Account::SignedIn { .. } => body(),
    }
}

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

/// Calls `tick` every `ms` while the tab is visible, and at once when it becomes
/// visible again; nothing while it is hidden. `tick` must stay valid for the screen's
/// life (a reducer's dispatcher, or a callback over one).
#[hook]
pub fn use_refresh_while_visible(ms: i32, tick: Callback<()>) {
    use_effect_with((), move |_| {
        let visible = || {
            web_sys::window()
                .and_then(|w| w.document())
                .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
        };
        let on_interval = {
            let tick = tick.clone();
            wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
                if visible() {
                    tick.emit(());
                }
            })
        };
        let on_visible = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
            if visible() {
                tick.emit(());
            }
        });
        let window = web_sys::window();
        let document = window.as_ref().and_then(|w| w.document());
        let interval = window.as_ref().and_then(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(
                on_interval.as_ref().unchecked_ref(),
                ms,
            )
            .ok()
        });
        if let Some(d) = &document {
            let _ = d.add_event_listener_with_callback(
                "visibilitychange",
                on_visible.as_ref().unchecked_ref(),
            );
        }
        move || {
            if let (Some(w), Some(id)) = (&window, interval) {
                w.clear_interval_with_handle(id);
            }
            if let Some(d) = &document {
                let _ = d.remove_event_listener_with_callback(
                    "visibilitychange",
                    on_visible.as_ref().unchecked_ref(),
                );
            }
            drop(on_interval);
        }
    });
}

/// Waits `ms` (the browser's timer).
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
