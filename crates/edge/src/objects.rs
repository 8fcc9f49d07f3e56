//! The one client of every Durable Object: [`send`] takes a typed
//! `dream_core::command::Command` and returns its typed reply, and [`platform`] asks a
//! platform's object, turning its refusals into the contract's errors. The objects
//! live in the objects worker (`workers/objects`); the others bind them with `script_name`.
//!
//! A command is one RPC call to the object, `ask(path, body)`: the command's path and JSON
//! in, the reply's JSON text out. An object implements [`Answer`] and exports it with
//! [`rpc_object!`]; its JS class (`crates/edge/js/entry.mjs`, which each worker's entry
//! module uses) extends the runtime's `DurableObject`, which is what makes a class callable
//! by RPC. RPC rather than `fetch`: no `Request` or `Response` is built, sent or read on
//! either side, which is most of what an object call costs.

use crate::error::{ApiError, ApiResult};
use crate::http;
use dream_core::command::{AnswerHead, Auth, Command, PlatformCommand, ToPlatform};
use dream_core::ids::PlatformId;
use dream_core::meter::RateStatus;
use dream_core::protocol::TakeFromLimit;
use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::Env;

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// A Durable Object stub as the runtime gives it.
    #[derive(Debug, Clone)]
    pub type Stub;

    /// The object's `ask` (see [`rpc_object!`]), called by RPC.
    #[wasm_bindgen(method, catch)]
    fn ask(this: &Stub, path: &str, body: &str) -> Result<Promise, JsValue>;
}

/// An object's side of [`send`]: the answer to the command at `path` (`body` is its
/// JSON), as JSON text; an error rejects the caller's call with its message.
#[allow(async_fn_in_trait)] // wasm is single-threaded: no caller needs the future `Send`
pub trait Answer {
    async fn answer(&self, path: &str, body: &str) -> worker::Result<String>;
}

/// Exports an object's [`Answer`] to JS as `ask(path, body)`, the method its JS class
/// (`crates/edge/js/entry.mjs`) takes RPC calls with. The runtime's `fetch` on the
/// object, which workers-rs requires of it, is not used: it answers `404`.
#[macro_export]
macro_rules! rpc_object {
    ($object:ident) => {
        #[$crate::reexport::wasm_bindgen::prelude::wasm_bindgen(
                                    wasm_bindgen = $crate::reexport::wasm_bindgen,
                                    wasm_bindgen_futures = $crate::reexport::wasm_bindgen_futures,
                                    js_sys = $crate::reexport::js_sys
                                )]
        impl $object {
            #[wasm_bindgen(js_name = ask)]
            pub async fn ask(
                &self,
                path: String,
                body: String,
            ) -> Result<
                $crate::reexport::wasm_bindgen::JsValue,
                $crate::reexport::wasm_bindgen::JsValue,
            > {
                match $crate::objects::Answer::answer(self, &path, &body).await {
                    Ok(text) => Ok($crate::reexport::wasm_bindgen::JsValue::from_str(&text)),
                    Err(e) => Err($crate::reexport::js_sys::Error::new(&e.to_string()).into()),
                }
            }
        }
    };
}

/// A command's body, read as the type its path says (an object's side of [`send`]).
pub fn parse<C: serde::de::DeserializeOwned>(body: &str) -> worker::Result<C> {
    serde_json::from_str(body).map_err(|e| worker::Error::RustError(format!("command body: {e}")))
}

/// The answer to command `C` as JSON text: its reply type is the one `C` names.
pub fn answer<C: Command>(result: worker::Result<C::Reply>) -> worker::Result<String> {
    serde_json::to_string(&result?).map_err(|e| worker::Error::RustError(e.to_string()))
}

/// The error of a path no command of the object has.
pub fn bad_path(path: &str) -> worker::Error {
    worker::Error::RustError(format!("no such command: {path}"))
}

/// The answer of an object's `fetch`: commands arrive by RPC only.
pub fn not_by_fetch() -> worker::Result<worker::Response> {
    worker::Response::error("Commands reach this object by RPC (ask), not fetch.", 404)
}

/// The binding of the platforms' objects, one per platform (named by its id).
const PLATFORM: &str = "PLATFORM";
/// The binding of the developers' objects, one per Clerk user (named by its id).
const DEVELOPER: &str = "DEVELOPER";
/// The binding of the fixed-window rate limiters, one per name.
const RATE_LIMITER: &str = "RATE_LIMITER";
/// The binding of the Connect `state` nonces (stripe-oauth), one per platform.
const OAUTH_STATES: &str = "OAUTH_STATES";

/// The stub of the object `name` in the namespace bound as `binding` (the named
/// constructors below are the ones dream-api's workers use).
pub fn stub(env: &Env, binding: &str, name: &str) -> worker::Result<Stub> {
    Ok(env.durable_object(binding)?.get_by_name(name)?.into_rpc())
}

/// A developer's object (one per Clerk user): the only writer of their claim.
pub fn developer(env: &Env, clerk_user_id: &str) -> ApiResult<Stub> {
    Ok(stub(env, DEVELOPER, clerk_user_id)?)
}

/// The fixed-window limiter `name` (`"register:…"`, `"developer:…"`, `"tiers:…"`).
pub fn rate_limiter(env: &Env, name: &str) -> ApiResult<Stub> {
    Ok(stub(env, RATE_LIMITER, name)?)
}

/// The Connect `state` nonces of a platform (issued and claimed once).
pub fn oauth_states(env: &Env, platform: &PlatformId) -> ApiResult<Stub> {
    Ok(stub(env, OAUTH_STATES, platform.as_str())?)
}

/// Takes one call from the fixed window `name`, or answers `429` with `message`.
pub async fn take_from_limit(
    env: &Env,
    name: &str,
    limit: u64,
    window_ms: i64,
    message: &str,
) -> ApiResult<RateStatus> {
    let reply = send(&rate_limiter(env, name)?, &TakeFromLimit { limit, window_ms }).await?;
    if reply.allowed {
        Ok(reply.rate)
    } else {
        Err(http::rate_limited(message, &reply.rate))
    }
}

/// Sends `command` to an object and reads its reply.
pub async fn send<C: Command>(stub: &Stub, command: &C) -> worker::Result<C::Reply> {
    let body =
        serde_json::to_string(command).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let reply = exchange(stub, C::PATH, body).await?;
    serde_json::from_str(&reply)
        .map_err(|e| worker::Error::RustError(format!("object {} replied: {e}", C::PATH)))
}

/// Asks the platform's object; a refusal becomes the contract's error. The answer says
/// whether the platform is in preview.
pub async fn platform<C: PlatformCommand>(
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
    command: C,
) -> ApiResult<(C::Reply, bool)> {
    ask_as(env, platform, auth, command).await
}

/// [`platform`] for a reply the worker only passes on: read as JSON, not as its type,
/// so the worker's wasm holds no second copy of the reply's (de)serialization (the
/// object's own writes it).
pub async fn platform_json<C: PlatformCommand>(
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
    command: C,
) -> ApiResult<(serde_json::Value, bool)> {
    ask_as(env, platform, auth, command).await
}

/// Sends `command` and reads its reply as `T`.
async fn ask_as<C: PlatformCommand, T: serde::de::DeserializeOwned>(
    env: &Env,
    platform: &PlatformId,
    auth: Auth,
    command: C,
) -> ApiResult<(T, bool)> {
    let body = ToPlatform { auth, command }.to_wire()?;
    let (reply, preview) = ask_platform(env, platform, C::PATH, body).await?;
    let reply = serde_json::from_str(&reply)
        .map_err(|e| ApiError::internal(format!("object {} replied: {e}", C::PATH)))?;
    Ok((reply, preview))
}

/// The untyped part of [`platform`]: the round trip and the answer's envelope, once in
/// the wasm for every command. Returns the reply's JSON text.
async fn ask_platform(
    env: &Env,
    platform: &PlatformId,
    path: &str,
    body: String,
) -> ApiResult<(String, bool)> {
    let stub = stub(env, PLATFORM, platform.as_str())?;
    let text = exchange(&stub, path, body).await?;
    let head = AnswerHead::from_wire(&text)
        .map_err(|e| ApiError::internal(format!("object {path} replied: {e}")))?;
    match (head.refused, head.ok) {
        (Some(refusal), _) => Err(ApiError::from(refusal).previewing(head.preview)),
        (None, ok) => {
            Ok((ok.map_or_else(|| "null".to_string(), |r| r.get().to_string()), head.preview))
        }
    }
}

/// The untyped round trip, kept out of [`send`] so that each command type adds only its
/// (de)serialization to the wasm, not another copy of the call.
async fn exchange(stub: &Stub, path: &str, body: String) -> worker::Result<String> {
    let failed =
        |e: JsValue| worker::Error::RustError(format!("object {path}: {}", worker::Error::from(e)));
    let answer = JsFuture::from(stub.ask(path, &body).map_err(failed)?).await.map_err(failed)?;
    answer
        .as_string()
        .ok_or_else(|| worker::Error::RustError(format!("object {path} answered no text")))
}

#[cfg(test)]
mod tests {
    use dream_core::command::{Command, PlatformCommand};
    use dream_core::protocol::webhooks::*;
    use dream_core::protocol::*;
    use std::collections::BTreeSet;

    /// Every command, by the object that takes it. A command is routed by its path
    /// alone, so two commands of one object must never share one.
    fn commands() -> [(&'static str, Vec<&'static str>); 4] {
        [
            (
                "Platform",
                vec![
                    CreatePlatform::PATH,
                    Track::PATH,
                    ReadUser::PATH,
                    SetUserPlan::PATH,
                    ListUsers::PATH,
                    GetStats::PATH,
                    GetPlatform::PATH,
                    RotateKey::PATH,
                    GetBilling::PATH,
                    SetTiers::PATH,
                    Connect::PATH,
                    Disconnect::PATH,
                    AdmitEndUser::PATH,
                    GetEndUserBilling::PATH,
                    ApplyEndUserEvent::PATH,
                    ApplyPlanEvent::PATH,
                    AddEndpoint::PATH,
                    ListEndpoints::PATH,
                    RemoveEndpoint::PATH,
                    SealedSecrets::PATH,
                    ReplaceSecrets::PATH,
                    SendTest::PATH,
                    ListDeliveries::PATH,
                    StartAttempts::PATH,
                    FinishAttempts::PATH,
                    GetAlerts::PATH,
                    SetAlerts::PATH,
                    activity::ReadLogs::PATH,
                    activity::ReadRevenue::PATH,
                ],
            ),
            ("Developer", vec![ClaimPlatform::PATH, OwnedPlatform::PATH]),
            ("RateLimiter", vec![TakeFromLimit::PATH]),
            ("OAuthStates", vec![IssueNonce::PATH, ClaimNonce::PATH]),
        ]
    }

    #[test]
    fn no_two_commands_of_one_object_share_a_path() {
        for (object, paths) in commands() {
            let unique: BTreeSet<_> = paths.iter().collect();
            assert_eq!(unique.len(), paths.len(), "{object}: {paths:?}");
            assert!(paths.iter().all(|p| p.starts_with('/')), "{object}: {paths:?}");
        }
    }

    #[test]
    fn every_command_core_declares_is_listed_with_its_object() {
        let declared: usize = [
            include_str!("../../core/src/protocol.rs"),
            include_str!("../../core/src/protocol/webhooks.rs"),
            include_str!("../../core/src/protocol/activity.rs"),
        ]
        .iter()
        .map(|source| source.matches("\ncommand!(").count())
        .sum();
        let listed: usize = commands().iter().map(|(_, paths)| paths.len()).sum();
        assert_eq!(listed, declared, "a command in dream_core::protocol is missing above");
    }
}
