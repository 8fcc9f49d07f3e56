//! Unsaved tier edits are not lost by accident: while the editor holds any, the browser
//! asks before the page is left (`beforeunload`), and the app's own navigation asks
//! through [`confirm_leaving_tiers`].

use std::cell::Cell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// What the app asks before leaving unsaved tier edits.
pub const LEAVE_QUESTION: &str =
    "You have unsaved changes to your tiers. Leave without saving them?";

thread_local! {
    /// Whether the tier editor on screen holds edits not saved yet.
    static UNSAVED: Cell<bool> = const { Cell::new(false) };
}

/// Whether the tier editor on screen holds edits not saved yet.
pub fn has_unsaved_tiers() -> bool {
    UNSAVED.with(Cell::get)
}

fn set_unsaved(unsaved: bool) {
    UNSAVED.with(|flag| flag.set(unsaved));
}

/// Whether the app may leave the tiers screen: yes when no tier edit is unsaved,
/// otherwise what the developer answers to [`LEAVE_QUESTION`].
pub fn confirm_leaving_tiers() -> bool {
    if !has_unsaved_tiers() {
        return true;
    }
    web_sys::window().and_then(|w| w.confirm_with_message(LEAVE_QUESTION).ok()).unwrap_or(true)
}

/// Keeps the unsaved flag as `unsaved` says, with the browser's question before the
/// page is left while it is set; both end when the editor goes.
#[hook]
pub fn use_leave_guard(unsaved: bool) {
    use_effect_with(unsaved, |&unsaved| {
        set_unsaved(unsaved);
        let listener = unsaved.then(ask_before_unload).flatten();
        move || {
            if let (Some(listener), Some(w)) = (listener, web_sys::window()) {
                let _ = w.remove_event_listener_with_callback(
                    "beforeunload",
                    listener.as_ref().unchecked_ref(),
                );
            }
            set_unsaved(false);
        }
    });
}

/// Listens for `beforeunload` and asks; the listener is removed by dropping it after
/// [`web_sys::EventTarget::remove_event_listener_with_callback`].
fn ask_before_unload() -> Option<Closure<dyn Fn(web_sys::BeforeUnloadEvent)>> {
    let listener =
        Closure::<dyn Fn(web_sys::BeforeUnloadEvent)>::new(|event: web_sys::BeforeUnloadEvent| {
            // Browsers show their own words; setting `returnValue` is what makes them ask.
            event.prevent_default();
            event.set_return_value(LEAVE_QUESTION);
        });
    web_sys::window()?
        .add_event_listener_with_callback("beforeunload", listener.as_ref().unchecked_ref())
        .ok()?;
    Some(listener)
}
