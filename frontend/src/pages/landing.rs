//! The landing page (what dream-api is, the five lines, our plans) and the return from
//! the sign-in page.

use crate::auth::{self, Provider};
use crate::components::Link;
use crate::{Ctx, Route};
use yew::prelude::*;

const FIVE_LINES: &str = r#"# 1. Your API key comes from this dashboard.
# 2. Define tiers once (or here, under Tiers):
curl -X PUT $API/v1/tiers -H "Authorization: Bearer $KEY" \
  -d '{"tiers":[{"id":"free","name":"Free","priceCents":0,"limit":100}]}'
# 3. Before each metered action, for the signed-in end-user:
curl -X POST $API/v1/usage/track -H "Authorization: Bearer $KEY" -d '{"userId":"user_123"}'
# 200 = go ahead; 403 tier_limit_reached = show your upgrade screen"#;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
}

fn sign_in_link(provider: &Provider) -> Html {
    match provider {
        Provider::Local { sign_in_url } => {
            let back = format!("{}/auth/callback", super::origin());
            let href = format!(
                "{sign_in_url}?redirect_url={}",
                String::from(js_sys::encode_uri_component(&back))
            );
            html! { <a class="button primary" {href}>{"Sign in"}</a> }
        }
        Provider::Clerk { .. } => {
            let provider = provider.clone();
            let onclick = Callback::from(move |e: MouseEvent| {
                e.prevent_default();
                let provider = provider.clone();
                wasm_bindgen_futures::spawn_local(async move { auth::sign_in(&provider).await });
            });
            html! { <a class="button primary" href="#sign-in" {onclick}>{"Sign in"}</a> }
        }
    }
}

#[function_component(Landing)]
pub fn landing(props: &Props) -> Html {
    let signed_in = use_state(|| false);
    {
        let (signed_in, provider) = (signed_in.clone(), props.ctx.config.auth.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                signed_in.set(auth::token(&provider).await.is_some())
            });
        });
    }
    let action = if *signed_in {
        html! { <Link ctx={props.ctx.clone()} to={Route::Dashboard} label="Open the dashboard" /> }
    } else {
        sign_in_link(&props.ctx.config.auth)
    };
    html! {
        <main class="page landing">
            <section class="hero">
                <h1>{"dream-api"}</h1>
                <p class="lead">{"Sign-in, paid plans and usage limits for your app in five lines of code, on infrastructure you never run."}</p>
                { action }
            </section>
            <section aria-labelledby="five-lines">
                <h2 id="five-lines">{"Five lines"}</h2>
                <pre><code>{ FIVE_LINES }</code></pre>
            </section>
            <section aria-labelledby="plans">
                <h2 id="plans">{"Our plans"}</h2>
                <div class="pricing">
                    <article class="tier"><h3>{"Free"}</h3><p class="price">{"$0"}</p>
                        <p>{"5 metered calls / month, preview mode for your end-users' payments"}</p></article>
                    <article class="tier popular"><p class="badge">{"For launch"}</p><h3>{"Paid"}</h3><p class="price">{"$29 / month"}</p>
                        <p>{"500 metered calls / month; connect your own Stripe account"}</p></article>
                </div>
            </section>
        </main>
    }
}

/// `/auth/callback?__session=…`: keeps the session and opens the dashboard.
#[function_component(AuthCallback)]
pub fn auth_callback(props: &Props) -> Html {
    let navigate = props.ctx.navigate.clone();
    use_effect_with((), move |_| {
        if let Some(token) = super::query("__session") {
            auth::keep(&token);
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
            }
            navigate.emit(Route::Dashboard);
        } else {
            navigate.emit(Route::Landing);
        }
    });
    html! { <crate::components::Loading what="your session" /> }
}
