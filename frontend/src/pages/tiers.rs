//! `/tiers`: the end-users' tiers — add, edit, reorder, remove — checked as the API
//! checks them. A field's message shows once the field is left (or Save is pressed),
//! next to it; the preview beside the form shows every valid tier and says what is
//! wrong with the others; the actions and the save status stay in view; unsaved edits
//! are not left without asking. The usage alerts' thresholds follow the editor
//! ([`super::alerts`]).

use super::alerts::UsageAlerts;
use super::{platform_screen, send, use_read, Load};
use crate::answers::TierList;
use crate::api::Worker;
use crate::components::{Loading, PricingTable, ProblemView};
use crate::state::Problem;
use crate::tier_editor::words::tier_label;
use crate::tier_editor::{use_leave_guard, Field, FieldError, PreviewCard, Tone};
use crate::tier_editor::{TierAction, TierDraft, TierEditor};
use crate::Ctx;
use dream_core::tier::Tier;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
}

#[function_component(Tiers)]
pub fn tiers(props: &Props) -> Html {
    let ctx = &props.ctx;
    let body = platform_screen(ctx, "Your tiers", || {
        html! { <><SavedTiers ctx={ctx.clone()} /><UsageAlerts ctx={ctx.clone()} /></> }
    });
    html! { <main class="page"><h1>{"Tiers"}</h1>{ body }</main> }
}

/// The platform's tiers as saved, then the editor over them.
#[function_component(SavedTiers)]
fn saved_tiers(props: &Props) -> Html {
    let ctx = &props.ctx;
    let version = use_state(|| 0u32);
    let loaded: Load<TierList> = use_read(ctx, Worker::PlatformAuth, "/v1/tiers".into(), *version);
    let retry = {
        let version = version.clone();
        Callback::from(move |_| version.set(*version + 1))
    };
    match loaded {
        Some(Ok(list)) => html! { <Editor ctx={ctx.clone()} saved={list.tiers} /> },
        Some(Err(p)) => html! { <ProblemView problem={p} {retry} /> },
        None => html! { <Loading what="your tiers" /> },
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
    use_leave_guard(editor.changed());
    let edit = {
        let dispatcher = editor.dispatcher();
        Callback::from(move |action: TierAction| dispatcher.dispatch(action))
    };
    let save = {
        let (config, editor) = (props.ctx.config.clone(), editor.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let dispatcher = editor.dispatcher();
            let Some(body) = editor.request() else {
                // Every message shows now; the first field to fix gets the focus.
                dispatcher.dispatch(TierAction::Attempt);
                let first = editor.problems().into_iter().find_map(|p| Some((p.index?, p.field?)));
                if let Some((index, field)) = first {
                    focus(&field_id(index, field));
                }
                return;
            };
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
    let messages = editor.messages();
    let form = Form { messages: &messages, alert: editor.attempted, edit: &edit };
    let count = editor.tiers.len();
    let status = editor.status();
    let tone = match status.tone {
        Tone::Quiet => None,
        Tone::Ok => Some("ok"),
        Tone::Problem => Some("problem"),
    };
    html! {
        <>
            <p class="lead">{"What your end-users can be on. New end-users start on the first tier, which must be free. Paid tiers get a Stripe price when you save."}</p>
            <p class="tier-jump"><a href="#tier-preview" onclick={jump("tier-preview-title")}>{"Jump to the preview"}</a></p>
            <div class="tier-editor">
                <form id="tier-form" class="tier-form" onsubmit={save} novalidate=true tabindex="-1">
                    { for editor.tiers.iter().enumerate().map(|(i, t)| form.tier(i, t, count)) }
                    { for messages.iter().filter(|m| m.index.is_none()).enumerate().map(|(n, m)| form.message(m, format!("tiers-error-{n}"))) }
                    <div class="tier-bar">
                        <div class="actions">
                            <button type="button" onclick={on(TierAction::Add)} disabled={!editor.can_add()}>{"Add tier"}</button>
                            <button type="button" onclick={on(TierAction::Reset)} disabled={!editor.changed()}>{"Discard changes"}</button>
                            <button type="submit" class="primary" disabled={editor.busy()}>{"Save tiers"}</button>
                        </div>
                        <p class={classes!("save-status", tone)} role="status" aria-live="polite" data-testid="save-status">{ status.text }</p>
                    </div>
                </form>
                <section id="tier-preview" class="tier-preview" aria-labelledby="tier-preview-title">
                    <h2 id="tier-preview-title" tabindex="-1">{"Preview"}</h2>
                    <p class="note">{"The pricing table your end-users will see, in this order."}</p>
                    <div class="tier-preview-cards">
                        { for editor.preview().into_iter().map(|card| preview_card(card, &messages)) }
                    </div>
                    <p class="tier-jump"><a href="#tier-form" onclick={jump("tier-form")}>{"Back to the editor"}</a></p>
                </section>
            </div>
        </>
    }
}

/// One card of the preview: the tier as end-users see it, or what keeps it from
/// being shown (marked once the form shows its message too).
fn preview_card(card: PreviewCard, messages: &[FieldError]) -> Html {
    match card {
        PreviewCard::Tier(tier) => html! { <PricingTable tiers={vec![tier]} /> },
        PreviewCard::Problem { index, message } => {
            let shown = messages.iter().any(|m| m.index == Some(index)).then_some("shown");
            html! {
                <article class={classes!("tier", "tier-unfinished", shown)} aria-label={tier_label(index)}>
                    <p>{ message }</p>
                </article>
            }
        }
    }
}

/// The element id of a tier's field (`t1-Price`); its message is `t1-Price-error`.
fn field_id(index: usize, field: Field) -> String {
    format!("t{index}-{field:?}")
}

/// How a field is typed into.
#[derive(Clone, Copy)]
enum Control {
    Text { inputmode: Option<&'static str>, placeholder: &'static str },
    Lines,
}

/// What every field of the form needs: the messages showing, whether they are alerts
/// (after Save was pressed), and where edits go.
struct Form<'a> {
    messages: &'a [FieldError],
    alert: bool,
    edit: &'a Callback<TierAction>,
}

impl Form<'_> {
    fn tier(&self, i: usize, t: &TierDraft, count: usize) -> Html {
        let on_popular = {
            let edit = self.edit.clone();
            Callback::from(move |e: Event| {
                let el: web_sys::HtmlInputElement = e.target_unchecked_into();
                edit.emit(TierAction::Set(i, Field::Popular, el.checked().to_string()));
            })
        };
        let action = |action: TierAction| {
            let edit = self.edit.clone();
            Callback::from(move |_| edit.emit(action.clone()))
        };
        let (first, paid) = (i == 0, "Dollars a month; 0 for a free tier.");
        let price_hint = if first { "New end-users start here, so it is free: 0." } else { paid };
        let text = |inputmode, placeholder| Control::Text { inputmode, placeholder };
        let popular_id = format!("t{i}-popular");
        html! {
            <fieldset class="tier-edit">
                <legend>{ tier_label(i) }{ if first { " (where new end-users start)" } else { "" } }</legend>
                { for self.messages.iter().filter(|m| m.index == Some(i) && m.field.is_none()).enumerate().map(|(n, m)| self.message(m, format!("t{i}-error-{n}"))) }
                { self.field(i, Field::Id, "Tier id", &t.id, text(None, "pro"), Some("Lowercase letters, digits and dashes; your app names the tier by it.")) }
                { self.field(i, Field::Name, "Name", &t.name, text(None, "Pro"), None) }
                { self.field(i, Field::Price, "Price (USD)", &t.price, text(Some("decimal"), "9"), Some(price_hint)) }
                { self.field(i, Field::Limit, "Monthly limit", &t.limit, text(Some("numeric"), ""), Some("Calls a month; leave empty for unlimited.")) }
                { self.field(i, Field::Features, "Features (one per line)", &t.features, Control::Lines, None) }
                <div class="field inline">
                    <input id={popular_id.clone()} type="checkbox" checked={t.popular} onchange={on_popular} />
                    <label for={popular_id}>{"Most popular"}</label>
                </div>
                <div class="actions">
                    <button type="button" onclick={action(TierAction::MoveUp(i))} disabled={first}>{"Move up"}</button>
                    <button type="button" onclick={action(TierAction::Remove(i))} disabled={count <= 1}>{"Remove"}</button>
                </div>
            </fieldset>
        }
    }

    /// A labelled field with its hint and, once it shows, its message; the input points
    /// at both with `aria-describedby`.
    fn field(
        &self,
        i: usize,
        field: Field,
        label: &'static str,
        value: &str,
        control: Control,
        hint: Option<&'static str>,
    ) -> Html {
        let id = field_id(i, field);
        let (hint_id, error_id) = (format!("{id}-hint"), format!("{id}-error"));
        let message = self.messages.iter().find(|m| m.index == Some(i) && m.field == Some(field));
        let described: Vec<&str> =
            [hint.map(|_| hint_id.as_str()), message.map(|_| error_id.as_str())]
                .into_iter()
                .flatten()
                .collect();
        let described = (!described.is_empty()).then(|| described.join(" "));
        let invalid = message.map(|_| "true");
        let edit = self.edit.clone();
        let oninput = Callback::from(move |e: InputEvent| {
            edit.emit(TierAction::Set(i, field, typed_value(&e)));
        });
        let edit = self.edit.clone();
        let onblur = Callback::from(move |_: FocusEvent| edit.emit(TierAction::Leave(i, field)));
        let value = value.to_string();
        let input = match control {
            Control::Text { inputmode, placeholder } => html! {
                <input id={id.clone()} type="text" {value} {oninput} {onblur} {placeholder} {inputmode}
                    aria-invalid={invalid} aria-describedby={described} />
            },
            Control::Lines => html! {
                <textarea id={id.clone()} {value} {oninput} {onblur} rows="2"
                    aria-invalid={invalid} aria-describedby={described}></textarea>
            },
        };
        html! {
            <div class="field">
                <label for={id}>{ label }</label>
                { input }
                if let Some(hint) = hint { <p class="hint" id={hint_id}>{ hint }</p> }
                { message.map(|m| self.message(m, error_id)).unwrap_or_default() }
            </div>
        }
    }

    /// A message; an alert only when it shows because Save was pressed, so that typing
    /// never sets off a stream of alerts.
    fn message(&self, message: &FieldError, id: String) -> Html {
        let role = self.alert.then_some("alert");
        html! { <p class="error" {id} {role}>{ &message.message }</p> }
    }
}

/// The text of the input or text area an event came from.
fn typed_value(e: &InputEvent) -> String {
    let Some(target) = e.target() else { return String::new() };
    if let Some(input) = target.dyn_ref::<web_sys::HtmlInputElement>() {
        return input.value();
    }
    target.dyn_ref::<web_sys::HtmlTextAreaElement>().map(|t| t.value()).unwrap_or_default()
}

fn element(id: &str) -> Option<web_sys::HtmlElement> {
    let document = web_sys::window()?.document()?;
    document.get_element_by_id(id)?.dyn_into::<web_sys::HtmlElement>().ok()
}

fn focus(id: &str) {
    if let Some(el) = element(id) {
        let _ = el.focus();
    }
}

/// A link to another part of this page: scrolls to the element `to` and gives it the
/// focus, without changing the address (the app's routing reads it).
fn jump(to: &'static str) -> Callback<MouseEvent> {
    Callback::from(move |e: MouseEvent| {
        if let Some(target) = element(to) {
            e.prevent_default();
            target.scroll_into_view();
            let _ = target.focus();
        }
    })
}
