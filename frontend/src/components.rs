//! Pieces every screen uses: loading and error states, links, the navigation, the
//! pricing table, a copy button.

use crate::state::{limit_text, money, Problem};
use crate::{Ctx, Route};
use dream_core::tier::Tier;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LoadingProps {
    pub what: AttrValue,
}

#[function_component(Loading)]
pub fn loading(props: &LoadingProps) -> Html {
    html! { <p class="loading" role="status" aria-live="polite">{ format!("Loading {}…", props.what) }</p> }
}

#[derive(Properties, PartialEq)]
pub struct ProblemProps {
    pub problem: Problem,
    #[prop_or_default]
    pub retry: Option<Callback<()>>,
}

/// An error with what to do about it, and a retry when one makes sense.
#[function_component(ProblemView)]
pub fn problem_view(props: &ProblemProps) -> Html {
    let retry = props.retry.clone().map(|retry| {
        html! { <button type="button" onclick={Callback::from(move |_| retry.emit(()))}>{"Retry"}</button> }
    });
    html! {
        <div class="problem" role="alert">
            <p><strong>{ &props.problem.message }</strong></p>
            <p>{ props.problem.advice() }</p>
            { for retry }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct LinkProps {
    pub ctx: Ctx,
    pub to: Route,
    pub label: AttrValue,
    #[prop_or_default]
    pub current: bool,
}

/// A link that changes screen without reloading (and still works as a plain link).
#[function_component(Link)]
pub fn link(props: &LinkProps) -> Html {
    let (navigate, to) = (props.ctx.navigate.clone(), props.to.clone());
    let onclick = Callback::from(move |e: MouseEvent| {
        if !(e.ctrl_key() || e.meta_key() || e.shift_key()) {
            e.prevent_default();
            navigate.emit(to.clone());
        }
    });
    let current = props.current.then_some("page");
    html! { <a href={props.to.path()} {onclick} aria-current={current}>{ &props.label }</a> }
}

#[derive(Properties, PartialEq)]
pub struct NavProps {
    pub ctx: Ctx,
    pub here: Route,
    #[prop_or_default]
    pub platform_id: Option<String>,
}

#[function_component(Nav)]
pub fn nav(props: &NavProps) -> Html {
    let item = |to: Route, label: &'static str| {
        let current = props.here == to;
        html! { <li><Link ctx={props.ctx.clone()} {to} {label} {current} /></li> }
    };
    let preview = props.platform_id.clone().map(|id| item(Route::Preview(id), "Preview"));
    html! {
        <header class="top">
            <span class="brand">{"dream-api"}</span>
            <nav aria-label="Main">
                <ul>
                    { item(Route::Dashboard, "Dashboard") }
                    { item(Route::Tiers, "Tiers") }
                    { item(Route::Stripe, "Stripe") }
                    { for preview }
                </ul>
            </nav>
        </header>
    }
}

#[derive(Properties, PartialEq)]
pub struct PricingProps {
    pub tiers: Vec<Tier>,
}

/// The pricing table an end-user would see.
#[function_component(PricingTable)]
pub fn pricing_table(props: &PricingProps) -> Html {
    let tiers = &props.tiers;
    if tiers.is_empty() {
        return html! { <p class="empty">{"No tiers yet."}</p> };
    }
    html! {
        <div class="pricing">
            { for tiers.iter().map(|t| {
                let cents = t.price_cents;
                let price = if cents == 0 { "$0".to_string() } else { format!("{} / month", money(cents)) };
                html! {
                    <article class={classes!("tier", t.popular.then_some("popular"))}>
                        if t.popular { <p class="badge">{"Most popular"}</p> }
                        <h3>{ &t.name }</h3>
                        <p class="price">{ price }</p>
                        <p>{ limit_text(t.limit) }</p>
                        <ul>{ for t.features.iter().map(|f| html! { <li>{ f }</li> }) }</ul>
                    </article>
                }
            }) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct CopyProps {
    pub text: AttrValue,
    pub label: AttrValue,
}

/// Copies `text` to the clipboard and says so.
#[function_component(CopyButton)]
pub fn copy_button(props: &CopyProps) -> Html {
    let copied = use_state(|| false);
    let onclick = {
        let (text, copied) = (props.text.clone(), copied.clone());
        Callback::from(move |_| {
            let (text, copied) = (text.clone(), copied.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(w) = web_sys::window() {
                    let done = wasm_bindgen_futures::JsFuture::from(
                        w.navigator().clipboard().write_text(&text),
                    )
                    .await;
                    copied.set(done.is_ok());
                }
            });
        })
    };
    html! {
        <>
            <button type="button" {onclick}>{ &props.label }</button>
            if *copied { <span class="note" role="status">{" Copied."}</span> }
        </>
    }
}
