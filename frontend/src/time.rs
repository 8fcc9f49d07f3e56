//! Times as the developer reads them: in the browser's time zone and language.

use wasm_bindgen::JsValue;

/// The local time now, `HH:MM:SS`.
pub fn now_hms() -> String {
    let now = js_sys::Date::new_0();
    format!("{:02}:{:02}:{:02}", now.get_hours(), now.get_minutes(), now.get_seconds())
}

/// An RFC 3339 instant as a local date and time with its zone ("Dec 3, 2026, 09:15 AM
/// GMT+1"); the text as given if the browser cannot read it.
pub fn local_datetime(rfc3339: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_string();
    }
    let options = js_sys::Object::new();
    for (name, value) in [
        ("year", "numeric"),
        ("month", "short"),
        ("day", "numeric"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
        ("timeZoneName", "short"),
    ] {
        let _ = js_sys::Reflect::set(&options, &name.into(), &value.into());
    }
    let language =
        web_sys::window().and_then(|w| w.navigator().language()).unwrap_or_else(|| "en".into());
    date.to_locale_string(&language, &options).into()
}
