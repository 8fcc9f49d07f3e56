//! Times as the developer reads them: in the browser's time zone and language.

use crate::period::{period_text, Date};
use dream_core::meter::Usage;
use wasm_bindgen::JsValue;

/// The local time now, `HH:MM:SS`.
pub fn now_hms() -> String {
    let now = js_sys::Date::new_0();
    format!("{:02}:{:02}:{:02}", now.get_hours(), now.get_minutes(), now.get_seconds())
}

/// An RFC 3339 instant as a local date and time with its zone ("Dec 3, 2026, 09:15 AM
/// GMT+1"); the text as given if the browser cannot read it.
pub fn local_datetime(rfc3339: &str) -> String {
    local_text(rfc3339, false)
}

/// As [`local_datetime`], to the second (the request log).
pub fn local_datetime_seconds(rfc3339: &str) -> String {
    local_text(rfc3339, true)
}

fn local_text(rfc3339: &str, seconds: bool) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_string();
    }
    let options = js_sys::Object::new();
    let second = seconds.then_some(("second", "2-digit"));
    for (name, value) in [
        ("year", "numeric"),
        ("month", "short"),
        ("day", "numeric"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
        ("timeZoneName", "short"),
    ]
    .into_iter()
    .chain(second)
    {
        let _ = js_sys::Reflect::set(&options, &name.into(), &value.into());
    }
    let language =
        web_sys::window().and_then(|w| w.navigator().language()).unwrap_or_else(|| "en".into());
    date.to_locale_string(&language, &options).into()
}

/// The UTC calendar day of an RFC 3339 instant moved by `shift_ms`.
fn utc_date(rfc3339: &str, shift_ms: f64) -> Option<Date> {
    let at = js_sys::Date::new(&JsValue::from_str(rfc3339)).get_time();
    if at.is_nan() {
        return None;
    }
    Some(utc_day(&js_sys::Date::new(&JsValue::from_f64(at + shift_ms))))
}

fn utc_day(date: &js_sys::Date) -> Date {
    Date::new(date.get_utc_full_year() as i32, date.get_utc_month() + 1, date.get_utc_date())
}

/// A usage's billing period: "Dec 1 – Dec 31, resets in 12 days". A period is a UTC
/// month, so its days are UTC days (as the usage chart's are), whatever the reader's
/// time zone; it ends just before `periodEnd` (which is exclusive).
pub fn billing_period(usage: &Usage) -> String {
    let dates = (
        utc_date(&usage.period_start, 0.0),
        utc_date(&usage.period_end, -1.0),
        utc_date(&usage.resets_at, 0.0),
    );
    match dates {
        (Some(first), Some(last), Some(resets)) => {
            period_text(first, last, resets, utc_day(&js_sys::Date::new_0()))
        }
        _ => format!("{} – {}", usage.period_start, usage.period_end),
    }
}
