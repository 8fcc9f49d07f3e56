//! Pieces every screen uses: loading and error states, links, the navigation, the
//! pricing table, a copy button.

use crate::auth::{self, Provider};
use crate::state::{limit_text, money, Problem};
use crate::{Account, Ctx, Route};
use dream_core::tier::Tier;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct LoadingProps {
    pub what: AttrValue,
}

#[function_component(Loading)]
pub fn loading(props: &LoadingProps) -> Html {
    html! { <p class="loading" role="status" aria-live="polite">{ format!("Loading {}…", props.what) }</p> }
}

#[derive(Properties, PartialEq)]
pub struct ProblemProps {
    pub problem: Problem,
    #[prop_or_default]
    pub retry: Option<Callback<()>>,
}

/// An error with what to do about it, and a retry when one makes sense.
#[function_component(ProblemView)]
pub fn problem_view(props: &ProblemProps) -> Html {
    let retry = props.retry.clone().map(|retry| {
        html! { <button type="button" onclick={Callback::from(move |_| retry.emit(()))}>{"Retry"}</button> }
    });
    html! {
        <div class="problem" role="alert">
            <p><strong>{ &props.problem.message }</strong></p>
            <p>{ props.problem.advice() }</p>
            { for retry }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct LinkProps {
    pub ctx: Ctx,
    pub to: Route,
    pub label: AttrValue,
    #[prop_or_default]
    pub current: bool,
    #[prop_or_default]
    pub class: Classes,
}

/// A link that changes screen without reloading (and still works as a plain link).
#[function_component(Link)]
pub fn link(props: &LinkProps) -> Html {
    let (navigate, to) = (props.ctx.navigate.clone(), props.to.clone());
    let onclick = Callback::from(move |e: MouseEvent| {
        if !(e.ctrl_key() || e.meta_key() || e.shift_key()) {
            e.prevent_default();
            navigate.emit(to.clone());
        }
    });
    let current = props.current.then_some("page");
    html! { <a class={props.class.clone()} href={props.to.path()} {onclick} aria-current={current}>{ &props.label }</a> }
}

/// A number that only goes up: bumping it (from any closure, however old) asks the
/// reads keyed on it to run again.
#[derive(Debug, Default, PartialEq)]
pub struct Counter(pub u32);

impl Reducible for Counter {
    type Action = ();

    fn reduce(self: Rc<Self>, _: ()) -> Rc<Self> {
        Rc::new(Self(self.0.wrapping_add(1)))
    }
}

#[derive(Properties, PartialEq)]
pub struct NavProps {
    pub ctx: Ctx,
    pub here: Route,
}

/// The one header of every page: the screens, and who is signed in.
#[function_component(Nav)]
pub fn nav(props: &NavProps) -> Html {
    let ctx = &props.ctx;
    let item = |to: Route, label: &'static str| {
        let current = props.here == to;
        html! { <li><Link ctx={ctx.clone()} {to} {label} {current} /></li> }
    };
    // What belongs to the platform shows once there is one.
    let platform = ctx.account.platform_id();
    let webhooks = platform.is_some().then(|| item(Route::Webhooks, "Webhooks"));
    let logs = platform.is_some().then(|| item(Route::Logs, "Logs"));
    let preview = platform.map(|id| item(Route::Preview(id), "Preview"));
    let who = match &ctx.account {
        Account::SignedIn { me, .. } => {
            let sign_out = ctx.sign_out.reform(|_: MouseEvent| ());
            let email = me.email.clone().unwrap_or_else(|| "Signed in".into());
            html! {
                <div class="who">
                    <span data-testid="account-email" title={email.clone()}>{ email }</span>
                    <button type="button" onclick={sign_out}>{"Sign out"}</button>
                </div>
            }
        }
        Account::SignedOut => html! { <div class="who"><SignInLink ctx={ctx.clone()} /></div> },
        Account::Checking | Account::Failed(_) => html! {},
    };
    html! {
        <header class="top">
            <Link ctx={ctx.clone()} to={Route::Landing} label="dream-api" class="brand" />
            <nav aria-label="Main">
                <ul>
                    { item(Route::Dashboard, "Dashboard") }
                    { item(Route::Tiers, "Tiers") }
                    { for webhooks }
                    { for logs }
                    { item(Route::Settings, "Settings") }
                    { for preview }
                </ul>
            </nav>
            { who }
        </header>
    }
}

#[derive(Properties, PartialEq)]
pub struct SignInProps {
    pub ctx: Ctx,
    #[prop_or_default]
    pub primary: bool,
    #[prop_or(AttrValue::Static("Sign in"))]
    pub label: AttrValue,
}

/// "Sign in": the local sign-in page is a plain link (it comes back to
/// `/auth/callback`); ClerkJS opens its own sign-in.
#[function_component(SignInLink)]
pub fn sign_in_link(props: &SignInProps) -> Html {
    let provider = props.ctx.config.auth.clone();
    let class = classes!(props.primary.then_some("button primary"));
    match &provider {
        Provider::Local { .. } => {
            html! { <a {class} href={auth::sign_in_url(&provider)}>{ &props.label }</a> }
        }
        Provider::Clerk { .. } => {
            let onclick = Callback::from(move |e: MouseEvent| {
                e.prevent_default();
                let provider = provider.clone();
                wasm_bindgen_futures::spawn_local(async move { auth::sign_in(&provider).await });
            });
            html! { <a {class} href="#sign-in" {onclick}>{ &props.label }</a> }
        }
    }
}

/// What a page that needs a session shows without one.
#[function_component(SignedOut)]
pub fn signed_out(props: &SignInProps) -> Html {
    html! {
        <div class="problem" role="alert">
            <p><strong>{"You are signed out."}</strong></p>
            <SignInLink ctx={props.ctx.clone()} primary=true />
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct PricingProps {
    pub tiers: Vec<Tier>,
    /// More at the foot of a tier's card (the demo's buttons).
    #[prop_or_default]
    pub footer: Option<Callback<Tier, Html>>,
}

/// The pricing table an end-user would see.
#[function_component(PricingTable)]
pub fn pricing_table(props: &PricingProps) -> Html {
    let tiers = &props.tiers;
    if tiers.is_empty() {
        return html! { <p class="empty">{"No tiers yet."}</p> };
    }
    html! {
        <div class="pricing">
            { for tiers.iter().map(|t| {
                let cents = t.price_cents;
                let price = if cents == 0 { "$0".to_string() } else { format!("{} / month", money(cents)) };
                html! {
                    <article class={classes!("tier", t.popular.then_some("popular"))} aria-label={t.name.clone()}>
                        if t.popular { <p class="badge">{"Most popular"}</p> }
                        <h3>{ &t.name }</h3>
                        <p class="price">{ price }</p>
                        <p>{ limit_text(t.limit) }</p>
                        <ul>{ for t.features.iter().map(|f| html! { <li>{ f }</li> }) }</ul>
                        { props.footer.as_ref().map(|footer| footer.emit(t.clone())).unwrap_or_default() }
                    </article>
                }
            }) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct CopyProps {
    pub text: AttrValue,
    pub label: AttrValue,
    /// The button's accessible name when its label alone is ambiguous (one per row).
    #[prop_or_default]
    pub name: Option<AttrValue>,
}

/// Copies `text` to the clipboard and says so.
#[function_component(CopyButton)]
pub fn copy_button(props: &CopyProps) -> Html {
    let copied = use_state(|| false);
    let onclick = {
        let (text, copied) = (props.text.clone(), copied.clone());
        Callback::from(move |_| {
            let (text, copied) = (text.clone(), copied.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(w) = web_sys::window() {
                    let done = wasm_bindgen_futures::JsFuture::from(
                        w.navigator().clipboard().write_text(&text),
                    )
                    .await;
                    copied.set(done.is_ok());
                }
            });
        })
    };
    html! {
        <>
            <button type="button" {onclick} aria-label={props.name.clone()}>{ &props.label }</button>
            if *copied { <span class="note" role="status">{" Copied."}</span> }
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct SnippetProps {
    pub text: AttrValue,
    pub testid: AttrValue,
    /// The copy button's name ("Copy the curl example").
    pub copy: AttrValue,
    /// What the code is, for screen readers ("curl").
    pub label: AttrValue,
}

/// Code to copy, with its copy button.
#[function_component(Snippet)]
pub fn snippet(props: &SnippetProps) -> Html {
    html! {
        <div class="snippet">
            <pre tabindex="0" aria-label={props.label.clone()}><code data-testid={props.testid.clone()}>{ &props.text }</code></pre>
            <CopyButton text={props.text.clone()} label={props.copy.clone()} />
        </div>
    }
}
