//! The modal dialog that asks before a destructive action: the browser's own `<dialog>`
//! opened with `showModal()` (the rest of the page is inert meanwhile), focus kept
//! inside it (Tab and Shift+Tab go round), Escape closes it, and focus goes back to
//! what opened it.

use wasm_bindgen::JsCast;
use web_sys::{HtmlDialogElement, HtmlElement, KeyboardEvent};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct DialogProps {
    pub open: bool,
    /// The dialog's heading, and so its accessible name.
    pub title: AttrValue,
    /// The heading's element id (unique on the page).
    pub id: AttrValue,
    /// Escape, or anything else that closes without acting.
    pub on_close: Callback<()>,
    pub children: Html,
}

fn active_element() -> Option<HtmlElement> {
    web_sys::window()?.document()?.active_element()?.dyn_into().ok()
}

/// What inside `dialog` can take focus, in order.
fn focusable(dialog: &HtmlDialogElement) -> Vec<HtmlElement> {
    let Ok(found) = dialog.query_selector_all(
        "button:not([disabled]), select:not([disabled]), input:not([disabled]), textarea:not([disabled]), a[href]",
    ) else {
        return vec![];
    };
    (0..found.length()).filter_map(|i| found.get(i)?.dyn_into().ok()).collect()
}

#[function_component(Dialog)]
pub fn dialog(props: &DialogProps) -> Html {
    let node = use_node_ref();
    let opener = use_mut_ref(|| None::<HtmlElement>);
    {
        let (node, opener) = (node.clone(), opener.clone());
        use_effect_with(props.open, move |open| {
            if let Some(dialog) = node.cast::<HtmlDialogElement>() {
                if *open && !dialog.open() {
                    *opener.borrow_mut() = active_element();
                    let _ = dialog.show_modal();
                } else if !*open && dialog.open() {
                    dialog.close();
                    if let Some(el) = opener.borrow_mut().take() {
                        let _ = el.focus();
                    }
                }
            }
        });
    }
    // Escape: the browser would close the dialog by itself; closing goes through the
    // owner instead, so its state and the focus follow.
    let oncancel = {
        let close = props.on_close.clone();
        Callback::from(move |e: Event| {
            e.prevent_default();
            close.emit(());
        })
    };
    let onkeydown = {
        let node = node.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() != "Tab" {
                return;
            }
            let Some(dialog) = node.cast::<HtmlDialogElement>() else { return };
            let inside = focusable(&dialog);
            let (Some(first), Some(last)) = (inside.first(), inside.last()) else { return };
            let active = active_element();
            let wrap_to = if e.shift_key() {
                (active.as_ref() == Some(first)).then_some(last)
            } else {
                (active.as_ref() == Some(last)).then_some(first)
            };
            if let Some(target) = wrap_to {
                e.prevent_default();
                let _ = target.focus();
            }
        })
    };
    html! {
        <dialog ref={node} class="modal" aria-labelledby={props.id.clone()} {oncancel} {onkeydown}>
            <h2 id={props.id.clone()}>{ &props.title }</h2>
            { props.children.clone() }
        </dialog>
    }
}
