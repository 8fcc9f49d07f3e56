//! The dream-api dashboard: what a developer sees. Sign in, get an API key, define
//! tiers, watch usage, upgrade, connect Stripe, share a preview. A Yew (csr) app served
//! as static files; it calls only the HTTP contract (API.md) of the three workers,
//! whose addresses it reads from `/config.json`.
//!
//! [`state`] holds what is shown as plain functions and [`tier_editor`] the tier
//! editor's state (both tested natively); [`answers`] types what the workers answer;
//! [`api`] and [`auth`] are the browser's side; [`pages`] are the screens.

pub mod answers;
pub mod api;
pub mod auth;
pub mod components;
pub mod pages;
pub mod state;
pub mod tier_editor;

use api::Config;
use std::rc::Rc;
use yew::prelude::*;

/// The screens, by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Landing,
    AuthCallback,
    Dashboard,
    Tiers,
    Stripe,
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
            "/settings" => Self::Stripe,
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
            Self::Stripe => "/settings".into(),
            Self::Preview(id) => format!("/preview/{id}"),
            Self::NotFound => "/404".into(),
        }
    }
}

/// Moves to another screen without reloading the app.
pub type Navigate = Callback<Route>;

/// What every screen gets.
#[derive(Clone, PartialEq)]
pub struct Ctx {
    pub config: Rc<Config>,
    pub navigate: Navigate,
}

fn current_path() -> String {
    web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_else(|| "/".into())
}

#[function_component(App)]
pub fn app() -> Html {
    let config = use_state(|| None::<Result<Rc<Config>, state::Problem>>);
    let route = use_state(|| Route::parse(&current_path()));
    {
        let config = config.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let loaded = api::load_config().await.map(Rc::new);
                if let Ok(c) = &loaded {
                    auth::start(&c.auth).await;
                }
                config.set(Some(loaded));
            });
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
            let ctx = Ctx { config: config.clone(), navigate: navigate.clone() };
            match (*route).clone() {
                Route::Landing => html! { <pages::landing::Landing ctx={ctx} /> },
                Route::AuthCallback => html! { <pages::landing::AuthCallback ctx={ctx} /> },
                Route::Dashboard => html! { <pages::dashboard::Dashboard ctx={ctx} /> },
                Route::Tiers => html! { <pages::tiers::Tiers ctx={ctx} /> },
                Route::Stripe => html! { <pages::connect::Connect ctx={ctx} /> },
                Route::Preview(id) => {
                    html! { <pages::preview::Preview ctx={ctx} platform_id={id} /> }
                }
                Route::NotFound => html! {
                    <main class="page"><h1>{"Not found"}</h1><p>{"There is no page here."}</p>
                    <components::Link ctx={ctx} to={Route::Landing} label="Home" /></main>
                },
            }
        }
    };
    html! { <>{ body }</> }
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
            Route::Stripe,
            Route::Preview("plt_0123456789ab".into()),
        ] {
            assert_eq!(Route::parse(&route.path()), route);
        }
        assert_eq!(Route::parse("/dashboard/"), Route::Dashboard);
        assert_eq!(Route::parse("/preview/"), Route::NotFound);
        assert_eq!(Route::parse("/preview/a/b"), Route::NotFound);
    }
}
