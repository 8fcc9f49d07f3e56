//! `/dashboard`: the developer's plan and this month's usage (with the upgrade), their
//! credentials and a first call to copy, the key's rotation, the preview, usage over 30
//! days, and their end-users. It reads everything again every 10 s while the tab is
//! visible.

use super::charts::{RevenueCard, UsageChart};
use super::{go_to, origin, post, query, send, sleep_ms, use_read, use_refresh_while_visible};
use super::{Load, Problem};
use crate::answers::UsersPage;
use crate::answers::{self, Credentials, EndUser, Me, MyPlatform, Rotation, Stats, StripePage};
use crate::api::{self, Worker};
use crate::components::{CopyButton, Counter, Link, Loading, ProblemView, SignedOut, Snippet};
use crate::dialog::Dialog;
use crate::snippets;
use crate::state::{plan_sentence, upgrade_prompt, usage_percent, usage_text, Upgrade};
use crate::time::{billing_period, local_datetime};
use crate::{Account, Ctx, Route};
use dream_core::meter::Usage;
use dream_core::platform::{Mode, PlatformPlan};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::rc::Rc;
use yew::prelude::*;

/// How often the dashboard reads again while visible.
const REFRESH_MS: i32 = 10_000;

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
    let body = match &ctx.account {
        Account::Checking => html! { <Loading what="your account" /> },
        Account::SignedOut => html! { <SignedOut ctx={ctx.clone()} /> },
        Account::Failed(p) => {
            html! { <ProblemView problem={p.clone()} retry={ctx.refresh.clone()} /> }
        }
        Account::SignedIn { me, read_at } => html! {
            <Signed ctx={ctx.clone()} me={(**me).clone()} read_at={read_at.clone()} />
        },
    };
    html! { <main class="page"><h1>{"Dashboard"}</h1>{ body }</main> }
}

#[derive(Properties, PartialEq)]
struct SignedProps {
    ctx: Ctx,
    me: Me,
    read_at: String,
}

#[function_component(Signed)]
fn signed(props: &SignedProps) -> Html {
    let (ctx, me) = (&props.ctx, &props.me);
    let activity = use_reducer(Counter::default);
    {
        let (refresh, bump) = (ctx.refresh.clone(), activity.dispatcher());
        use_refresh_while_visible(
            REFRESH_MS,
            Callback::from(move |_| {
                refresh.emit(());
                bump.dispatch(());
            }),
        );
    }
    let new_key = use_state(|| None::<NewKey>);
    let busy: Busy = use_state(|| None);
    let paid = me.plan == PlatformPlan::Paid;
    let upgraded = query("upgraded").is_some();
    // After paying, the plan follows Stripe's webhook: look again every 2 s for a while.
    let upgrade_polls = use_mut_ref(|| 0u32);
    {
        let (refresh, polls) = (ctx.refresh.clone(), upgrade_polls.clone());
        use_effect_with(props.read_at.clone(), move |_| {
            let mut polls = polls.borrow_mut();
            if upgraded && !paid && *polls < 15 {
                *polls += 1;
                wasm_bindgen_futures::spawn_local(async move {
                    sleep_ms(2000).await;
                    refresh.emit(());
                });
            }
        });
    }

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
        let (new_key, refresh) = (new_key.clone(), ctx.refresh.clone());
        Callback::from(move |key: NewKey| {
            new_key.set(Some(key));
            refresh.emit(());
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

    let usage = &me.usage;
    let has_platform = me.platform.is_some();
    let prompt = upgrade_prompt(usage, paid);
    let plan_card = html! {
        <section class="card" aria-labelledby="plan-title">
            <h2 id="plan-title">{"Your plan "}<span class={classes!("badge", paid.then_some("paid"))} data-testid="plan-badge">{ if paid { "PAID" } else { "FREE" } }</span></h2>
            <p data-testid="usage-text">{ usage_text(usage) }</p>
            { progress(usage) }
            <p>{"Billing period: "}<span data-testid="billing-period">{ billing_period(usage) }</span></p>
            <p>{ plan_sentence(paid, usage.limit) }</p>
            if upgraded && paid { <p role="status" class="ok">{ format!("You are on the paid plan now: {}.", limit_words(usage.limit)) }</p> }
            if upgraded && !paid { <p role="status">{"Thank you! Your plan changes as soon as Stripe confirms the payment."}</p> }
            if prompt == Upgrade::Reached { <p class="callout" role="alert">{"You have used every call this month: the API refuses new calls until you upgrade or the month ends."}</p> }
            if prompt == Upgrade::Nearing { <p class="callout">{"You have used 80% of this month's calls. Upgrade to keep going."}</p> }
            if paid {
                <button type="button" onclick={manage}>{"Manage billing"}</button>
            } else if has_platform {
                <button type="button" class="primary" onclick={upgrade}>{"Upgrade"}</button>
                <span class="note">{" $29 / month, 500 calls"}</span>
            } else {
                <p class="note">{"The plan belongs to your platform: create your credentials below, then upgrade ($29 / month, 500 calls)."}</p>
            }
            <p class="note" data-testid="refreshed-at">{ format!("Updated at {}", props.read_at) }</p>
        </section>
    };

    let credentials = match &me.platform {
        None => html! {
            <section class="card" aria-labelledby="cred-title">
                <h2 id="cred-title">{"Credentials"}</h2>
                <p>{"You have no API key yet. Create your platform to get one."}</p>
                <button type="button" class="primary" onclick={create}>{"Create credentials"}</button>
            </section>
        },
        Some(p) => credentials_card(ctx, p, &new_key, on_rotated),
    };

    let busy_view = match &*busy {
        Some(Ok(())) => html! { <p role="status">{"Working…"}</p> },
        Some(Err(p)) => html! { <ProblemView problem={p.clone()} /> },
        None => html! {},
    };
    html! {
        <>
            { busy_view }
            <div class="grid">{ plan_card }{ credentials }</div>
            if has_platform {
                { first_call(ctx, &new_key) }
                <Activity ctx={ctx.clone()} version={activity.0} />
            }
        </>
    }
}

/// "500 calls a month", "unlimited calls".
fn limit_words(limit: Option<u64>) -> String {
    match limit {
        Some(n) => format!("{n} calls a month"),
        None => "unlimited calls".into(),
    }
}

fn credentials_card(
    ctx: &Ctx,
    p: &MyPlatform,
    new_key: &UseStateHandle<Option<NewKey>>,
    on_rotated: Callback<Rotation>,
) -> Html {
    html! {
        <section class="card" aria-labelledby="cred-title">
            <h2 id="cred-title">{"Credentials"}</h2>
            <p>{"Platform ID "}<code data-testid="platform-id">{ p.platform_id.as_str() }</code></p>
            { key_panel(new_key) }
            if let Some(at) = p.previous_key_expires_at.as_deref() {
                <p class="callout" data-testid="previous-key-notice">{ format!("Your previous key still works until {}.", local_datetime(at)) }</p>
            }
            <Rotate ctx={ctx.clone()} {on_rotated} />
            <h3>{"Your pricing page"}</h3>
            <p>{"Preview: "}<code>{ &p.preview_url }</code></p>
            <CopyButton text={p.preview_url.clone()} label="Copy preview link" />
            {" "}<Link ctx={ctx.clone()} to={Route::Preview(p.platform_id.to_string())} label="Try demo" class="button" />
            <p class="note">{ mode_sentence(p.mode) }</p>
        </section>
    }
}

/// The first metered call, ready to run: with the key while it is on screen.
fn first_call(ctx: &Ctx, new_key: &Option<NewKey>) -> Html {
    let api_url = ctx.config.api_url.trim_end_matches('/');
    let key = new_key.as_ref().map(|k| k.key.as_str());
    let with = if key.is_some() {
        "With the key above, from your server (keep the key there, never in a browser):"
    } else {
        "From your server, with your API key in DREAM_API_KEY:"
    };
    html! {
        <section class="card" aria-labelledby="first-call-title">
            <h2 id="first-call-title">{"Your first call"}</h2>
            <p>{ with }</p>
            <div class="grid">
                <Snippet text={snippets::curl(api_url, key)} testid="first-call-curl" copy="Copy the first call" label="First call with curl" />
                <Snippet text={snippets::sdk(api_url, key)} testid="first-call-sdk" copy="Copy the SDK call" label="First call with the TypeScript client" />
            </div>
            <p class="note">{"Each call counts one for the end-user user_123 against their tier, and one against your plan; it appears below within 10 seconds."}</p>
        </section>
    }
}

fn mode_sentence(mode: Mode) -> &'static str {
    match mode {
        Mode::Preview => "Mode: preview. Your end-users' payments run on dream-api's test Stripe account, for up to 100 end-users; connect Stripe under Settings to go live.",
        Mode::Production => "Mode: production. Your end-users pay you directly, on your Stripe account.",
    }
}

fn progress(usage: &Usage) -> Html {
    match usage_percent(usage) {
        Some(p) => html! {
            <div class="bar" role="progressbar" aria-label="Calls used this month" aria-valuemin="0" aria-valuemax="100" aria-valuenow={p.to_string()}>
                // An SVG bar rather than a styled width: the Content Security Policy
                // allows no inline styles.
                <svg class="fill" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true" focusable="false">
                    <rect class={classes!((p >= 80).then_some("warn"))} width={p.to_string()} height="1" />
                </svg>
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
                if let Some(at) = &k.expires { <p class="note">{ format!("Your previous key works until {}.", local_datetime(at)) }</p> }
            </div>
        },
    }
}

#[derive(Properties, PartialEq)]
struct RotateProps {
    ctx: Ctx,
    on_rotated: Callback<Rotation>,
}

/// The grace periods offered, the safe overlap first (the default).
const GRACE_CHOICES: [(u64, &str); 3] =
    [(3600, "1 hour"), (86_400, "24 hours"), (0, "No overlap: the current key stops now")];

/// "Rotate key": a dialog that asks how long the current key keeps working.
#[function_component(Rotate)]
fn rotate(props: &RotateProps) -> Html {
    let open = use_state(|| false);
    let grace = use_state(|| GRACE_CHOICES[0].0);
    let problem = use_state(|| None::<Problem>);
    let busy = use_state(|| false);
    let show = {
        let (open, problem) = (open.clone(), problem.clone());
        Callback::from(move |_| {
            problem.set(None);
            open.set(true);
        })
    };
    let close = {
        let open = open.clone();
        Callback::from(move |_| open.set(false))
    };
    let onchange = {
        let grace = grace.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            grace.set(select.value().parse().unwrap_or(GRACE_CHOICES[0].0));
        })
    };
    let confirm = {
        let (config, open, grace, problem, busy, done) = (
            props.ctx.config.clone(),
            open.clone(),
            grace.clone(),
            problem.clone(),
            busy.clone(),
            props.on_rotated.clone(),
        );
        Callback::from(move |_| {
            let (open, problem, busy, done) =
                (open.clone(), problem.clone(), busy.clone(), done.clone());
            busy.set(true);
            let outcome = Callback::from(move |outcome: Result<Rotation, Problem>| {
                busy.set(false);
                match outcome {
                    Ok(rotation) => {
                        open.set(false);
                        done.emit(rotation);
                    }
                    Err(p) => problem.set(Some(p)),
                }
            });
            let body = json!({ "graceSeconds": *grace });
            let path = "/v1/credentials/rotate";
            send(&config, Worker::PlatformAuth, "POST", path, Some(body), outcome);
        })
    };
    html! {
        <>
            <button type="button" onclick={show}>{"Rotate key"}</button>
            <Dialog open={*open} id="rotate-title" title="Rotate the API key?" on_close={close.clone()}>
                <p>{"You get a new key. Servers using the current key must switch to it before the current key stops working."}</p>
                <div class="field">
                    <label for="grace">{"Keep the current key working for"}</label>
                    <select id="grace" {onchange}>
                        { for GRACE_CHOICES.iter().map(|(seconds, label)| html! {
                            <option value={seconds.to_string()} selected={*grace == *seconds}>{ *label }</option>
                        }) }
                    </select>
                </div>
                if let Some(p) = &*problem { <ProblemView problem={p.clone()} /> }
                <div class="actions">
                    <button type="button" class="danger" onclick={confirm} disabled={*busy}>{"Rotate now"}</button>
                    <button type="button" onclick={close.reform(|_: MouseEvent| ())}>{"Cancel"}</button>
                </div>
            </Dialog>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ActivityProps {
    ctx: Ctx,
    /// Read again whenever this changes.
    version: u32,
}

/// Usage over 30 days and the end-users, from one refresh; revenue. There only once the
/// platform exists.
#[function_component(Activity)]
fn activity(props: &ActivityProps) -> Html {
    let (ctx, version) = (&props.ctx, props.version);
    let counts = use_counts(ctx, version);
    let revenue = use_read(ctx, Worker::PlatformAuth, "/v1/revenue".into(), version);
    let retry = ctx.refresh.clone();
    let (chart, users) = match counts {
        None => (html! { <Loading what="usage" /> }, html! { <Loading what="end-users" /> }),
        Some(Err(p)) => (html! { <ProblemView problem={p} retry={retry.clone()} /> }, html! {}),
        Some(Ok(counts)) => {
            let stats = Rc::new(counts.0.clone());
            (html! { <UsageChart {stats} /> }, end_users(&counts.1.users))
        }
    };
    let revenue = match revenue {
        None => html! { <Loading what="revenue" /> },
        Some(Err(p)) => html! { <ProblemView problem={p} {retry} /> },
        Some(Ok(r)) => html! { <RevenueCard revenue={Rc::new(r)} /> },
    };
    html! { <>{ chart }{ users }{ revenue }</> }
}

/// The usage and the end-users of one refresh, together: the usage is read first and
/// the end-users after it, both from the platform's object, so an end-user's count is
/// never older than the totals beside it; neither is shown until both have come, and
/// an answer to an older refresh is dropped.
#[hook]
fn use_counts(ctx: &Ctx, version: u32) -> Load<Rc<(Stats, UsersPage)>> {
    let result = use_state(|| None);
    let latest = use_mut_ref(|| 0u32);
    {
        let (result, config, latest) = (result.clone(), ctx.config.clone(), latest.clone());
        use_effect_with(version, move |version| {
            let version = *version;
            *latest.borrow_mut() = version;
            wasm_bindgen_futures::spawn_local(async move {
                let read = |path: &'static str| {
                    api::call(&config, Worker::PlatformAuth, "GET", path, None)
                };
                let stats = read("/v1/stats?days=30")
                    .await
                    .and_then(|(s, t)| answers::read::<Stats>(s, &t));
                let both = match stats {
                    Ok(stats) => read("/v1/users?limit=50")
                        .await
                        .and_then(|(s, t)| answers::read::<UsersPage>(s, &t))
                        .map(|users| Rc::new((stats, users))),
                    Err(p) => Err(p),
                };
                if *latest.borrow() == version {
                    result.set(Some(both));
                }
            });
        });
    }
    (*result).clone()
}

fn end_users(users: &[EndUser]) -> Html {
    html! {
        <section class="card" aria-labelledby="users-title">
            <h2 id="users-title">{"End-users"}</h2>
            <p class="note">{"Each end-user's count is against their own tier's limit; your plan's quota above counts every end-user's calls together."}</p>
            if users.is_empty() {
                <p class="empty">{"No end-users yet."}</p>
            } else {
                <div class="table-wrap"><table>
                    <thead><tr><th scope="col">{"End-user"}</th><th scope="col">{"Tier"}</th><th scope="col">{"Usage (of their tier's limit)"}</th><th scope="col">{"Billing period"}</th></tr></thead>
                    <tbody>{ for users.iter().map(|u| html! {
                        <tr data-testid="end-user"><td>{ &u.user_id }</td><td>{ &u.plan }</td>
                            <td data-testid="end-user-usage">{ usage_text(&u.usage) }</td>
                            <td data-testid="end-user-period">{ billing_period(&u.usage) }</td></tr>
                    }) }</tbody>
                </table></div>
            }
        </section>
    }
}

/// What a page that needs a session shows without one.
pub fn signed_out(ctx: &Ctx) -> Html {
    html! { <SignedOut ctx={ctx.clone()} /> }
}
