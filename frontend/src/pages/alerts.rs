//! The usage-alerts card of `/tiers`: at which percents of a limit the platform's
//! webhook endpoints hear that an end-user (against their tier's limit) or the platform
//! (against its plan's quota) is running out. Typed as a list of percents, checked as the
//! API checks them, saved with `PUT /v1/alerts`.

use super::{send, use_read, Load};
use crate::api::Worker;
use crate::components::{Link, Loading, ProblemView};
use crate::state::Problem;
use crate::webhooks_state::{parse_thresholds, thresholds_text, AlertThresholds};
use crate::{Ctx, Route};
use serde_json::json;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
}

/// Where the form stands.
#[derive(Clone, PartialEq)]
enum Status {
    Idle,
    Saving,
    Saved(Vec<u8>),
    /// What is wrong with the field (as typed, or as the API said).
    Invalid(String),
    /// The save failed for another reason.
    Failed(Problem),
}

/// The card: the thresholds as saved, in a field to change them.
#[function_component(UsageAlerts)]
pub fn usage_alerts(props: &Props) -> Html {
    let ctx = &props.ctx;
    let version = use_state(|| 0u32);
    let loaded: Load<AlertThresholds> =
        use_read(ctx, Worker::PlatformAuth, "/v1/alerts".into(), *version);
    // What the field shows once edited or saved; the thresholds as read until then.
    let typed = use_state(|| None::<String>);
    let status = use_state(|| Status::Idle);
    let text = match (&*typed, &loaded) {
        (Some(text), _) => text.clone(),
        (None, Some(Ok(saved))) => thresholds_text(&saved.thresholds),
        (None, _) => String::new(),
    };
    let oninput = {
        let (typed, status) = (typed.clone(), status.clone());
        Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            typed.set(Some(input.value()));
            if matches!(*status, Status::Saved(_)) {
                status.set(Status::Idle);
            }
        })
    };
    let onsubmit = {
        let (config, text, typed, status) =
            (ctx.config.clone(), text.clone(), typed.clone(), status.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let thresholds = match parse_thresholds(&text) {
                Ok(thresholds) => thresholds,
                Err(message) => return status.set(Status::Invalid(message)),
            };
            status.set(Status::Saving);
            let (typed, status) = (typed.clone(), status.clone());
            let done = Callback::from(move |outcome: Result<AlertThresholds, Problem>| {
                status.set(match outcome {
                    Ok(saved) => {
                        typed.set(Some(thresholds_text(&saved.thresholds)));
                        Status::Saved(saved.thresholds)
                    }
                    Err(p) if p.status == 400 => Status::Invalid(p.message),
                    Err(p) => Status::Failed(p),
                })
            });
            let body = json!({ "thresholds": thresholds });
            send(&config, Worker::PlatformAuth, "PUT", "/v1/alerts", Some(body), done);
        })
    };
    let body = match loaded {
        None => html! { <Loading what="your usage alerts" /> },
        Some(Err(p)) => {
            let retry = Callback::from(move |_| version.set(*version + 1));
            html! { <ProblemView problem={p} {retry} /> }
        }
        Some(Ok(_)) => form(text, &status, oninput, onsubmit),
    };
    html! {
        <section class="card alerts" aria-labelledby="alerts-title">
            <h2 id="alerts-title">{"Usage alerts"}</h2>
            <p>{"When an end-user's calls this month reach one of these percents of their tier's limit, your webhook endpoints get "}
                <code>{"usage.threshold_reached"}</code>
                {" once for that end-user, percent and month (never for unlimited tiers). When your platform's calls reach one of them of your plan's quota, they get "}
                <code>{"platform.quota_threshold_reached"}</code>{" once a month. "}
                <Link ctx={ctx.clone()} to={Route::Webhooks} label="Add an endpoint on the Webhooks page" />{"."}</p>
            { body }
        </section>
    }
}

fn form(
    text: String,
    status: &Status,
    oninput: Callback<InputEvent>,
    onsubmit: Callback<SubmitEvent>,
) -> Html {
    let error = match status {
        Status::Invalid(message) => Some(message.clone()),
        _ => None,
    };
    let described = match error {
        Some(_) => "alert-thresholds-hint alert-thresholds-error",
        None => "alert-thresholds-hint",
    };
    let saved = match status {
        Status::Saving => "Saving…".to_string(),
        Status::Saved(t) if t.is_empty() => "Saved: no usage alerts.".into(),
        Status::Saved(t) => {
            let percents: Vec<String> = t.iter().map(|p| format!("{p}%")).collect();
            format!("Saved: alerts at {}.", percents.join(", "))
        }
        _ => String::new(),
    };
    html! {
        <form class="alerts-form" {onsubmit} novalidate=true>
            <div class="field">
                <label for="alert-thresholds">{"Alert at these percents of a limit"}</label>
                <input id="alert-thresholds" type="text" inputmode="numeric" autocomplete="off"
                    value={text} {oninput} aria-describedby={described}
                    aria-invalid={error.as_ref().map(|_| "true")} />
                <p class="hint" id="alert-thresholds-hint">{"Whole percents from 1 to 100, separated by commas, at most five (80, 100 until you choose). Leave it empty for no usage alerts."}</p>
                if let Some(message) = &error {
                    <p class="error" id="alert-thresholds-error" role="alert">{ message }</p>
                }
            </div>
            if let Status::Failed(p) = status { <ProblemView problem={p.clone()} /> }
            <div class="actions">
                <button type="submit" class="primary" disabled={*status == Status::Saving}>{"Save alerts"}</button>
                <p class="save-status ok" role="status" aria-live="polite" data-testid="alerts-status">{ saved }</p>
            </div>
        </form>
    }
}
