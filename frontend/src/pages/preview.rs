//! `/preview/{platformId}`: the developer's pricing table as their end-users see it
//! (public, no sign-in), and the demo: signed in as the platform's developer, each paid
//! tier's button starts a real checkout for the platform's demo end-user through the
//! platform's own billing, and the page shows the tier the demo end-user is on.

use super::{go_to, origin, query, send, sleep_ms, Load};
use crate::answers::{DemoUser, StripePage, TierList};
use crate::api::{self, Worker};
use crate::components::{Counter, Link, Loading, PricingTable, ProblemView};
use crate::state::Problem;
use crate::{Ctx, Route};
use dream_core::tier::Tier;
use serde_json::json;
use yew::prelude::*;

/// How many times the page looks for the demo end-user's new tier after checkout.
const DEMO_POLLS: u32 = 20;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
    pub platform_id: String,
}

#[function_component(Preview)]
pub fn preview(props: &Props) -> Html {
    let ctx = &props.ctx;
    let id = props.platform_id.clone();
    let tiers = use_state(|| Load::<TierList>::None);
    let version = use_reducer(Counter::default);
    {
        let (tiers, config, id) = (tiers.clone(), ctx.config.clone(), id.clone());
        use_effect_with((id.clone(), version.0), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                tiers.set(Some(api::public(&config, &format!("/v1/public/{id}/tiers")).await));
            });
        });
    }
    let retry = {
        let bump = version.dispatcher();
        Callback::from(move |_| bump.dispatch(()))
    };
    let owner = ctx.account.platform_id().as_deref() == Some(id.as_str());
    let body = match &*tiers {
        None => html! { <Loading what="the pricing" /> },
        Some(Err(p)) if p.status == 404 => {
            html! { <p class="empty">{"There is no platform with this id."}</p> }
        }
        Some(Err(p)) => html! { <ProblemView problem={p.clone()} {retry} /> },
        Some(Ok(list)) if owner => {
            html! { <Demo ctx={ctx.clone()} platform_id={id.clone()} tiers={list.tiers.clone()} /> }
        }
        Some(Ok(list)) => html! {
            <>
                <PricingTable tiers={list.tiers.clone()} />
                <p class="note">{"Signed in as this platform's developer, you can try each paid tier's checkout here as a demo end-user."}</p>
            </>
        },
    };
    // The public answer marks a platform in preview; its developer also knows it from /v1/me.
    let own_mode = ctx.account.me().and_then(|me| me.platform.as_ref()).map(|p| p.mode);
    let in_preview = matches!(&*tiers, Some(Ok(list)) if list.preview)
        || (owner && own_mode == Some(dream_core::platform::Mode::Preview));
    html! {
        <main class="page preview">
            <h1>{"Pricing"}</h1>
            <div class="banner" data-testid="preview-banner">
                <p><strong>{ format!("Preview of {id}") }</strong>{" — this is how your end-users see your pricing."}</p>
                if in_preview {
                    <p>{"This platform is in preview mode: payments run on dream-api's test Stripe account, so nothing real is charged."}</p>
                }
            </div>
            <p class="lead">{"Choose the plan that fits. Upgrade or cancel at any time."}</p>
            { body }
            <p><Link ctx={ctx.clone()} to={Route::Dashboard} label="Back to the dashboard" /></p>
        </main>
    }
}

#[derive(Properties, PartialEq)]
struct DemoProps {
    ctx: Ctx,
    platform_id: String,
    tiers: Vec<Tier>,
}

/// The pricing table with a checkout per paid tier for the demo end-user.
#[function_component(Demo)]
fn demo(props: &DemoProps) -> Html {
    let ctx = &props.ctx;
    let demo = use_state(|| Load::<DemoUser>::None);
    let problem = use_state(|| None::<Problem>);
    let polls = use_mut_ref(|| 0u32);
    let version = use_reducer(Counter::default);
    let purchased = query("demo").as_deref() == Some("purchased");
    let first = props.tiers.first().map(|t| t.id.to_string());
    {
        let (config, demo, bump, polls) =
            (ctx.config.clone(), demo.clone(), version.dispatcher(), polls.clone());
        use_effect_with(version.0, move |_| {
            let done = Callback::from(move |answer: Result<DemoUser, Problem>| {
                // After checkout, the tier follows Stripe's webhook: look again for a while.
                let waiting = matches!(&answer, Ok(d) if Some(&d.plan) == first.as_ref());
                demo.set(Some(answer));
                let mut polls = polls.borrow_mut();
                if purchased && waiting && *polls < DEMO_POLLS {
                    *polls += 1;
                    let bump = bump.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        sleep_ms(1500).await;
                        bump.dispatch(());
                    });
                }
            });
            send(&config, Worker::PlatformAuth, "GET", "/v1/demo", None, done);
        });
    }
    let on_tier = demo.as_ref().and_then(|d| d.as_ref().ok()).map(|d| d.plan.clone());
    let buy = {
        let (config, problem, id) =
            (ctx.config.clone(), problem.clone(), props.platform_id.clone());
        move |tier: &Tier| {
            let (config, problem) = (config.clone(), problem.clone());
            let here = format!("{}/preview/{id}", origin());
            let body = json!({
                "tier": tier.id,
                "successUrl": format!("{here}?demo=purchased"),
                "cancelUrl": here,
            });
            Callback::from(move |_: MouseEvent| {
                let problem = problem.clone();
                let done =
                    Callback::from(move |answer: Result<StripePage, Problem>| match answer {
                        Ok(page) => go_to(&page.url),
                        Err(p) => problem.set(Some(p)),
                    });
                let path = "/v1/demo/checkout";
                send(&config, Worker::PlatformAuth, "POST", path, Some(body.clone()), done);
            })
        }
    };
    let footer = {
        let on_tier = on_tier.clone();
        Callback::from(move |tier: Tier| {
            let current = on_tier.as_deref() == Some(tier.id.as_str());
            html! {
                <>
                    if current { <p class="badge">{"Demo end-user's plan"}</p> }
                    if !tier.is_free() && !current {
                        <button type="button" class="primary" onclick={buy(&tier)}>{ format!("Try {} as the demo end-user", tier.name) }</button>
                    }
                </>
            }
        })
    };
    let tier_name = |id: &str| {
        props.tiers.iter().find(|t| t.id.as_str() == id).map_or(id.to_string(), |t| t.name.clone())
    };
    let status = match (&*demo, purchased) {
        (Some(Ok(d)), true)
            if Some(&d.plan) != props.tiers.first().map(|t| t.id.to_string()).as_ref() =>
        {
            html! { <p role="status" class="ok" data-testid="demo-tier">{ format!("The demo end-user is on {}.", tier_name(&d.plan)) }</p> }
        }
        (_, true) => {
            html! { <p role="status">{"Waiting for Stripe to confirm the demo end-user's payment…"}</p> }
        }
        (Some(Err(p)), false) => html! { <ProblemView problem={p.clone()} /> },
        _ => html! {},
    };
    html! {
        <>
            <p>{"You are this platform's developer: each paid tier below starts a real checkout for your demo end-user, through your platform's billing. In preview, pay with Stripe's test card."}</p>
            { status }
            if let Some(p) = &*problem { <ProblemView problem={p.clone()} /> }
            <PricingTable tiers={props.tiers.clone()} footer={Some(footer)} />
        </>
    }
}
