//! The dashboard's charts: usage over 30 days (allowed and denied calls side by side,
//! dated, each day's counts on hover and on keyboard focus) and the revenue card (MRR,
//! active subscriptions, by tier, MRR over 90 days).

use crate::answers::Stats;
use crate::charts::{axis_labels, bar_height, day_label, dollars, mrr_points, mrr_summary};
use crate::charts::{no_revenue, subscriptions_text, Revenue};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Each day's slot in the usage chart, in the SVG's units (its height is 100).
const SLOT: u64 = 10;
/// The MRR chart's width, in the SVG's units.
const MRR_WIDTH: u64 = 900;

/// The first, middle and last dates under a chart.
fn axis<'a>(dates: impl ExactSizeIterator<Item = &'a str> + Clone) -> Html {
    html! {
        <div class="axis" aria-hidden="true">
            { for axis_labels(dates).into_iter().map(|d| html! { <span>{ d }</span> }) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct UsageProps {
    pub stats: Rc<Stats>,
}

fn day_id(i: usize) -> String {
    format!("usage-day-{i}")
}

/// Allowed and denied calls per day over 30 days. The days are one stop for Tab (the
/// last day first); the arrow keys, Home and End move between them.
#[function_component(UsageChart)]
pub fn usage_chart(props: &UsageProps) -> Html {
    let stats = &props.stats;
    let days = &stats.daily;
    // The day whose counts are shown (hovered or focused); the last day otherwise.
    let shown = use_state(|| None::<usize>);
    let total = stats.total_calls;
    let title = html! { <h2 id="chart-title">{"Usage, last 30 days"}</h2> };
    if total == 0 && stats.denied_calls == 0 {
        return html! {
            <section class="card" aria-labelledby="chart-title">
                { title }
                <p class="empty">{"No calls yet: they appear here once your server calls POST /v1/usage/track."}</p>
            </section>
        };
    }
    let last = days.len().saturating_sub(1);
    let current = shown.unwrap_or(last).min(last);
    let max = days.iter().map(|d| d.calls.max(d.denied)).max().unwrap_or(0).max(1);
    let width = SLOT * days.len().max(1) as u64;
    let summary = format!(
        "{total} calls and {} denied in the last 30 days, at most {max} in a day",
        stats.denied_calls
    );
    let onkeydown = {
        let shown = shown.clone();
        Callback::from(move |e: KeyboardEvent| {
            let to = match e.key().as_str() {
                "ArrowLeft" | "ArrowDown" => current.saturating_sub(1),
                "ArrowRight" | "ArrowUp" => (current + 1).min(last),
                "Home" => 0,
                "End" => last,
                _ => return,
            };
            e.prevent_default();
            shown.set(Some(to));
            focus_svg(&day_id(to));
        })
    };
    let bars = days.iter().enumerate().map(|(i, d)| {
        let show = {
            let shown = shown.clone();
            Callback::from(move |_| shown.set(Some(i)))
        };
        let x = i as u64 * SLOT;
        let (allowed, denied) = (bar_height(d.calls, max), bar_height(d.denied, max));
        let label = day_label(d);
        html! {
            <g id={day_id(i)} class="day" tabindex={if i == current { "0" } else { "-1" }} role="img"
                aria-label={label.clone()} onfocus={show.reform(|_: FocusEvent| ())}
                onmouseenter={show.reform(|_: MouseEvent| ())} onkeydown={onkeydown.clone()}>
                <title>{ label }</title>
                <rect class="hit" x={x.to_string()} y="0" width={SLOT.to_string()} height="100" />
                <rect class="allowed" x={(x + 1).to_string()} y={(100 - allowed).to_string()} width="4" height={allowed.to_string()} />
                <rect class="denied" x={(x + 5).to_string()} y={(100 - denied).to_string()} width="4" height={denied.to_string()} />
            </g>
        }
    });
    html! {
        <section class="card" aria-labelledby="chart-title">
            { title }
            <ul class="legend">
                <li><span class="swatch allowed"></span>{"Allowed calls"}</li>
                <li><span class="swatch denied"></span>{"Denied calls"}</li>
            </ul>
            <figure>
                <svg viewBox={format!("0 0 {width} 100")} preserveAspectRatio="none" role="group" aria-label={summary.clone()} class="chart usage">
                    { for bars }
                </svg>
                { axis(days.iter().map(|d| d.date.as_str())) }
                <p class="readout" data-testid="usage-day">{ days.get(current).map(day_label).unwrap_or_default() }</p>
                <figcaption>{ summary }{"."}</figcaption>
            </figure>
        </section>
    }
}

/// Moves the keyboard focus to the chart's element `id` (an SVG element, which the
/// HTML element type does not cover).
fn focus_svg(id: &str) {
    let element =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id));
    if let Some(element) = element {
        let focus = js_sys::Reflect::get(&element, &"focus".into()).ok();
        if let Some(focus) = focus.and_then(|f| f.dyn_into::<js_sys::Function>().ok()) {
            let _ = focus.call0(&element);
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct RevenueProps {
    pub revenue: Rc<Revenue>,
}

/// MRR, active subscriptions, by tier, and MRR over 90 days.
#[function_component(RevenueCard)]
pub fn revenue_card(props: &RevenueProps) -> Html {
    let revenue = &props.revenue;
    let title = html! { <h2 id="revenue-title">{"Revenue"}</h2> };
    if no_revenue(revenue) {
        return html! {
            <section class="card" aria-labelledby="revenue-title">
                { title }
                <p class="empty" data-testid="revenue-empty">{"No subscriptions yet."}</p>
                <p class="note">{"Revenue appears here once your end-users buy a paid tier through checkout: from your pricing page, or the checkout your app starts with POST /v1/checkout."}</p>
            </section>
        };
    }
    let days = &revenue.daily;
    html! {
        <section class="card" aria-labelledby="revenue-title">
            { title }
            <dl class="figures">
                <div><dt>{"Monthly recurring revenue"}</dt><dd data-testid="mrr">{ dollars(revenue.mrr_cents) }</dd></div>
                <div><dt>{"Active subscriptions"}</dt><dd data-testid="active-subscriptions">{ revenue.active_subscriptions }</dd></div>
            </dl>
            <h3>{"By tier"}</h3>
            <ul data-testid="revenue-by-tier">
                { for revenue.by_tier.iter().map(|t| html! {
                    <li>{ format!("{}: {}, {} a month", t.tier, subscriptions_text(t.subscriptions), dollars(t.mrr_cents)) }</li>
                }) }
            </ul>
            if !days.is_empty() {
                <figure>
                    <svg viewBox={format!("0 0 {MRR_WIDTH} 100")} preserveAspectRatio="none" role="img" aria-label={mrr_summary(days)} class="chart mrr">
                        <polyline points={mrr_points(days, MRR_WIDTH)} vector-effect="non-scaling-stroke" />
                    </svg>
                    { axis(days.iter().map(|d| d.date.as_str())) }
                    <figcaption>{ format!("MRR over the last {} days, at each day's end.", days.len()) }</figcaption>
                </figure>
            }
        </section>
    }
}
