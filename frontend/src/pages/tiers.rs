//! `/tiers`: the end-users' tiers — add, edit, reorder, remove — checked as the API
//! checks them, with each message next to its field and a live preview of the pricing
//! table before saving.

use super::dashboard::signed_out;
use super::{send, use_read, Load};
use crate::answers::TierList;
use crate::api::Worker;
use crate::components::{Loading, Nav, PricingTable, ProblemView};
use crate::state::Problem;
use crate::tier_editor::{Field, Saving, TierAction, TierDraft, TierEditor};
use crate::{Ctx, Route};
use dream_core::tier::Tier;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
}

#[function_component(Tiers)]
pub fn tiers(props: &Props) -> Html {
    let ctx = &props.ctx;
    let version = use_state(|| 0u32);
    let loaded: Load<TierList> = use_read(ctx, Worker::PlatformAuth, "/v1/tiers".into(), *version);
    let retry = {
        let version = version.clone();
        Callback::from(move |_| version.set(*version + 1))
    };
    let body = match loaded {
        Some(Ok(list)) => html! { <Editor ctx={ctx.clone()} saved={list.tiers} /> },
        Some(Err(p)) if p.status == 401 => signed_out(ctx),
        Some(Err(p)) => html! { <ProblemView problem={p} {retry} /> },
        None => html! { <Loading what="your tiers" /> },
    };
    html! {
        <>
            <Nav ctx={ctx.clone()} here={Route::Tiers} />
            <main class="page"><h1>{"Tiers"}</h1>{ body }</main>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct EditorProps {
    ctx: Ctx,
    /// The tiers as the API last answered them.
    saved: Vec<Tier>,
}

/// The form over the saved tiers, and the pricing table they make.
#[function_component(Editor)]
fn editor(props: &EditorProps) -> Html {
    let editor = {
        let saved = props.saved.clone();
        use_reducer(move || TierEditor::new(&saved))
    };
    let edit = {
        let dispatcher = editor.dispatcher();
        Callback::from(move |action: TierAction| dispatcher.dispatch(action))
    };
    let save = {
        let (config, editor) = (props.ctx.config.clone(), editor.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            // Invalid tiers already show their messages next to the fields.
            let Ok(body) = editor.request() else { return };
            let dispatcher = editor.dispatcher();
            dispatcher.dispatch(TierAction::Sending);
            let done = Callback::from(move |outcome: Result<TierList, Problem>| {
                dispatcher.dispatch(match outcome {
                    Ok(list) => TierAction::Saved(list.tiers),
                    Err(p) => TierAction::Failed(p),
                })
            });
            send(&config, Worker::PlatformAuth, "PUT", "/v1/tiers", Some(body), done);
        })
    };
    let on = |action: TierAction| {
        let edit = edit.clone();
        Callback::from(move |_| edit.emit(action.clone()))
    };
    let count = editor.tiers.len();
    html! {
        <>
            <p class="lead">{"What your end-users can be on. New end-users start on the first tier, which must be free. Paid tiers get a Stripe price when you save."}</p>
            <div class="grid wide">
                <form onsubmit={save} novalidate=true>
                    { for editor.tiers.iter().enumerate().map(|(i, t)| tier_fields(i, t, count, &editor, &edit)) }
                    { for editor.general_errors().map(|e| html! { <p class="error" role="alert">{ &e.message }</p> }) }
                    <div class="actions">
                        <button type="button" onclick={on(TierAction::Add)} disabled={!editor.can_add()}>{"Add tier"}</button>
                        <button type="button" onclick={on(TierAction::Reset)} disabled={!editor.changed()}>{"Discard changes"}</button>
                        <button type="submit" class="primary" disabled={editor.busy()}>{"Save tiers"}</button>
                    </div>
                    { match &editor.saving {
                        Saving::Saved => html! { <p role="status" class="ok">{"Saved."}</p> },
                        Saving::Busy(_) => html! { <p role="status">{"Saving…"}</p> },
                        Saving::Failed(p) => html! { <ProblemView problem={p.clone()} /> },
                        Saving::Idle => html! {},
                    } }
                </form>
                <section aria-labelledby="preview-title">
                    <h2 id="preview-title">{"Preview"}</h2>
                    <PricingTable tiers={editor.preview()} />
                </section>
            </div>
        </>
    }
}

fn tier_fields(
    i: usize,
    t: &TierDraft,
    count: usize,
    editor: &TierEditor,
    edit: &Callback<TierAction>,
) -> Html {
    let error_for = |field: Field| -> Html {
        editor
            .error_at(i, field)
            .map(|e| html! { <p class="error" role="alert" id={format!("t{i}-{field:?}-error")}>{ &e.message }</p> })
            .unwrap_or_default()
    };
    let input = |field: Field,
                 label: &'static str,
                 value: &str,
                 kind: &'static str,
                 hint: &'static str| {
        let id = format!("t{i}-{field:?}");
        let edit = edit.clone();
        let oninput = Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            edit.emit(TierAction::Set(i, field, el.value()));
        });
        let invalid = editor.error_at(i, field).is_some();
        html! {
            <div class="field">
                <label for={id.clone()}>{ label }</label>
                <input id={id} type={kind} value={value.to_string()} {oninput} placeholder={hint}
                    aria-invalid={invalid.to_string()} inputmode={if kind == "text" { None } else { Some("decimal") }} />
                { error_for(field) }
            </div>
        }
    };
    let features_id = format!("t{i}-features");
    let on_features = {
        let edit = edit.clone();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            edit.emit(TierAction::Set(i, Field::Features, el.value()));
        })
    };
    let on_popular = {
        let edit = edit.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            edit.emit(TierAction::Set(i, Field::Popular, el.checked().to_string()));
        })
    };
    let (up, remove) = (edit.clone(), edit.clone());
    html! {
        <fieldset class="tier-edit">
            <legend>{ format!("Tier {}", i + 1) }{ if i == 0 { " (where new end-users start)" } else { "" } }</legend>
            { input(Field::Id, "Tier id", &t.id, "text", "pro") }
            { input(Field::Name, "Name", &t.name, "text", "Pro") }
            { input(Field::Price, "Price (USD)", &t.price, "text", "9") }
            { input(Field::Limit, "Monthly limit", &t.limit, "text", "empty = unlimited") }
            <div class="field">
                <label for={features_id.clone()}>{"Features (one per line)"}</label>
                <textarea id={features_id} value={t.features.clone()} oninput={on_features} rows="2"></textarea>
                { error_for(Field::Features) }
            </div>
            <div class="field inline">
                <input id={format!("t{i}-popular")} type="checkbox" checked={t.popular} onchange={on_popular} />
                <label for={format!("t{i}-popular")}>{"Most popular"}</label>
            </div>
            <div class="actions">
                <button type="button" onclick={Callback::from(move |_| up.emit(TierAction::MoveUp(i)))} disabled={i == 0}>{"Move up"}</button>
                <button type="button" onclick={Callback::from(move |_| remove.emit(TierAction::Remove(i)))} disabled={count <= 1}>{"Remove"}</button>
            </div>
        </fieldset>
    }
}
