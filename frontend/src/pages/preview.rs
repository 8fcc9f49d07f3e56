//! `/preview/{platformId}`: the developer's public pricing table, as their end-users
//! would see it (no sign-in).

use super::Load;
use crate::answers::TierList;
use crate::api;
use crate::components::{Loading, PricingTable, ProblemView};
use crate::Ctx;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
    pub platform_id: String,
}

#[function_component(Preview)]
pub fn preview(props: &Props) -> Html {
    let tiers = use_state(|| Load::<TierList>::None);
    let version = use_state(|| 0u32);
    {
        let (tiers, config, id) =
            (tiers.clone(), props.ctx.config.clone(), props.platform_id.clone());
        use_effect_with((id.clone(), *version), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                tiers.set(Some(api::public(&config, &format!("/v1/public/{id}/tiers")).await));
            });
        });
    }
    let retry = {
        let version = version.clone();
        Callback::from(move |_| version.set(*version + 1))
    };
    let body = match &*tiers {
        None => html! { <Loading what="the pricing" /> },
        Some(Err(p)) if p.status == 404 => {
            html! { <p class="empty">{"There is no platform with this id."}</p> }
        }
        Some(Err(p)) => html! { <ProblemView problem={p.clone()} {retry} /> },
        Some(Ok(list)) => html! { <PricingTable tiers={list.tiers.clone()} /> },
    };
    html! {
        <main class="page preview">
            <h1>{"Pricing"}</h1>
            <p class="lead">{"Choose the plan that fits. Upgrade or cancel at any time."}</p>
            { body }
        </main>
    }
}
