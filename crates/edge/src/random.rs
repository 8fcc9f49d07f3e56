//! The runtime's CSPRNG (`crypto.getRandomValues` through `getrandom`), read in one
//! place; a missing one is a clean `500`, never a panic before answering.

use crate::error::{ApiError, ApiResult};
use dream_core::random::RandomSource;

/// The CSPRNG as core's generators take it, probed once so that a missing one is a
/// clean 500.
pub fn random_source() -> ApiResult<impl RandomSource> {
    fill_random(&mut [0u8; 1])?;
    Ok(|buf: &mut [u8]| {
        if let Err(e) = getrandom::getrandom(buf) {
            panic!("the CSPRNG failed after answering: {e}");
        }
    })
}

/// Fills `buf` from the CSPRNG (a failure is a clean 500).
pub fn fill_random(buf: &mut [u8]) -> ApiResult<()> {
    getrandom::getrandom(buf).map_err(|e| ApiError::internal(format!("no randomness: {e}")))
}

/// `n` random bytes as lowercase hex, or `None` without a CSPRNG.
pub fn random_hex(n: usize) -> Option<String> {
    let mut bytes = vec![0u8; n];
    getrandom::getrandom(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
