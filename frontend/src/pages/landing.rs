//! The landing page (what dream-api is, a first call to copy, our plans) and the
//! return from the sign-in page.

use crate::auth;
use crate::components::{Link, SignInLink, Snippet};
use crate::snippets;
use crate::{Account, Ctx, Route};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
}

#[function_component(Landing)]
pub fn landing(props: &Props) -> Html {
    let ctx = &props.ctx;
    let api_url = ctx.config.api_url.trim_end_matches('/').to_string();
    let action = match ctx.account {
        Account::SignedIn { .. } => html! {
            <Link ctx={ctx.clone()} to={Route::Dashboard} label="Open the dashboard" class="button primary" />
        },
        _ => {
            html! { <SignInLink ctx={ctx.clone()} primary=true label="Sign in to get your API key" /> }
        }
    };
    html! {
        <main class="page landing">
            <section class="hero">
                <h1>{"dream-api"}</h1>
                <p class="lead">{"Sign-in, paid plans and usage limits for your app in five lines of code, on infrastructure you never run."}</p>
                { action }
            </section>
            <section aria-labelledby="quickstart">
                <h2 id="quickstart">{"Quickstart"}</h2>
                <p>{"Sign in to get your API key, put it in "}<code>{"DREAM_API_KEY"}</code>{" on your server, and ask dream-api before each metered action. With the TypeScript client:"}</p>
                <Snippet text={snippets::sdk(&api_url, None)} testid="quickstart-sdk" copy="Copy the SDK example" label="TypeScript example" />
                <p>{"Or with curl:"}</p>
                <Snippet text={snippets::curl(&api_url, None)} testid="quickstart-curl" copy="Copy the curl example" label="curl example" />
                <p>
                    {"Every route is in the "}<a href="/docs/">{"API reference"}</a>{", with example apps (and in the "}<a href={format!("{api_url}/openapi.json")}>{"OpenAPI document"}</a>
                    {"); tiers, checkout and the Rust client are in the "}<a href="/README.md">{"README"}</a>{"."}
                </p>
            </section>
            <section aria-labelledby="plans">
                <h2 id="plans">{"Our plans"}</h2>
                <div class="pricing">
                    <article class="tier" aria-label="Free plan"><h3>{"Free"}</h3><p class="price">{"$0"}</p>
                        <p>{"5 metered calls / month, preview mode for your end-users' payments"}</p></article>
                    <article class="tier popular" aria-label="Paid plan"><p class="badge">{"For launch"}</p><h3>{"Paid"}</h3><p class="price">{"$29 / month"}</p>
                        <p>{"500 metered calls / month; connect your own Stripe account"}</p></article>
                </div>
            </section>
        </main>
    }
}

/// `/auth/callback?__session=…`: keeps the session and opens the dashboard.
#[function_component(AuthCallback)]
pub fn auth_callback(props: &Props) -> Html {
    let (navigate, refresh) = (props.ctx.navigate.clone(), props.ctx.refresh.clone());
    use_effect_with((), move |_| {
        if let Some(token) = super::query("__session") {
            auth::keep(&token);
            refresh.emit(());
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
            }
            navigate.emit(Route::Dashboard);
        } else {
            navigate.emit(Route::Landing);
        }
    });
    html! { <main class="page"><crate::components::Loading what="your session" /></main> }
}
