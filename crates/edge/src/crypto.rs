//! WebCrypto (`crypto.subtle`) for the workers: cheaper in wasm size than linking the
//! Rust implementations, and constant-time in the runtime. Used for RS256 session
//! tokens (`clerk`) and for AES-256-GCM sealing of secrets at rest, in
//! `dream_core::sealed`'s stored form (so a value sealed here opens there, and back).

use crate::error::{ApiError, ApiResult};
use dream_core::sealed::{self, SealingKey, NONCE_LEN};
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Crypto, CryptoKey, SubtleCrypto};

pub fn subtle() -> ApiResult<SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into())
        .ok()
        .and_then(|c| c.dyn_into::<Crypto>().ok())
        .ok_or_else(|| ApiError::internal("no WebCrypto in this runtime"))?;
    Ok(crypto.subtle())
}

pub fn object(fields: &[(&str, JsValue)]) -> ApiResult<Object> {
    let obj = Object::new();
    for (name, value) in fields {
        Reflect::set(&obj, &(*name).into(), value)
            .map_err(|_| ApiError::internal("building a JS object"))?;
    }
    Ok(obj)
}

async fn aes_key(subtle: &SubtleCrypto, key: &SealingKey) -> ApiResult<CryptoKey> {
    let usages = js_sys::Array::of2(&"encrypt".into(), &"decrypt".into());
    let raw = Uint8Array::from(key.expose().as_slice());
    let promise = subtle
        .import_key_with_str("raw", &raw, "AES-GCM", false, &usages)
        .map_err(|_| ApiError::internal("importing the sealing key"))?;
    JsFuture::from(promise)
        .await
        .ok()
        .and_then(|k| k.dyn_into().ok())
        .ok_or_else(|| ApiError::internal("importing the sealing key"))
}

/// Seals `plaintext` under `key` with a fresh random nonce.
pub async fn seal(key: &SealingKey, plaintext: &[u8]) -> ApiResult<String> {
    let mut nonce = [0u8; NONCE_LEN];
    crate::random::fill_random(&mut nonce)?;
    let subtle = subtle()?;
    let params =
        object(&[("name", "AES-GCM".into()), ("iv", Uint8Array::from(&nonce[..]).into())])?;
    let data = plaintext.to_vec();
    let promise = subtle
        .encrypt_with_object_and_u8_array(&params, &aes_key(&subtle, key).await?, &data)
        .map_err(|_| ApiError::internal("calling WebCrypto encrypt"))?;
    let sealed = JsFuture::from(promise)
        .await
        .map_err(|_| ApiError::internal("WebCrypto encrypt failed"))?;
    Ok(sealed::encode(nonce, &Uint8Array::new(&sealed).to_vec()))
}

/// Opens a value sealed under `key`; a changed value or another key is refused.
pub async fn open(key: &SealingKey, value: &str) -> ApiResult<Vec<u8>> {
    let (nonce, body) =
        sealed::decode(value).map_err(|e| ApiError::internal(format!("a sealed value: {e}")))?;
    let subtle = subtle()?;
    let params =
        object(&[("name", "AES-GCM".into()), ("iv", Uint8Array::from(&nonce[..]).into())])?;
    let promise = subtle
        .decrypt_with_object_and_u8_array(&params, &aes_key(&subtle, key).await?, &body)
        .map_err(|_| ApiError::internal("calling WebCrypto decrypt"))?;
    let opened = JsFuture::from(promise).await.map_err(|_| {
        ApiError::internal("a sealed value does not open with TOKEN_ENCRYPTION_KEY")
    })?;
    Ok(Uint8Array::new(&opened).to_vec())
}
