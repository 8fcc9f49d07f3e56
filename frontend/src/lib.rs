//! The dream-api dashboard: what a developer sees. Sign in, get an API key, define
//! tiers, watch usage and revenue, read the request log, upgrade, connect Stripe, share
//! a preview, receive webhooks. A Yew (csr) app served as static files; it calls only
//! the HTTP contract (API.md) of the three workers, whose addresses it reads from
//! `/config.json`.
//!
//! [`state`] holds what is shown as plain functions and [`tier_editor`] the tier
//! editor's state (both tested natively); [`answers`] types what the workers answer;
//! [`webhooks_state`] what the Webhooks page and the usage alerts show; [`logs_state`]
//! the request log; [`charts`] the charts and the revenue card; [`period`] calendar
//! dates and the billing period in words; [`api`] and [`auth`] are the browser's side;
//! [`pages`] are the screens.

pub mod answers;
pub mod api;
pub mod auth;
pub mod charts;
pub mod components;
pub mod dialog;
pub mod logs_state;
pub mod pages;
pub mod period;
pub mod snippets;
pub mod state;
pub mod tier_editor;
pub mod time;
pub mod webhooks_state;

use answers::Me;
use api::Config;
use std::rc::Rc;
use yew::prelude::*;

/// The screens, by path. Each is named for what it shows; `/settings` is where Stripe
/// Connect sends the developer back (API.md), so the Stripe connection lives there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Landing,
    AuthCallback,
    Dashboard,
    Tiers,
    Webhooks,
    Logs,
    Settings,
    Preview(String),
    NotFound,
}

impl Route {
    pub fn parse(path: &str) -> Self {
        let path = path.trim_end_matches('/');
        match path {
            "" => Self::Landing,
            "/auth/callback" => Self::AuthCallback,
            "/dashboard" => Self::Dashboard,
            "/tiers" => Self::Tiers,
            "/webhooks" => Self::Webhooks,
            "/logs" => Self::Logs,
            "/settings" => Self::Settings,
            _ => match path.strip_prefix("/preview/") {
                Some(id) if !id.is_empty() && !id.contains('/') => Self::Preview(id.to_string()),
                _ => Self::NotFound,
            },
        }
    }

    pub fn path(&self) -> String {
        match self {
            Self::Landing => "/".into(),
            Self::AuthCallback => "/auth/callback".into(),
            Self::Dashboard => "/dashboard".into(),
            Self::Tiers => "/tiers".into(),
            Self::Webhooks => "/webhooks".into(),
            Self::Logs => "/logs".into(),
            Self::Settings => "/settings".into(),
            Self::Preview(id) => format!("/preview/{id}"),
            Self::NotFound => "/404".into(),
        }
    }
}

/// Moves to another screen without reloading the app.
pub type Navigate = Callback<Route>;

/// Who is signed in, as every screen sees it: one `GET /v1/me` for the whole app,
/// read again when the session changes (in any tab) or a screen asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Account {
    /// Not known yet (the first read is on its way).
    Checking,
    SignedOut,
    /// The developer, and when this was read (local time, `HH:MM:SS`).
    SignedIn {
        me: Rc<Me>,
        read_at: String,
    },
    /// The read failed for another reason than the session.
    Failed(state::Problem),
}

impl Account {
    pub fn me(&self) -> Option<&Me> {
        match self {
            Self::SignedIn { me, .. } => Some(me),
            _ => None,
        }
    }

    /// The developer's platform id, once they have one.
    pub fn platform_id(&self) -> Option<String> {
        self.me()?.platform.as_ref().map(|p| p.platform_id.to_string())
    }
}

/// What every screen gets.
#[derive(Clone, PartialEq)]
pub struct Ctx {
    pub config: Rc<Config>,
    pub navigate: Navigate,
    pub account: Account,
    /// Reads `/v1/me` again (after a change, or to refresh).
    pub refresh: Callback<()>,
    /// Ends the session in every tab and goes to the landing page.
    pub sign_out: Callback<()>,
}

fn current_path() -> String {
    web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_else(|| "/".into())
}

/// Reads `/v1/me` when there is a session; `SignedOut` without asking when there is none.
async fn read_account(config: &Config) -> Account {
    if auth::token(&config.auth).await.is_none() {
        return Account::SignedOut;
    }
    let answer = api::call(config, api::Worker::PlatformAuth, "GET", "/v1/me", None).await;
    match answer.and_then(|(status, text)| answers::read::<Me>(status, &text)) {
        Ok(me) => Account::SignedIn { me: Rc::new(me), read_at: time::now_hms() },
        Err(p) if p.status == 401 => Account::SignedOut,
        Err(p) => Account::Failed(p),
    }
}

#[function_component(App)]
pub fn app() -> Html {
    let config = use_state(|| None::<Result<Rc<Config>, state::Problem>>);
    let route = use_state(|| Route::parse(&current_path()));
    let account = use_state(|| Account::Checking);
    let account_version = use_reducer(components::Counter::default);
    let refresh = {
        let bump = account_version.dispatcher();
        Callback::from(move |_| bump.dispatch(()))
    };
    {
        let (config, refresh) = (config.clone(), refresh.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let loaded = api::load_config().await.map(Rc::new);
                if let Ok(c) = &loaded {
                    auth::start(&c.auth).await;
                    auth::on_change(&c.auth, refresh);
                }
                config.set(Some(loaded));
            });
        });
    }
    {
        let (account, loaded) = (account.clone(), (*config).clone());
        use_effect_with((loaded, account_version.0), move |(loaded, _)| {
            if let Some(Ok(config)) = loaded.clone() {
                wasm_bindgen_futures::spawn_local(async move {
                    account.set(read_account(&config).await);
                });
            }
        });
    }
    {
        // The browser's back and forward buttons.
        let route = route.clone();
        use_effect_with((), move |_| {
            let listener = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
                route.set(Route::parse(&current_path()))
            });
            if let Some(w) = web_sys::window() {
                let _ = w.add_event_listener_with_callback(
                    "popstate",
                    wasm_bindgen::JsCast::unchecked_ref(listener.as_ref()),
                );
            }
            listener.forget();
        });
    }
    let navigate = {
        let route = route.clone();
        Callback::from(move |to: Route| {
            if *route != to && *route == Route::Tiers && !tier_editor::confirm_leaving_tiers() {
                return;
            }
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                let _ =
                    history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&to.path()));
            }
            if let Some(w) = web_sys::window() {
                w.scroll_to_with_x_and_y(0.0, 0.0);
            }
            route.set(to);
        })
    };
    let body = match &*config {
        None => html! { <components::Loading what="dream-api" /> },
        Some(Err(problem)) => html! { <components::ProblemView problem={problem.clone()} /> },
        Some(Ok(config)) => {
            let sign_out = {
                let (config, navigate, refresh) =
                    (config.clone(), navigate.clone(), refresh.clone());
                Callback::from(move |_| {
                    let (config, navigate, refresh) =
                        (config.clone(), navigate.clone(), refresh.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        auth::sign_out(&config.auth).await;
                        refresh.emit(());
                        navigate.emit(Route::Landing);
                    });
                })
            };
            let ctx = Ctx {
                config: config.clone(),
                navigate: navigate.clone(),
                account: (*account).clone(),
                refresh,
                sign_out,
            };
            screen(ctx, (*route).clone())
        }
    };
    html! { <>{ body }</> }
}

/// The header and the screen at `route`.
fn screen(ctx: Ctx, route: Route) -> Html {
    let here = route.clone();
    let page = match route {
        Route::Landing => html! { <pages::landing::Landing ctx={ctx.clone()} /> },
        Route::AuthCallback => html! { <pages::landing::AuthCallback ctx={ctx.clone()} /> },
        Route::Dashboard => html! { <pages::dashboard::Dashboard ctx={ctx.clone()} /> },
        Route::Tiers => html! { <pages::tiers::Tiers ctx={ctx.clone()} /> },
        Route::Webhooks => html! { <pages::webhooks::Webhooks ctx={ctx.clone()} /> },
        Route::Logs => html! { <pages::logs::Logs ctx={ctx.clone()} /> },
        Route::Settings => html! { <pages::connect::Connect ctx={ctx.clone()} /> },
        Route::Preview(id) => {
            html! { <pages::preview::Preview ctx={ctx.clone()} platform_id={id} /> }
        }
        Route::NotFound => html! {
            <main class="page"><h1>{"Not found"}</h1><p>{"There is no page here."}</p>
            <components::Link ctx={ctx.clone()} to={Route::Landing} label="Home" /></main>
        },
    };
    html! {
        <>
            <components::Nav ctx={ctx} {here} />
            { page }
        </>
    }
}

/// Starts the app (the wasm module's entry point in the browser).
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    yew::Renderer::<App>::new().render();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_screen_has_a_path_that_reads_back_as_itself() {
        for route in [
            Route::Landing,
            Route::Dashboard,
            Route::Tiers,
            Route::Webhooks,
            Route::Logs,
            Route::Settings,
            Route::Preview("plt_0123456789ab".into()),
        ] {
            assert_eq!(Route::parse(&route.path()), route);
        }
        assert_eq!(Route::parse("/dashboard/"), Route::Dashboard);
        assert_eq!(Route::parse("/webhooks/"), Route::Webhooks);
        assert_eq!(Route::parse("/logs/"), Route::Logs);
        assert_eq!(Route::parse("/preview/"), Route::NotFound);
        assert_eq!(Route::parse("/preview/a/b"), Route::NotFound);
    }
}
