//! `/webhooks`: the platform's webhook endpoints. Add one (its URL, the events it gets,
//! a note) and see its signing secret once, with how to verify a delivery; per endpoint,
//! send a test and watch its delivery history settle, rotate the secret (the previous
//! one keeps signing for 24 hours) or delete it, each asked in a dialog. A disabled
//! endpoint (it answered `410 Gone`) says so.

use super::{platform_screen, send, sleep_ms, use_read, Load};
use crate::api::Worker;
use crate::components::{CopyButton, Counter, Loading, ProblemView, Snippet};
use crate::dialog::Dialog;
use crate::state::Problem;
use crate::time::local_datetime;
use crate::webhooks_state::{
    answered_gone, chosen_events, event_meaning, events_text, field_of, keep_polling,
};
use crate::webhooks_state::{last_answer, status_words, DeliveryList, Endpoint, EndpointCreated};
use crate::webhooks_state::{EndpointList, FormField, SecretRotated, TestSent};
use crate::Ctx;
use dream_core::webhooks::delivery::DeliveryRecord;
use dream_core::webhooks::endpoint::MAX_ENDPOINTS;
use dream_core::webhooks::events::EventType;
use serde_json::json;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// How often the history is read again while a delivery is due, and how many times
/// after a test is sent (about 30 s).
const POLL_MS: i32 = 2000;
const POLLS: u32 = 15;
/// The newest deliveries shown per endpoint.
const HISTORY_LIMIT: u32 = 20;

/// How a delivery is checked, with the official Standard Webhooks package.
const VERIFY: &str = r#"import { Webhook } from "standardwebhooks";

// body: the request's raw text; headers: its headers (webhook-id,
// webhook-timestamp, webhook-signature). Throws unless dream-api signed it
// within the last 5 minutes.
const event = new Webhook(process.env.DREAM_WEBHOOK_SECRET).verify(body, headers);"#;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
}

#[function_component(Webhooks)]
pub fn webhooks(props: &Props) -> Html {
    let ctx = &props.ctx;
    let body =
        platform_screen(ctx, "Webhook endpoints", || html! { <Endpoints ctx={ctx.clone()} /> });
    html! { <main class="page"><h1>{"Webhooks"}</h1>{ body }</main> }
}

/// A secret just issued, shown this once beside its endpoint.
#[derive(Clone, PartialEq)]
struct NewSecret {
    endpoint: String,
    secret: String,
    /// It replaced another, which keeps signing for 24 hours.
    rotated: bool,
}

/// The endpoints as listed, and the form to add one.
#[function_component(Endpoints)]
fn endpoints(props: &Props) -> Html {
    let ctx = &props.ctx;
    let version = use_reducer(Counter::default);
    let list: Load<EndpointList> =
        use_read(ctx, Worker::PlatformAuth, "/v1/webhooks".into(), version.0);
    let secret = use_state(|| None::<NewSecret>);
    let reload = {
        let bump = version.dispatcher();
        Callback::from(move |_| bump.dispatch(()))
    };
    // A new endpoint's secret is what the developer must do something with next: its
    // panel takes the focus once the list shows it.
    let to_focus = use_mut_ref(|| None::<String>);
    {
        let to_focus = to_focus.clone();
        use_effect(move || {
            let shown = to_focus.borrow().as_deref().is_some_and(element_exists);
            if shown {
                if let Some(id) = to_focus.borrow_mut().take() {
                    focus(&id);
                }
            }
        });
    }
    let on_created = {
        let (secret, reload, to_focus) = (secret.clone(), reload.clone(), to_focus.clone());
        Callback::from(move |created: EndpointCreated| {
            *to_focus.borrow_mut() = Some(secret_panel_id(&created.id));
            secret.set(Some(NewSecret {
                endpoint: created.id,
                secret: created.secret,
                rotated: false,
            }));
            reload.emit(());
        })
    };
    let on_rotated = {
        let secret = secret.clone();
        Callback::from(move |new: NewSecret| secret.set(Some(new)))
    };
    let endpoints = match list {
        None => return html! { <Loading what="your webhook endpoints" /> },
        Some(Err(p)) => return html! { <ProblemView problem={p} retry={reload} /> },
        Some(Ok(list)) => list.endpoints,
    };
    let count = endpoints.len();
    html! {
        <>
            <p class="lead">{"dream-api tells your server what happens on your platform: an end-user near their limit, a new or ended subscription, a rotated key. Each event is a signed POST to your endpoints, retried for about a day until your server answers 2xx."}</p>
            if endpoints.is_empty() {
                <p class="empty">{"No endpoints yet: add one below."}</p>
            }
            { for endpoints.into_iter().map(|endpoint| {
                let shown = (*secret).clone().filter(|s| s.endpoint == endpoint.id.as_str());
                let key = endpoint.id.to_string();
                html! {
                    <EndpointCard {key} ctx={ctx.clone()} {endpoint} secret={shown}
                        on_rotated={on_rotated.clone()} on_changed={reload.clone()} />
                }
            }) }
            <AddEndpoint ctx={ctx.clone()} {count} {on_created} />
        </>
    }
}

#[derive(Properties, PartialEq)]
struct AddProps {
    ctx: Ctx,
    /// How many endpoints the platform has.
    count: usize,
    on_created: Callback<EndpointCreated>,
}

/// What the add form shows against a field, or the form.
type FormError = Option<(FormField, String)>;

/// "Add an endpoint": its URL, the events it gets (all by default) and a note.
#[function_component(AddEndpoint)]
fn add_endpoint(props: &AddProps) -> Html {
    let url = use_state(String::new);
    let description = use_state(String::new);
    let ticked = use_state(|| vec![true; EventType::ALL.len()]);
    let error = use_state(|| None::<(FormField, String)>);
    let failed = use_state(|| None::<Problem>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (config, url, description, ticked) =
            (props.ctx.config.clone(), url.clone(), description.clone(), ticked.clone());
        let (error, failed, busy, created) =
            (error.clone(), failed.clone(), busy.clone(), props.on_created.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            failed.set(None);
            let events = match chosen_events(&ticked) {
                Ok(events) => events,
                Err(message) => {
                    focus(&field_id(FormField::Events));
                    return error.set(Some((FormField::Events, message.into())));
                }
            };
            let mut body = json!({ "url": url.trim() });
            if let Some(events) = events {
                body["events"] = json!(events);
            }
            if !description.trim().is_empty() {
                body["description"] = json!(description.trim());
            }
            busy.set(true);
            let (url, description, ticked, error, failed, busy, created) = (
                url.clone(),
                description.clone(),
                ticked.clone(),
                error.clone(),
                failed.clone(),
                busy.clone(),
                created.clone(),
            );
            let done = Callback::from(move |outcome: Result<EndpointCreated, Problem>| {
                busy.set(false);
                match outcome {
                    Ok(endpoint) => {
                        error.set(None);
                        url.set(String::new());
                        description.set(String::new());
                        ticked.set(vec![true; EventType::ALL.len()]);
                        created.emit(endpoint);
                    }
                    Err(p) if p.status == 400 && field_of(&p.message) != FormField::Form => {
                        let field = field_of(&p.message);
                        focus(&field_id(field));
                        error.set(Some((field, p.message)));
                    }
                    Err(p) => {
                        error.set(None);
                        failed.set(Some(p));
                    }
                }
            });
            send(&config, Worker::PlatformAuth, "POST", "/v1/webhooks", Some(body), done);
        })
    };
    let typed = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            state.set(input.value());
        })
    };
    let full = props.count >= MAX_ENDPOINTS;
    let events = html! {
        <fieldset class="events" id={field_id(FormField::Events)} tabindex="-1"
            aria-describedby={message_of(&error, FormField::Events).map(|_| "webhook-events-error")}>
            <legend>{"Events to send"}</legend>
            { for EventType::ALL.iter().enumerate().map(|(i, event)| {
                let id = format!("event-{i}");
                let on = ticked[i];
                let ticked = ticked.clone();
                let onchange = Callback::from(move |e: Event| {
                    let input: web_sys::HtmlInputElement = e.target_unchecked_into();
                    let mut now = (*ticked).clone();
                    now[i] = input.checked();
                    ticked.set(now);
                });
                html! {
                    <div class="field inline">
                        <input id={id.clone()} type="checkbox" checked={on} {onchange} />
                        <label for={id}><code>{ event.as_str() }</code>{ format!(": {}", event_meaning(*event)) }</label>
                    </div>
                }
            }) }
            { error_line(&error, FormField::Events, "webhook-events-error") }
        </fieldset>
    };
    html! {
        <section class="card" aria-labelledby="add-endpoint-title">
            <h2 id="add-endpoint-title">{"Add an endpoint"}</h2>
            if full {
                <p>{ format!("You have {MAX_ENDPOINTS} endpoints, the most a platform can have: delete one to add another.") }</p>
            } else {
                <form class="add-endpoint" {onsubmit} novalidate=true>
                    { text_field(&error, FormField::Url, "Endpoint URL", &url, typed(&url),
                        Some("Where each event is sent: an https:// address your server answers.")) }
                    { events }
                    { text_field(&error, FormField::Description, "Description (optional)", &description, typed(&description), None) }
                    if let Some(p) = &*failed { <ProblemView problem={p.clone()} /> }
                    { error_line(&error, FormField::Form, "webhook-form-error") }
                    <button type="submit" class="primary" disabled={*busy}>{"Add endpoint"}</button>
                </form>
            }
        </section>
    }
}

/// The element id of a field of the add form.
fn field_id(field: FormField) -> String {
    let name = match field {
        FormField::Url => "url",
        FormField::Events => "events",
        FormField::Description => "description",
        FormField::Form => "form",
    };
    format!("webhook-{name}")
}

fn message_of(error: &FormError, field: FormField) -> Option<&str> {
    error.as_ref().filter(|(f, _)| *f == field).map(|(_, m)| m.as_str())
}

/// The API's message about `field`, if it is the one at fault.
fn error_line(error: &FormError, field: FormField, id: &str) -> Html {
    match message_of(error, field) {
        Some(message) => {
            html! { <p class="error" id={id.to_string()} role="alert">{ message }</p> }
        }
        None => html! {},
    }
}

/// A labelled text field with its hint and, when it is at fault, the API's message.
fn text_field(
    error: &FormError,
    field: FormField,
    label: &'static str,
    value: &str,
    oninput: Callback<InputEvent>,
    hint: Option<&'static str>,
) -> Html {
    let id = field_id(field);
    let (hint_id, error_id) = (format!("{id}-hint"), format!("{id}-error"));
    let message = message_of(error, field);
    let described: Vec<&str> = [hint.map(|_| hint_id.as_str()), message.map(|_| error_id.as_str())]
        .into_iter()
        .flatten()
        .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    let (inputmode, placeholder) = match field {
        FormField::Url => (Some("url"), "https://example.com/webhooks/dream-api"),
        _ => (None, ""),
    };
    html! {
        <div class="field">
            <label for={id.clone()}>{ label }</label>
            <input {id} type="text" value={value.to_string()} {oninput} {inputmode} {placeholder}
                autocomplete="off" aria-describedby={described} aria-invalid={message.map(|_| "true")} />
            if let Some(hint) = hint { <p class="hint" id={hint_id}>{ hint }</p> }
            { error_line(error, field, &error_id) }
        </div>
    }
}

fn element(id: &str) -> Option<web_sys::HtmlElement> {
    let document = web_sys::window()?.document()?;
    document.get_element_by_id(id)?.dyn_into().ok()
}

fn element_exists(id: &str) -> bool {
    element(id).is_some()
}

fn focus(id: &str) {
    if let Some(element) = element(id) {
        let _ = element.focus();
    }
}

#[derive(Properties, PartialEq)]
struct CardProps {
    ctx: Ctx,
    endpoint: Endpoint,
    /// Its secret, when one was just issued.
    secret: Option<NewSecret>,
    on_rotated: Callback<NewSecret>,
    /// Deleted, or found disabled: the list is read again.
    on_changed: Callback<()>,
}

/// One endpoint: what it gets, its secret once, its actions and its delivery history.
#[function_component(EndpointCard)]
fn endpoint_card(props: &CardProps) -> Html {
    let (ctx, endpoint) = (&props.ctx, &props.endpoint);
    let id = endpoint.id.to_string();
    // The test message last sent, and how many were sent (each starts the polling).
    let sent = use_state(|| None::<(String, u32)>);
    let test_problem = use_state(|| None::<Problem>);
    let send_test = {
        let (config, sent, problem, path) = (
            ctx.config.clone(),
            sent.clone(),
            test_problem.clone(),
            format!("/v1/webhooks/{id}/test"),
        );
        Callback::from(move |_: MouseEvent| {
            let (sent, problem) = (sent.clone(), problem.clone());
            let done = Callback::from(move |outcome: Result<TestSent, Problem>| match outcome {
                Ok(test) => {
                    let count = sent.as_ref().map_or(0, |(_, n)| *n);
                    problem.set(None);
                    sent.set(Some((test.message_id, count + 1)));
                }
                Err(p) => problem.set(Some(p)),
            });
            send(&config, Worker::PlatformAuth, "POST", &path, None, done);
        })
    };
    let rotate = {
        let (config, path, on_rotated, endpoint) = (
            ctx.config.clone(),
            format!("/v1/webhooks/{id}/rotate-secret"),
            props.on_rotated.clone(),
            id.clone(),
        );
        Callback::from(move |report: Callback<Option<Problem>>| {
            let (on_rotated, endpoint) = (on_rotated.clone(), endpoint.clone());
            let done =
                Callback::from(move |outcome: Result<SecretRotated, Problem>| match outcome {
                    Ok(r) => {
                        report.emit(None);
                        on_rotated.emit(NewSecret {
                            endpoint: endpoint.clone(),
                            secret: r.secret,
                            rotated: true,
                        });
                    }
                    Err(p) => report.emit(Some(p)),
                });
            send(&config, Worker::PlatformAuth, "POST", &path, None, done);
        })
    };
    let delete = {
        let (config, path, deleted) =
            (ctx.config.clone(), format!("/v1/webhooks/{id}"), props.on_changed.clone());
        Callback::from(move |report: Callback<Option<Problem>>| {
            let deleted = deleted.clone();
            let done = Callback::from(move |outcome: Result<(), Problem>| match outcome {
                // Already gone (deleted in another tab): the list is what matters.
                Ok(()) | Err(Problem { status: 404, .. }) => {
                    report.emit(None);
                    deleted.emit(());
                }
                Err(p) => report.emit(Some(p)),
            });
            send(&config, Worker::PlatformAuth, "DELETE", &path, None, done);
        })
    };
    let title_id = format!("{id}-title");
    let (awaited, kick) = match &*sent {
        Some((message, n)) => (Some(message.clone()), *n),
        None => (None, 0),
    };
    html! {
        <section class="card endpoint" aria-labelledby={title_id.clone()} data-testid="webhook-endpoint">
            <h2 id={title_id} class="endpoint-url">{ &endpoint.url }</h2>
            if endpoint.disabled {
                <p class="callout" data-testid="endpoint-disabled"><strong>{"Disabled. "}</strong>{"It answered 410 Gone to a delivery, which means \"stop sending\": nothing more is sent to it. Delete it and add it again to receive events."}</p>
            }
            if let Some(note) = &endpoint.description { <p>{ note }</p> }
            <p>{"Gets "}{ events_text(&endpoint.events) }{"."}</p>
            <p class="note">{ format!("Added {}; id ", local_datetime(&endpoint.created_at)) }<code>{ &id }</code></p>
            { props.secret.as_ref().map(secret_panel).unwrap_or_default() }
            <div class="actions">
                <button type="button" class="primary" onclick={send_test} disabled={endpoint.disabled}>{"Send test"}</button>
                <Confirm opener="Rotate secret" title="Rotate the signing secret?" id={format!("{id}-rotate")}
                    confirm="Rotate secret now" run={rotate}>
                    <p>{"You get a new secret, shown once. The current secret keeps signing every delivery beside the new one for 24 hours: switch your server to the new secret before then."}</p>
                </Confirm>
                <Confirm opener="Delete" title="Delete this endpoint?" id={format!("{id}-delete")}
                    confirm="Delete endpoint" run={delete}>
                    <p>{ format!("Nothing more is sent to {}; messages still waiting for it are dropped, and its delivery history goes with it.", endpoint.url) }</p>
                </Confirm>
            </div>
            if let Some(message) = &awaited {
                <p class="note" role="status" data-testid="test-sent">{"Test message "}<code>{ message }</code>{" sent; its delivery shows below."}</p>
            }
            if let Some(p) = &*test_problem { { explain(p) } }
            <History ctx={ctx.clone()} endpoint={id.clone()} {awaited} {kick}
                disabled={endpoint.disabled} on_gone={props.on_changed.clone()} />
        </section>
    }
}

/// A problem with an endpoint, with what to do about it.
fn explain(p: &Problem) -> Html {
    let advice = match p.status {
        404 => "This endpoint no longer exists: reload the page.",
        409 => "The endpoint is disabled: delete it and add it again.",
        _ => p.advice(),
    };
    html! {
        <div class="problem" role="alert"><p><strong>{ &p.message }</strong></p><p>{ advice }</p></div>
    }
}

/// A secret shown once, with its copy button and how to check a delivery with it.
fn secret_panel(new: &NewSecret) -> Html {
    let which = if new.rotated { "The new signing secret" } else { "The signing secret" };
    html! {
        <div class="secret" id={secret_panel_id(&new.endpoint)} tabindex="-1" data-testid="webhook-secret-panel">
            <p><strong>{ format!("{which}: copy it now, it is not shown again.") }</strong></p>
            <p><code data-testid="webhook-secret">{ &new.secret }</code></p>
            <CopyButton text={new.secret.clone()} label="Copy signing secret" />
            if new.rotated {
                <p class="note">{"The previous secret keeps signing beside this one for 24 hours."}</p>
            }
            <p>{"Every delivery carries the headers "}<code>{"webhook-id"}</code>{", "}<code>{"webhook-timestamp"}</code>{" and "}<code>{"webhook-signature"}</code>
                {" (Standard Webhooks). Check them with this secret before trusting a delivery, for instance with the "}<code>{"standardwebhooks"}</code>{" package:"}</p>
            <Snippet text={VERIFY} testid="verify-snippet" copy="Copy the verification code" label="Verifying a delivery with standardwebhooks" />
        </div>
    }
}

fn secret_panel_id(endpoint: &str) -> String {
    format!("{endpoint}-secret")
}

#[derive(Properties, PartialEq)]
struct ConfirmProps {
    /// The button that opens the dialog.
    opener: AttrValue,
    /// The dialog's heading.
    title: AttrValue,
    /// Unique on the page: the dialog's heading is `{id}-title`.
    id: AttrValue,
    /// The button that does it.
    confirm: AttrValue,
    /// Does it, then reports: `None` once done (the dialog closes), or the problem.
    run: Callback<Callback<Option<Problem>>>,
    children: Html,
}

/// A button that asks in a modal dialog before it acts.
#[function_component(Confirm)]
fn confirm(props: &ConfirmProps) -> Html {
    let open = use_state(|| false);
    let busy = use_state(|| false);
    let problem = use_state(|| None::<Problem>);
    let set_open = |to: bool| {
        let (open, problem) = (open.clone(), problem.clone());
        Callback::from(move |_: ()| {
            problem.set(None);
            open.set(to);
        })
    };
    let (show, close) = (set_open(true), set_open(false));
    let act = {
        let (open, busy, problem, run) =
            (open.clone(), busy.clone(), problem.clone(), props.run.clone());
        Callback::from(move |_: MouseEvent| {
            let (open, busy2, problem) = (open.clone(), busy.clone(), problem.clone());
            busy.set(true);
            run.emit(Callback::from(move |outcome: Option<Problem>| {
                busy2.set(false);
                match outcome {
                    None => open.set(false),
                    Some(p) => problem.set(Some(p)),
                }
            }));
        })
    };
    let title_id = format!("{}-title", props.id);
    html! {
        <>
            <button type="button" onclick={show.reform(|_: MouseEvent| ())}>{ &props.opener }</button>
            <Dialog open={*open} id={title_id} title={props.title.clone()} on_close={close.clone()}>
                { props.children.clone() }
                if let Some(p) = &*problem { { explain(p) } }
                <div class="actions">
                    <button type="button" class="danger" onclick={act} disabled={*busy}>{ &props.confirm }</button>
                    <button type="button" onclick={close.reform(|_: MouseEvent| ())}>{"Cancel"}</button>
                </div>
            </Dialog>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct HistoryProps {
    ctx: Ctx,
    endpoint: String,
    /// The test message last sent, until it shows.
    awaited: Option<String>,
    /// Bumped with each test sent: read every 2 s while something is due.
    kick: u32,
    /// Whether the list says the endpoint is disabled.
    disabled: bool,
    /// A delivery was answered `410 Gone` while the list said the endpoint was enabled:
    /// the list is out of date.
    on_gone: Callback<()>,
}

/// The endpoint's delivery history, newest first.
#[function_component(History)]
fn history(props: &HistoryProps) -> Html {
    let loaded = use_state(|| None::<Result<Vec<DeliveryRecord>, Problem>>);
    let reads = use_reducer(Counter::default);
    let polls = use_mut_ref(|| 0u32);
    let alive = use_mut_ref(|| true);
    {
        let alive = alive.clone();
        use_effect_with((), move |_| move || *alive.borrow_mut() = false);
    }
    {
        let (polls, reads) = (polls.clone(), reads.dispatcher());
        use_effect_with(props.kick, move |kick| {
            if *kick > 0 {
                *polls.borrow_mut() = POLLS;
                reads.dispatch(());
            }
        });
    }
    {
        let (loaded, config, awaited, again) =
            (loaded.clone(), props.ctx.config.clone(), props.awaited.clone(), reads.dispatcher());
        let gone = (!props.disabled).then(|| props.on_gone.clone());
        let path = format!("/v1/webhooks/{}/deliveries?limit={HISTORY_LIMIT}", props.endpoint);
        use_effect_with(reads.0, move |_| {
            let done = Callback::from(move |answer: Result<DeliveryList, Problem>| {
                let due =
                    answer.as_ref().is_ok_and(|l| keep_polling(&l.deliveries, awaited.as_deref()));
                if answer.as_ref().is_ok_and(|l| answered_gone(&l.deliveries)) {
                    if let Some(gone) = &gone {
                        gone.emit(());
                    }
                }
                loaded.set(Some(answer.map(|l| l.deliveries)));
                let mut left = polls.borrow_mut();
                if due && *left > 0 {
                    *left -= 1;
                    let (alive, again) = (alive.clone(), again.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        sleep_ms(POLL_MS).await;
                        if *alive.borrow() {
                            again.dispatch(());
                        }
                    });
                }
            });
            send(&config, Worker::PlatformAuth, "GET", &path, None, done);
        });
    }
    let refresh = {
        let again = reads.dispatcher();
        Callback::from(move |_| again.dispatch(()))
    };
    let heading_id = format!("{}-history", props.endpoint);
    let body = match &*loaded {
        None => html! { <Loading what="the delivery history" /> },
        Some(Err(p)) => html! { <ProblemView problem={p.clone()} retry={refresh.clone()} /> },
        Some(Ok(list)) if list.is_empty() => {
            html! { <p class="empty">{"No messages yet: Send test sends one."}</p> }
        }
        Some(Ok(list)) => deliveries_table(list, &heading_id),
    };
    html! {
        <div class="history">
            <div class="history-head">
                <h3 id={heading_id.clone()}>{"Delivery history"}</h3>
                <button type="button" onclick={refresh.reform(|_: MouseEvent| ())}>{"Refresh"}</button>
            </div>
            { body }
        </div>
    }
}

fn deliveries_table(list: &[DeliveryRecord], heading_id: &str) -> Html {
    let time = |at: &Option<String>| at.as_deref().map_or_else(|| "—".to_string(), local_datetime);
    html! {
        <div class="table-wrap" tabindex="0" role="region" aria-labelledby={heading_id.to_string()}>
            <table class="deliveries">
                <thead><tr>
                    <th scope="col">{"Message"}</th><th scope="col">{"Status"}</th>
                    <th scope="col">{"Attempts"}</th><th scope="col">{"Last answer"}</th>
                    <th scope="col">{"Last attempt"}</th>
                </tr></thead>
                <tbody>{ for list.iter().map(|d| html! {
                    <tr data-testid="delivery">
                        <td>{ d.event_type.as_str() }<br /><code class="message-id" data-testid="delivery-message">{ d.message_id.as_str() }</code></td>
                        <td data-testid="delivery-status">{ status_words(d, local_datetime) }</td>
                        <td data-testid="delivery-attempts">{ d.attempts }</td>
                        <td data-testid="delivery-last-status">{ last_answer(d) }</td>
                        <td>{ time(&d.last_attempt_at) }</td>
                    </tr>
                }) }</tbody>
            </table>
        </div>
    }
}
