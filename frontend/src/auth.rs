//! Who is signed in, hiding which sign-in is behind it. In production, Clerk's own
//! JavaScript SDK (ClerkJS, configured by the publishable key) holds the session and
//! hands out fresh session tokens; locally, the Clerk stand-in's sign-in page sends the
//! browser back to `/auth/callback?__session=<token>`, kept in `localStorage`, so every
//! tab of the dashboard shares one session and a sign-out in one signs every tab out.

use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

const SESSION_KEY: &str = "dream.session";

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "kind")]
pub enum Provider {
    /// The Clerk stand-in's page (`signInUrl`).
    Local { sign_in_url: String },
    /// ClerkJS, loaded from the instance's Frontend API with this publishable key.
    Clerk { publishable_key: String, frontend_api: String },
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

/// Keeps the token the local sign-in page sent back.
pub fn keep(token: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(SESSION_KEY, token);
    }
}

/// Ends the local session (ClerkJS keeps its own).
pub fn forget() {
    if let Some(s) = storage() {
        let _ = s.remove_item(SESSION_KEY);
    }
}

fn clerk() -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let clerk = js_sys::Reflect::get(&window, &"Clerk".into()).ok()?;
    (!clerk.is_undefined()).then_some(clerk)
}

async fn call_method(target: &JsValue, name: &str, args: &js_sys::Array) -> Option<JsValue> {
    let method: js_sys::Function =
        js_sys::Reflect::get(target, &name.into()).ok()?.dyn_into().ok()?;
    let result = method.apply(target, args).ok()?;
    match result.dyn_into::<js_sys::Promise>() {
        Ok(promise) => JsFuture::from(promise).await.ok(),
        Err(value) => Some(value),
    }
}

/// Loads ClerkJS once (production), then waits for it to be ready.
pub async fn start(provider: &Provider) {
    let Provider::Clerk { publishable_key, frontend_api } = provider else { return };
    if clerk().is_none() {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
        let Ok(script) = document.create_element("script") else { return };
        let _ = script.set_attribute(
            "src",
            &format!("https://{frontend_api}/npm/@clerk/clerk-js@5/dist/clerk.browser.js"),
        );
        let _ = script.set_attribute("data-clerk-publishable-key", publishable_key);
        let loaded = js_sys::Promise::new(&mut |resolve, _| {
            let _ = script.add_event_listener_with_callback("load", &resolve);
        });
        if let Some(head) = document.head() {
            let _ = head.append_child(&script);
        }
        let _ = JsFuture::from(loaded).await;
    }
    if let Some(clerk) = clerk() {
        call_method(&clerk, "load", &js_sys::Array::new()).await;
    }
}

/// A current session token, or `None` when nobody is signed in.
pub async fn token(provider: &Provider) -> Option<String> {
    match provider {
        Provider::Local { .. } => storage()?.get_item(SESSION_KEY).ok()?,
        Provider::Clerk { .. } => {
            let session = js_sys::Reflect::get(&clerk()?, &"session".into()).ok()?;
            if session.is_null() || session.is_undefined() {
                return None;
            }
            call_method(&session, "getToken", &js_sys::Array::new()).await?.as_string()
        }
    }
}

/// The local sign-in page's address, coming back to `/auth/callback` (empty for ClerkJS).
pub fn sign_in_url(provider: &Provider) -> String {
    match provider {
        Provider::Local { sign_in_url } => {
            let back = format!("{}/auth/callback", origin());
            format!(
                "{sign_in_url}?redirect_url={}",
                String::from(js_sys::encode_uri_component(&back))
            )
        }
        Provider::Clerk { .. } => String::new(),
    }
}

/// Sends the browser to sign in; it comes back to `/auth/callback` (local) or stays (ClerkJS's modal).
pub async fn sign_in(provider: &Provider) {
    match provider {
        Provider::Local { .. } => {
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_href(&sign_in_url(provider));
            }
        }
        Provider::Clerk { .. } => {
            if let Some(clerk) = clerk() {
                call_method(&clerk, "openSignIn", &js_sys::Array::new()).await;
            }
        }
    }
}

/// Calls `changed` whenever the session changes in another tab (local sign-in: the
/// `storage` event) or in ClerkJS (its listener), for as long as the page lives.
pub fn on_change(provider: &Provider, changed: yew::Callback<()>) {
    match provider {
        Provider::Local { .. } => {
            let listener = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::StorageEvent)>::new(
                move |e: web_sys::StorageEvent| {
                    // `None` is a whole-storage clear, which ends the session too.
                    if e.key().is_none_or(|k| k == SESSION_KEY) {
                        changed.emit(());
                    }
                },
            );
            if let Some(w) = web_sys::window() {
                let _ = w
                    .add_event_listener_with_callback("storage", listener.as_ref().unchecked_ref());
            }
            listener.forget();
        }
        Provider::Clerk { .. } => {
            let Some(clerk) = clerk() else { return };
            let listener =
                wasm_bindgen::closure::Closure::<dyn Fn(JsValue)>::new(move |_| changed.emit(()));
            let args = js_sys::Array::of1(listener.as_ref());
            if let Ok(method) = js_sys::Reflect::get(&clerk, &"addListener".into()) {
                if let Ok(method) = method.dyn_into::<js_sys::Function>() {
                    let _ = method.apply(&clerk, &args);
                }
            }
            listener.forget();
        }
    }
}

pub async fn sign_out(provider: &Provider) {
    forget();
    if let (Provider::Clerk { .. }, Some(clerk)) = (provider, clerk()) {
        call_method(&clerk, "signOut", &js_sys::Array::new()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_reads_from_config_json_in_camel_case() {
        let local: Provider = serde_json::from_str(
            r#"{"kind": "local", "signInUrl": "http://127.0.0.1:8791/sign-in"}"#,
        )
        .expect("local");
        assert_eq!(local, Provider::Local { sign_in_url: "http://127.0.0.1:8791/sign-in".into() });
        let clerk: Provider =
            serde_json::from_str(r#"{"kind": "clerk", "publishableKey": "pk_test_x", "frontendApi": "x.clerk.accounts.dev"}"#)
                .expect("clerk");
        assert!(matches!(clerk, Provider::Clerk { .. }));
    }
}
