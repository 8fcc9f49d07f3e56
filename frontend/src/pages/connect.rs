//! `/settings`: the developer's account, and Stripe Connect — whether their own Stripe
//! account is connected (production) or not (preview), and the ways to connect or
//! disconnect. Stripe sends the developer back here (`?connected=1`).

use super::{go_to, post, query, use_read, Load};
use crate::answers::{ConnectStatus, Disconnected, StripePage};
use crate::api::Worker;
use crate::components::{Loading, ProblemView, SignedOut};
use crate::dialog::Dialog;
use crate::state::Problem;
use crate::{Account, Ctx};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
}

#[function_component(Connect)]
pub fn connect(props: &Props) -> Html {
    let ctx = &props.ctx;
    let body = match &ctx.account {
        Account::Checking => html! { <Loading what="your account" /> },
        Account::SignedOut => html! { <SignedOut ctx={ctx.clone()} /> },
        Account::Failed(p) => {
            html! { <ProblemView problem={p.clone()} retry={ctx.refresh.clone()} /> }
        }
        Account::SignedIn { me, .. } => html! {
            <>
                <StripeConnection ctx={ctx.clone()} />
                <section class="card" aria-labelledby="account-title">
                    <h2 id="account-title">{"Account"}</h2>
                    <p>{"Signed in as "}<strong>{ me.email.clone().unwrap_or_else(|| me.user_id.clone()) }</strong></p>
                    <button type="button" onclick={ctx.sign_out.reform(|_: MouseEvent| ())}>{"Sign out of this browser"}</button>
                </section>
            </>
        },
    };
    html! { <main class="page"><h1>{"Settings"}</h1>{ body }</main> }
}

#[derive(Properties, PartialEq)]
struct StripeProps {
    ctx: Ctx,
}

#[function_component(StripeConnection)]
fn stripe_connection(props: &StripeProps) -> Html {
    let ctx = &props.ctx;
    let version = use_state(|| 0u32);
    let status: Load<ConnectStatus> =
        use_read(ctx, Worker::StripeOAuth, "/v1/connect/status".into(), *version);
    let problem = use_state(|| None::<Problem>);
    let asking = use_state(|| false);
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
    let body = match status {
        None => html! { <Loading what="the Stripe connection" /> },
        Some(Err(p)) => html! { <ProblemView problem={p} retry={reload} /> },
        Some(Ok(s)) if s.connected => {
            let account = s.stripe_user_id.unwrap_or_default();
            let done = {
                let (asking, reload, refresh) =
                    (asking.clone(), reload.clone(), ctx.refresh.clone());
                Callback::from(move |_: Disconnected| {
                    asking.set(false);
                    reload.emit(());
                    refresh.emit(());
                })
            };
            let disconnect = post(
                ctx,
                Worker::StripeOAuth,
                "/v1/connect/deauthorize",
                None,
                done,
                failed.clone(),
            );
            let (ask, close) = {
                let (a, b) = (asking.clone(), asking.clone());
                (
                    Callback::from(move |_: MouseEvent| a.set(true)),
                    Callback::from(move |_| b.set(false)),
                )
            };
            html! {
                <>
                    <p>{"Connected to "}<code>{ account.clone() }</code>{". Mode: "}<strong>{"production"}</strong>{" — your end-users pay you directly."}</p>
                    <button type="button" class="danger" onclick={ask}>{"Disconnect"}</button>
                    <Dialog open={*asking} id="disconnect-title" title="Disconnect Stripe?" on_close={close.clone()}>
                        <p>{ format!("Your platform goes back to preview: end-users' new payments run on dream-api's test account, for up to 100 end-users, until you connect again. Subscriptions already on {account} stay there.") }</p>
                        <div class="actions">
                            <button type="button" class="danger" onclick={disconnect}>{"Disconnect Stripe"}</button>
                            <button type="button" onclick={close.reform(|_: MouseEvent| ())}>{"Cancel"}</button>
                        </div>
                    </Dialog>
                </>
            }
        }
        Some(Ok(s)) => {
            let account = s.stripe_user_id.unwrap_or_default();
            html! {
                <>
                    <p>{"Mode: "}<strong>{"preview"}</strong>{" — payments run on dream-api's Stripe account, for up to 100 end-users. Connect your own account to go live."}</p>
                    if !account.is_empty() { <p class="note">{ format!("Onboarding of {account} is not finished yet.") }</p> }
                    <button type="button" class="primary" onclick={to("/v1/connect/authorize")}>{"Connect with Stripe"}</button>
                    {" "}
                    <button type="button" onclick={to("/v1/connect/onboarding")}>{"Create a Stripe account"}</button>
                </>
            }
        }
    };
    html! {
        <section class="card" aria-labelledby="stripe-title">
            <h2 id="stripe-title">{"Stripe"}</h2>
            if query("connected").as_deref() == Some("1") { <p role="status" class="ok">{"Stripe is connected."}</p> }
            if query("error").is_some() { <p role="alert">{"Stripe was not connected: the request was declined."}</p> }
            if let Some(p) = &*problem { <ProblemView problem={p.clone()} /> }
            { body }
        </section>
    }
}
