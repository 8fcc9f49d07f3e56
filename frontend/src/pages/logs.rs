//! `/logs`: the platform's metered calls and refusals, newest first, narrowed to one
//! end-user (applied on submit) or one status, a page at a time ("Load more" appends
//! the next). Each row names its request id, with a button that copies it.

use super::{platform_screen, send};
use crate::api::Worker;
use crate::components::{CopyButton, Loading, ProblemView};
use crate::logs_state::{
    code_text, count_text, empty_text, logs_path, LogEntry, LogFilter, LogPage, STATUSES,
};
use crate::state::Problem;
use crate::time::local_datetime_seconds;
use crate::Ctx;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
}

#[function_component(Logs)]
pub fn logs(props: &Props) -> Html {
    let ctx = &props.ctx;
    let body = platform_screen(ctx, "Request logs", || html! { <Log ctx={ctx.clone()} /> });
    html! { <main class="page"><h1>{"Logs"}</h1>{ body }</main> }
}

/// The rows read so far for the filter applied, and where the next page starts.
#[derive(Clone, PartialEq, Default)]
struct Rows {
    entries: Vec<LogEntry>,
    next_before: Option<String>,
}

/// What the page is doing: reading the first page, reading more, or idle.
#[derive(Clone, Copy, PartialEq)]
enum Reading {
    First,
    More,
    Idle,
}

#[function_component(Log)]
fn log(props: &Props) -> Html {
    let config = props.ctx.config.clone();
    let typed_user = use_state(String::new);
    let typed_status = use_state(|| None::<u16>);
    let applied = use_state(LogFilter::default);
    let rows = use_state(|| None::<Rows>);
    let reading = use_state(|| Reading::First);
    let problem = use_state(|| None::<Problem>);
    // Bumped on every new filter: a page read for an older filter is dropped.
    let generation = use_mut_ref(|| 0u32);

    // Reads one page: the first (replacing the rows) or the next (appended).
    let read_page = {
        let (config, rows, reading, problem, generation) =
            (config.clone(), rows.clone(), reading.clone(), problem.clone(), generation.clone());
        Rc::new(move |filter: LogFilter, before: Option<String>| {
            let first = before.is_none();
            if first {
                *generation.borrow_mut() += 1;
            }
            let asked = *generation.borrow();
            reading.set(if first { Reading::First } else { Reading::More });
            problem.set(None);
            let (rows, reading, problem, generation) =
                (rows.clone(), reading.clone(), problem.clone(), generation.clone());
            let done = Callback::from(move |outcome: Result<LogPage, Problem>| {
                if *generation.borrow() != asked {
                    return;
                }
                reading.set(Reading::Idle);
                match outcome {
                    Ok(page) => {
                        let mut entries = if first {
                            Vec::new()
                        } else {
                            (*rows).clone().unwrap_or_default().entries
                        };
                        entries.extend(page.entries);
                        rows.set(Some(Rows { entries, next_before: page.next_before }));
                    }
                    Err(p) => problem.set(Some(p)),
                }
            });
            let path = logs_path(&filter, before.as_deref());
            send(&config, Worker::PlatformAuth, "GET", &path, None, done);
        })
    };
    {
        let read_page = read_page.clone();
        use_effect_with((*applied).clone(), move |filter| read_page(filter.clone(), None));
    }
    let apply = {
        let (applied, typed_user, read_page) =
            (applied.clone(), typed_user.clone(), read_page.clone());
        Rc::new(move |status: Option<u16>| {
            let filter = LogFilter::new(&typed_user, status);
            if filter == *applied {
                // The same filter again: read it again (a refresh).
                read_page(filter, None);
            } else {
                applied.set(filter);
            }
        })
    };
    let onsubmit = {
        let (apply, status) = (apply.clone(), typed_status.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            apply(*status);
        })
    };
    let oninput = {
        let typed_user = typed_user.clone();
        Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            typed_user.set(input.value());
        })
    };
    let onchange = {
        let (apply, typed_status) = (apply.clone(), typed_status.clone());
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            let status = select.value().parse().ok();
            typed_status.set(status);
            apply(status);
        })
    };
    let load_more = {
        let (rows, applied, read_page) = (rows.clone(), applied.clone(), read_page.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(before) = (*rows).as_ref().and_then(|r| r.next_before.clone()) {
                read_page((*applied).clone(), Some(before));
            }
        })
    };
    let form = html! {
        <form class="filters" role="search" aria-label="Filter the log" {onsubmit}>
            <div class="field">
                <label for="log-user">{"End-user"}</label>
                <input id="log-user" type="text" value={(*typed_user).clone()} {oninput}
                    placeholder="Any end-user" aria-describedby="log-user-hint" autocomplete="off" />
            </div>
            <div class="field">
                <label for="log-status">{"Status"}</label>
                <select id="log-status" {onchange}>
                    { for STATUSES.iter().map(|(status, label)| html! {
                        <option value={status.map(|s| s.to_string()).unwrap_or_default()} selected={*typed_status == *status}>{ *label }</option>
                    }) }
                </select>
            </div>
            <button type="submit">{"Apply"}</button>
            <p id="log-user-hint" class="hint">{"End-user: an exact id, applied when you press Enter or Apply. Status applies at once."}</p>
        </form>
    };
    let list = match (&*rows, *reading) {
        (_, Reading::First) => html! { <Loading what="the log" /> },
        (None, _) => html! {},
        (Some(rows), _) if rows.entries.is_empty() => {
            html! { <p class="empty" data-testid="logs-empty">{ empty_text(&applied) }</p> }
        }
        (Some(rows), _) => table(&rows.entries),
    };
    let more =
        (*rows).as_ref().is_some_and(|r| r.next_before.is_some()) && *reading != Reading::First;
    html! {
        <>
            <p class="lead">{"Every call your server metered with POST /v1/usage/track, and every one refused, newest first: the last 10 000, up to 30 days back."}</p>
            { form }
            { list }
            if let Some(p) = &*problem { <ProblemView problem={p.clone()} /> }
            if *reading == Reading::More { <Loading what="more" /> }
            if more {
                <button type="button" onclick={load_more} disabled={*reading == Reading::More}>{"Load more"}</button>
            }
        </>
    }
}

fn table(entries: &[LogEntry]) -> Html {
    html! {
        <div class="table-wrap"><table class="logs">
            <caption class="note">{ count_text(entries.len()) }</caption>
            <thead><tr>
                <th scope="col">{"Time"}</th><th scope="col">{"End-user"}</th><th scope="col">{"Status"}</th>
                <th scope="col">{"Code"}</th><th scope="col">{"Amount"}</th><th scope="col">{"Request id"}</th>
            </tr></thead>
            <tbody>{ for entries.iter().map(row) }</tbody>
        </table></div>
    }
}

fn row(e: &LogEntry) -> Html {
    let name = format!("Copy request id {}", e.request_id);
    html! {
        <tr data-testid="log-row" key={e.request_id.clone()}>
            <td>{ local_datetime_seconds(&e.at) }</td>
            <td data-testid="log-user">{ e.user_id.as_str() }</td>
            <td data-testid="log-status">{ e.status }</td>
            <td data-testid="log-code">{ code_text(e.code.as_deref()) }</td>
            <td>{ e.amount }</td>
            <td class="request-id"><code data-testid="log-request-id">{ &e.request_id }</code>{" "}
                <CopyButton text={e.request_id.clone()} label="Copy" {name} /></td>
        </tr>
    }
}
