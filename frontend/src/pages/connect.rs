//! `/settings`: Stripe Connect — whether the developer's own Stripe account is
//! connected (production) or not (preview), and the ways to connect or disconnect.

use super::dashboard::signed_out;
use super::{go_to, post, query, use_read, Load};
use crate::answers::{ConnectStatus, Disconnected, StripePage};
use crate::api::Worker;
use crate::components::{Loading, Nav, ProblemView};
use crate::state::Problem;
use crate::{Ctx, Route};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
}

#[function_component(Connect)]
pub fn connect(props: &Props) -> Html {
    let ctx = &props.ctx;
    let version = use_state(|| 0u32);
    let status: Load<ConnectStatus> =
        use_read(ctx, Worker::StripeOAuth, "/v1/connect/status".into(), *version);
    let problem = use_state(|| None::<Problem>);
    let reload = {
        let version = version.clone();
        Callback::from(move |_| version.set(*version + 1))
    };
    let failed = {
        let problem = problem.clone();
        Callback::from(move |p| problem.set(Some(p)))
    };
    let to_stripe = Callback::from(|page: StripePage| go_to(&page.url));
    let to = |path: &'static str| {
        post(ctx, Worker::StripeOAuth, path, None, to_stripe.clone(), failed.clone())
    };
    let nav = html! { <Nav ctx={ctx.clone()} here={Route::Stripe} /> };
    let body = match status {
        None => html! { <Loading what="the Stripe connection" /> },
        Some(Err(p)) if p.status == 401 => signed_out(ctx),
        Some(Err(p)) => html! { <ProblemView problem={p} retry={reload} /> },
        Some(Ok(s)) => {
            let connected = s.connected;
            let account = s.stripe_user_id.unwrap_or_default();
            let reloaded = reload.clone();
            let disconnect = post(
                ctx,
                Worker::StripeOAuth,
                "/v1/connect/deauthorize",
                None,
                Callback::from(move |_: Disconnected| reloaded.emit(())),
                failed.clone(),
            );
            html! {
                <section class="card">
                    if query("connected").as_deref() == Some("1") { <p role="status" class="ok">{"Stripe is connected."}</p> }
                    if query("error").is_some() { <p role="alert">{"Stripe was not connected: the request was declined."}</p> }
                    if connected {
                        <p>{"Connected to "}<code>{ account }</code>{". Mode: "}<strong>{"production"}</strong>{" — your end-users pay you directly."}</p>
                        <button type="button" class="danger" onclick={disconnect}>{"Disconnect"}</button>
                    } else {
                        <p>{"Mode: "}<strong>{"preview"}</strong>{" — payments run on dream-api's Stripe account, for up to 100 end-users. Connect your own account to go live."}</p>
                        if !account.is_empty() { <p class="note">{ format!("Onboarding of {account} is not finished yet.") }</p> }
                        <button type="button" class="primary" onclick={to("/v1/connect/authorize")}>{"Connect with Stripe"}</button>
                        {" "}
                        <button type="button" onclick={to("/v1/connect/onboarding")}>{"Create a Stripe account"}</button>
                    }
                </section>
            }
        }
    };
    html! {
        <>
            { nav }
            <main class="page">
                <h1>{"Stripe"}</h1>
                if let Some(p) = &*problem { <ProblemView problem={p.clone()} /> }
                { body }
            </main>
        </>
    }
}
