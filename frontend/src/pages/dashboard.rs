//! `/dashboard`: the developer's plan and this month's usage (with the upgrade), their
//! credentials, the preview link, usage over 30 days, and their end-users.

use super::{go_to, origin, post, query, send, use_read, Load};
use crate::answers::{Credentials, Me, Rotation, Stats, StripePage, Usage, UsersPage};
use crate::api::Worker;
use crate::auth;
use crate::components::{CopyButton, Link, Loading, Nav, ProblemView};
use crate::state::{upgrade_prompt, usage_percent, usage_text, Problem, Upgrade};
use crate::{Ctx, Route};
use dream_core::platform::{Mode, PlatformPlan};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub ctx: Ctx,
}

/// A key the developer has just been given: shown this once.
#[derive(Clone, PartialEq)]
struct NewKey {
    key: String,
    expires: Option<String>,
}

/// What a button's call is doing: `Some(Ok)` on its way, `Some(Err)` failed.
type Busy = UseStateHandle<Option<Result<(), Problem>>>;

/// A button that posts `body` to `path` of the dashboard's backend, shows that it is
/// busy or why it failed, and hands the answer to `then`.
fn act<T: DeserializeOwned + 'static>(
    ctx: &Ctx,
    busy: &Busy,
    path: &'static str,
    body: Value,
    then: Callback<T>,
) -> Callback<MouseEvent> {
    let done = {
        let busy = busy.clone();
        then.reform(move |answer: T| {
            busy.set(None);
            answer
        })
    };
    let failed = {
        let busy = busy.clone();
        Callback::from(move |p| busy.set(Some(Err(p))))
    };
    let clicked = post(ctx, Worker::PlatformAuth, path, Some(body), done, failed);
    let busy = busy.clone();
    Callback::from(move |e| {
        busy.set(Some(Ok(())));
        clicked.emit(e);
    })
}

#[function_component(Dashboard)]
pub fn dashboard(props: &Props) -> Html {
    let ctx = &props.ctx;
    let version = use_state(|| 0u32);
    let me: Load<Me> = use_read(ctx, Worker::PlatformAuth, "/v1/me".into(), *version);
    let stats = use_read(ctx, Worker::PlatformAuth, "/v1/stats?days=30".into(), *version);
    let users = use_read(ctx, Worker::PlatformAuth, "/v1/users?limit=50".into(), *version);
    let new_key = use_state(|| None::<NewKey>);
    let busy: Busy = use_state(|| None);
    let reload = {
        let version = version.clone();
        Callback::from(move |_| version.set(*version + 1))
    };
    // After paying, the plan follows Stripe's webhook: look again for a while.
    {
        let (version, me) = (version.clone(), me.clone());
        use_effect_with(me.clone().and_then(Result::ok).map(|m| m.plan), move |plan| {
            let waiting = query("upgraded").is_some()
                && plan.is_some_and(|p| p != PlatformPlan::Paid)
                && *version < 15;
            if waiting {
                let version = version.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    sleep_ms(2000).await;
                    version.set(*version + 1);
                });
            }
            drop(me);
        });
    }

    let me = match me {
        None => return page(ctx, None, html! { <Loading what="your account" /> }),
        Some(Err(p)) if p.status == 401 => return page(ctx, None, signed_out(ctx)),
        Some(Err(p)) => {
            return page(ctx, None, html! { <ProblemView problem={p} retry={reload} /> })
        }
        Some(Ok(me)) => me,
    };
    let usage = &me.usage;
    let paid = me.plan == PlatformPlan::Paid;
    let platform = me.platform.as_ref();
    let platform_id = platform.map(|p| p.platform_id.to_string());

    let to_stripe = Callback::from(|page: StripePage| go_to(&page.url));
    let upgrade = act(
        ctx,
        &busy,
        "/v1/checkout",
        json!({ "successUrl": format!("{}/dashboard?upgraded=1", origin()), "cancelUrl": format!("{}/dashboard", origin()) }),
        to_stripe.clone(),
    );
    let manage = act(
        ctx,
        &busy,
        "/v1/portal",
        json!({ "returnUrl": format!("{}/dashboard", origin()) }),
        to_stripe,
    );
    let show_key = {
        let (new_key, reload) = (new_key.clone(), reload.clone());
        Callback::from(move |key: NewKey| {
            new_key.set(Some(key));
            reload.emit(());
        })
    };
    let create = act(
        ctx,
        &busy,
        "/v1/credentials",
        json!({}),
        show_key.reform(|c: Credentials| NewKey { key: c.api_key, expires: None }),
    );
    let on_rotated = show_key
        .reform(|r: Rotation| NewKey { key: r.api_key, expires: Some(r.previous_key_expires_at) });

    let prompt = upgrade_prompt(usage, paid);
    let plan_card = html! {
        <section class="card" aria-labelledby="plan-title">
            <h2 id="plan-title">{"Your plan "}<span class={classes!("badge", paid.then_some("paid"))} data-testid="plan-badge">{ if paid { "PAID" } else { "FREE" } }</span></h2>
            <p data-testid="usage-text">{ usage_text(usage) }</p>
            { progress(usage) }
            if query("upgraded").is_some() && !paid { <p role="status">{"Thank you! Your plan changes as soon as Stripe confirms the payment."}</p> }
            if prompt == Upgrade::Reached { <p class="callout" role="alert">{"You have used every call this month: the API refuses new calls until you upgrade or the month ends."}</p> }
            if prompt == Upgrade::Nearing { <p class="callout">{"You have used 80% of this month's calls. Upgrade to keep going."}</p> }
            if paid {
                <button type="button" onclick={manage}>{"Manage billing"}</button>
            } else if platform_id.is_some() {
                <button type="button" class="primary" onclick={upgrade}>{"Upgrade"}</button>
                <span class="note">{" $29 / month, 500 calls"}</span>
            } else {
                <p class="note">{"The plan belongs to your platform: create your credentials below, then upgrade ($29 / month, 500 calls)."}</p>
            }
        </section>
    };

    let credentials = match platform {
        None => html! {
            <section class="card" aria-labelledby="cred-title">
                <h2 id="cred-title">{"Credentials"}</h2>
                <p>{"You have no API key yet. Create your platform to get one."}</p>
                <button type="button" class="primary" onclick={create}>{"Create credentials"}</button>
            </section>
        },
        Some(p) => html! {
            <section class="card" aria-labelledby="cred-title">
                <h2 id="cred-title">{"Credentials"}</h2>
                <p>{"Platform ID "}<code data-testid="platform-id">{ p.platform_id.as_str() }</code></p>
                { key_panel(&new_key) }
                <Rotate ctx={ctx.clone()} {on_rotated} />
                <p>{"Preview page: "}<code>{ &p.preview_url }</code></p>
                <CopyButton text={p.preview_url.clone()} label="Copy preview link" />
                {" "}<Link ctx={ctx.clone()} to={Route::Preview(p.platform_id.to_string())} label="Try demo" />
                <p class="note">{ format!("Mode: {}", mode_name(p.mode)) }</p>
            </section>
        },
    };

    let busy_view = match &*busy {
        Some(Ok(())) => html! { <p role="status">{"Working…"}</p> },
        Some(Err(p)) => html! { <ProblemView problem={p.clone()} /> },
        None => html! {},
    };
    let body = html! {
        <>
            <h1>{"Dashboard"}</h1>
            { busy_view }
            <div class="grid">{ plan_card }{ credentials }</div>
            if platform_id.is_some() {
                { chart(&stats, reload.clone()) }
                { end_users(&users, reload.clone()) }
            }
        </>
    };
    page(ctx, platform_id, body)
}

fn page(ctx: &Ctx, platform_id: Option<String>, body: Html) -> Html {
    html! {
        <>
            <Nav ctx={ctx.clone()} here={Route::Dashboard} {platform_id} />
            <main class="page">{ body }</main>
        </>
    }
}

/// The session ended (or never began): sign in.
pub fn signed_out(ctx: &Ctx) -> Html {
    let provider = ctx.config.auth.clone();
    let onclick = Callback::from(move |_| {
        let provider = provider.clone();
        wasm_bindgen_futures::spawn_local(async move { auth::sign_in(&provider).await });
    });
    html! {
        <div class="problem" role="alert">
            <p><strong>{"You are signed out."}</strong></p>
            <button type="button" class="primary" {onclick}>{"Sign in"}</button>
        </div>
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Preview => "preview",
        Mode::Production => "production",
    }
}

fn progress(usage: &Usage) -> Html {
    match usage_percent(usage) {
        Some(p) => html! {
            <div class="bar" role="progressbar" aria-label="Calls used this month" aria-valuemin="0" aria-valuemax="100" aria-valuenow={p.to_string()}>
                <div class={classes!("fill", (p >= 80).then_some("warn"))} style={format!("width: {p}%")}></div>
            </div>
        },
        None => html! {},
    }
}

fn key_panel(new_key: &UseStateHandle<Option<NewKey>>) -> Html {
    match &**new_key {
        None => {
            html! { <p class="note">{"Your API key was shown once, when it was created. Rotate it to get a new one."}</p> }
        }
        Some(k) => html! {
            <div class="secret">
                <p><strong>{"Your API key: copy it now, it is shown only once."}</strong></p>
                <p><code data-testid="api-key">{ &k.key }</code></p>
                <CopyButton text={k.key.clone()} label="Copy API key" />
                if let Some(at) = &k.expires { <p class="note">{ format!("The previous key works until {at}.") }</p> }
            </div>
        },
    }
}

#[derive(Properties, PartialEq)]
struct RotateProps {
    ctx: Ctx,
    on_rotated: Callback<Rotation>,
}

/// "Rotate key", confirmed, with a grace period for the old key.
#[function_component(Rotate)]
fn rotate(props: &RotateProps) -> Html {
    let open = use_state(|| false);
    let grace = use_state(|| 0u64);
    let problem = use_state(|| None::<Problem>);
    if !*open {
        let open = open.clone();
        return html! { <button type="button" onclick={Callback::from(move |_| open.set(true))}>{"Rotate key"}</button> };
    }
    let onchange = {
        let grace = grace.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            grace.set(select.value().parse().unwrap_or(0));
        })
    };
    let confirm = {
        let (config, open, grace, problem, done) = (
            props.ctx.config.clone(),
            open.clone(),
            grace.clone(),
            problem.clone(),
            props.on_rotated.clone(),
        );
        Callback::from(move |_| {
            let (open, problem, done) = (open.clone(), problem.clone(), done.clone());
            let outcome = Callback::from(move |outcome: Result<Rotation, Problem>| match outcome {
                Ok(rotation) => {
                    open.set(false);
                    done.emit(rotation);
                }
                Err(p) => problem.set(Some(p)),
            });
            let body = json!({ "graceSeconds": *grace });
            send(
                &config,
                Worker::PlatformAuth,
                "POST",
                "/v1/credentials/rotate",
                Some(body),
                outcome,
            );
        })
    };
    let cancel = {
        let open = open.clone();
        Callback::from(move |_| open.set(false))
    };
    html! {
        <div class="confirm" role="group" aria-labelledby="rotate-title">
            <p id="rotate-title"><strong>{"Rotate the API key?"}</strong>{" Servers using the current key must switch to the new one."}</p>
            <label for="grace">{"Grace period"}</label>
            <select id="grace" {onchange}>
                <option value="0" selected={*grace == 0}>{"None: the current key stops now"}</option>
                <option value="3600" selected={*grace == 3600}>{"1 hour"}</option>
                <option value="86400" selected={*grace == 86400}>{"24 hours"}</option>
            </select>
            <button type="button" class="danger" onclick={confirm}>{"Confirm rotation"}</button>
            <button type="button" onclick={cancel}>{"Cancel"}</button>
            if let Some(p) = &*problem { <ProblemView problem={p.clone()} /> }
        </div>
    }
}

/// Allowed calls per day over 30 days, as bars.
fn chart(stats: &Load<Stats>, retry: Callback<()>) -> Html {
    let stats = match stats {
        None => return html! { <Loading what="usage" /> },
        Some(Err(p)) => return html! { <ProblemView problem={p.clone()} {retry} /> },
        Some(Ok(s)) => s,
    };
    let days = &stats.daily;
    let max = days.iter().map(|d| d.calls).max().unwrap_or(0).max(1);
    let total = stats.total_calls;
    let width = 10 * days.len().max(1);
    let summary = format!("{total} calls in the last 30 days, at most {max} in a day");
    html! {
        <section class="card" aria-labelledby="chart-title">
            <h2 id="chart-title">{"Usage, last 30 days"}</h2>
            if total == 0 {
                <p class="empty">{"No calls yet: they appear here once your server calls POST /v1/usage/track."}</p>
            } else {
                <figure>
                    <svg viewBox={format!("0 0 {width} 100")} preserveAspectRatio="none" role="img" aria-label={summary.clone()} class="chart">
                        { for days.iter().enumerate().map(|(i, d)| {
                            let h = d.calls * 100 / max;
                            html! { <rect x={(i * 10 + 1).to_string()} y={(100 - h).to_string()} width="8" height={h.to_string()}><title>{ format!("{}: {} calls", d.date, d.calls) }</title></rect> }
                        }) }
                    </svg>
                    <figcaption>{ summary }{ format!("; {} denied.", stats.denied_calls) }</figcaption>
                </figure>
            }
        </section>
    }
}

fn end_users(users: &Load<UsersPage>, retry: Callback<()>) -> Html {
    let users = match users {
        None => return html! { <Loading what="end-users" /> },
        Some(Err(p)) => return html! { <ProblemView problem={p.clone()} {retry} /> },
        Some(Ok(page)) => &page.users,
    };
    html! {
        <section class="card" aria-labelledby="users-title">
            <h2 id="users-title">{"End-users"}</h2>
            if users.is_empty() {
                <p class="empty">{"No end-users yet."}</p>
            } else {
                <div class="table-wrap"><table>
                    <thead><tr><th scope="col">{"User"}</th><th scope="col">{"Plan"}</th><th scope="col">{"Usage"}</th></tr></thead>
                    <tbody>{ for users.iter().map(|u| html! {
                        <tr><td>{ &u.user_id }</td><td>{ &u.plan }</td><td>{ usage_text(&u.usage) }</td></tr>
                    }) }</tbody>
                </table></div>
            }
        </section>
    }
}

async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
