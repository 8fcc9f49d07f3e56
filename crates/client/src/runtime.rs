//! What differs between a native program and a Worker or browser (`wasm32`): timers,
//! randomness, and whether futures must be `Send`.

use crate::error::Error;
use std::future::Future;
use std::pin::{pin, Pin};
use std::time::Duration;

#[cfg(not(target_arch = "wasm32"))]
mod target {
    use super::*;

    /// `Send` natively, where a client is shared between threads; nothing on `wasm32`,
    /// where JavaScript's futures never are.
    pub trait MaybeSend: Send {}
    impl<T: Send + ?Sized> MaybeSend for T {}

    /// `Send + Sync` natively; nothing on `wasm32`.
    pub trait MaybeSendSync: Send + Sync {}
    impl<T: Send + Sync + ?Sized> MaybeSendSync for T {}

    /// A boxed future, `Send` natively.
    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

    /// What clones of a client share: threads may hold them.
    pub type Shared<T> = std::sync::Arc<T>;

    pub async fn sleep(duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[cfg(target_arch = "wasm32")]
mod target {
    use super::*;

    /// `Send` natively, where a client is shared between threads; nothing on `wasm32`,
    /// where JavaScript's futures never are.
    pub trait MaybeSend {}
    impl<T: ?Sized> MaybeSend for T {}

    /// `Send + Sync` natively; nothing on `wasm32`.
    pub trait MaybeSendSync {}
    impl<T: ?Sized> MaybeSendSync for T {}

    /// A boxed future, `Send` natively.
    pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

    /// What clones of a client share: one thread, JavaScript's.
    pub type Shared<T> = std::rc::Rc<T>;

    /// `setTimeout`, which Workers and browsers both have.
    pub async fn sleep(duration: Duration) {
        gloo_timers::future::sleep(duration).await;
    }
}

pub(crate) use target::{sleep, Shared};
pub use target::{BoxFuture, MaybeSend, MaybeSendSync};

/// `future`'s output, or `None` when `limit` passes first (the future is then dropped,
/// which cancels a request in flight on both targets).
pub(crate) async fn within<T>(limit: Duration, future: impl Future<Output = T>) -> Option<T> {
    let future = pin!(future);
    let timer = pin!(sleep(limit));
    match futures_util::future::select(future, timer).await {
        futures_util::future::Either::Left((output, _)) => Some(output),
        futures_util::future::Either::Right(((), _)) => None,
    }
}

/// Fills `buf` from the platform's CSPRNG (`getrandom`; `crypto.getRandomValues` on
/// `wasm32`).
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<(), Error> {
    getrandom::getrandom(buf)
        .map_err(|e| Error::local("internal", format!("No randomness available: {e}.")))
}

/// A uniformly random number in `[0, 1)`, for jitter; `0.5` in the unlikely event that
/// no randomness is available (jitter is a courtesy, not a guarantee).
pub(crate) fn unit_random() -> f64 {
    let mut buf = [0u8; 4];
    match random_bytes(&mut buf) {
        Ok(()) => f64::from(u32::from_le_bytes(buf)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}
