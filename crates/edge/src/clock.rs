//! The runtime's clock, read in one place (`Date.now()`: in a worker it moves only
//! between I/O, which is all a decision needs).

use dream_core::time::{from_millis, Instant};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    // The static `Date.now()`: one call into JS, where `worker::Date::now()` is two.
    js_sys::Date::now() as i64
}

/// Whole seconds since the Unix epoch (Stripe's and JWT's unit).
pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// Now, as the time type core's rules take.
pub fn now() -> Instant {
    from_millis(now_ms())
}
