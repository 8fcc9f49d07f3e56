//! `/tiers`: the end-users' tiers — add, edit, reorder, remove — checked as the API
//! checks them, with each message next to its field and a live preview of the pricing
//! table before saving.

use super::dashboard::signed_out;
use super::use_read;
use crate::api::{self, Worker};
use crate::components::{Loading, Nav, PricingTable, ProblemView};
use crate::state::{Field, FieldError, Problem, TierEdit, TierEditor};
use crate::{Ctx, Route};
use serde_json::Value;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
}

#[derive(Clone, PartialEq)]
enum Saving {
    Idle,
    Busy,
    Saved,
    Failed(Problem),
}

#[function_component(Tiers)]
pub fn tiers(props: &Props) -> Html {
    let ctx = &props.ctx;
    let version = use_state(|| 0u32);
    let loaded = use_read(ctx, Worker::PlatformAuth, "/v1/tiers".into(), *version);
    let editor = use_state(|| None::<TierEditor>);
    let errors = use_state(Vec::<FieldError>::new);
    let saving = use_state(|| Saving::Idle);
    {
        let editor = editor.clone();
        use_effect_with(loaded.clone(), move |loaded| {
            if let Some(Ok(body)) = loaded {
                editor.set(Some(TierEditor::from_api(&body["tiers"])));
            }
        });
    }
    let retry = {
        let version = version.clone();
        Callback::from(move |_| version.set(*version + 1))
    };
    let nav = html! { <Nav ctx={ctx.clone()} here={Route::Tiers} /> };
    let Some(current) = (*editor).clone() else {
        let body = match loaded {
            Some(Err(p)) if p.status == 401 => signed_out(ctx),
            Some(Err(p)) => html! { <ProblemView problem={p} {retry} /> },
            _ => html! { <Loading what="your tiers" /> },
        };
        return html! { <>{ nav }<main class="page"><h1>{"Tiers"}</h1>{ body }</main></> };
    };

    let edit = {
        let (editor, errors, saving) = (editor.clone(), errors.clone(), saving.clone());
        Callback::from(move |e: TierEdit| {
            if let Some(cur) = &*editor {
                let next = cur.apply(e);
                errors.set(next.to_request().err().unwrap_or_default());
                editor.set(Some(next));
                saving.set(Saving::Idle);
            }
        })
    };
    let save = {
        let (config, editor, errors, saving) =
            (ctx.config.clone(), editor.clone(), errors.clone(), saving.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(cur) = (*editor).clone() else { return };
            let body = match cur.to_request() {
                Ok(body) => body,
                Err(found) => return errors.set(found),
            };
            let (config, editor, errors, saving) =
                (config.clone(), editor.clone(), errors.clone(), saving.clone());
            saving.set(Saving::Busy);
            wasm_bindgen_futures::spawn_local(async move {
                match api::call(&config, Worker::PlatformAuth, "PUT", "/v1/tiers", Some(body)).await
                {
                    Ok(answer) => {
                        editor.set(Some(TierEditor::from_api(&answer["tiers"])));
                        errors.set(vec![]);
                        saving.set(Saving::Saved);
                    }
                    Err(p) if p.status == 400 => {
                        errors.set(vec![crate::state::locate(&p.message)]);
                        saving.set(Saving::Failed(p));
                    }
                    Err(p) => saving.set(Saving::Failed(p)),
                }
            });
        })
    };
    let preview: Value = current.to_request().map(|b| b["tiers"].clone()).unwrap_or(Value::Null);
    let general: Vec<&FieldError> =
        errors.iter().filter(|e| e.index.is_none() || e.field.is_none()).collect();
    let count = current.tiers.len();
    html! {
        <>
            { nav }
            <main class="page">
                <h1>{"Tiers"}</h1>
                <p class="lead">{"What your end-users can be on. New end-users start on the first tier, which must be free. Paid tiers get a Stripe price when you save."}</p>
                <div class="grid wide">
                    <form onsubmit={save} novalidate=true>
                        { for current.tiers.iter().enumerate().map(|(i, t)| tier_fields(i, t, count, &errors, &edit)) }
                        { for general.iter().map(|e| html! { <p class="error" role="alert">{ &e.message }</p> }) }
                        <div class="actions">
                            <button type="button" onclick={let edit = edit.clone(); Callback::from(move |_| edit.emit(TierEdit::Add))} disabled={count >= 20}>{"Add tier"}</button>
                            <button type="submit" class="primary" disabled={*saving == Saving::Busy}>{"Save tiers"}</button>
                        </div>
                        { match &*saving {
                            Saving::Saved => html! { <p role="status" class="ok">{"Saved."}</p> },
                            Saving::Busy => html! { <p role="status">{"Saving…"}</p> },
                            Saving::Failed(p) => html! { <ProblemView problem={p.clone()} /> },
                            Saving::Idle => html! {},
                        } }
                    </form>
                    <section aria-labelledby="preview-title">
                        <h2 id="preview-title">{"Preview"}</h2>
                        <PricingTable tiers={preview} />
                    </section>
                </div>
            </main>
        </>
    }
}

fn tier_fields(
    i: usize,
    t: &crate::state::TierDraft,
    count: usize,
    errors: &[FieldError],
    edit: &Callback<TierEdit>,
) -> Html {
    let error_for = |field: Field| -> Html {
        errors
            .iter()
            .find(|e| e.index == Some(i) && e.field == Some(field))
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
            edit.emit(TierEdit::Set(i, field, el.value()));
        });
        let invalid = errors.iter().any(|e| e.index == Some(i) && e.field == Some(field));
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
            edit.emit(TierEdit::Set(i, Field::Features, el.value()));
        })
    };
    let on_popular = {
        let edit = edit.clone();
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            edit.emit(TierEdit::Set(i, Field::Popular, el.checked().to_string()));
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
                <button type="button" onclick={Callback::from(move |_| up.emit(TierEdit::MoveUp(i)))} disabled={i == 0}>{"Move up"}</button>
                <button type="button" onclick={Callback::from(move |_| remove.emit(TierEdit::Remove(i)))} disabled={count <= 1}>{"Remove"}</button>
            </div>
        </fieldset>
    }
}
