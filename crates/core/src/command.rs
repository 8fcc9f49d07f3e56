//! One typed way to call a Durable Object. A command is a type: its path and its reply
//! type travel with it, so a call site cannot pair a path with the wrong reply, and a
//! new command is one type (plus its handler), not four places that nothing ties
//! together. `dream_edge::objects::send` is the one client; each object's dispatcher
//! matches on `C::PATH` and answers `C::Reply`.

use crate::api_key::ApiKeyHash;
use crate::error::Refusal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A message to a Durable Object and the type of its reply.
pub trait Command: Serialize + DeserializeOwned {
    /// Where the object answers it (`https://object{PATH}`; the host is never resolved).
    const PATH: &'static str;
    type Reply: Serialize + DeserializeOwned;
}

/// A command to a platform's object. It travels in a [`ToPlatform`] envelope that
/// says who is asking; its answer is an [`Answer`].
pub trait PlatformCommand: Serialize + DeserializeOwned {
    const PATH: &'static str;
    type Reply: Serialize + DeserializeOwned;
}

/// Who asks the platform's object. The object checks an API key itself on every call,
/// so a rotation or revocation takes effect on the very next call everywhere, whatever
/// a KV copy of the key still says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    /// A developer's server: the key must be the platform's current key, or its
    /// previous one inside its grace period.
    Key(ApiKeyHash),
    /// An end-user of the platform, by a verified Clerk session token (the worker allows
    /// them their own usage, checkout and portal only).
    EndUser,
    /// A caller the worker verified otherwise: the developer's Clerk session, a signed
    /// Stripe event, a Connect callback's signed state.
    Verified,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "C: PlatformCommand")]
pub struct ToPlatform<C> {
    pub auth: Auth,
    pub command: C,
}

impl<C: PlatformCommand> Command for ToPlatform<C> {
    const PATH: &'static str = C::PATH;
    type Reply = Answer<C::Reply>;
}

/// A platform object's answer: the reply or a refusal in the contract's terms, and
/// whether the platform is in preview (every api-worker answer for such a platform
/// says so). `preview` is `false` when the platform does not exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "R: Serialize + DeserializeOwned")]
pub struct Answer<R> {
    pub preview: bool,
    pub result: Result<R, Refusal>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[derive(Debug, Serialize, Deserialize)]
    struct Ping;

    impl PlatformCommand for Ping {
        const PATH: &'static str = "/ping";
        type Reply = u32;
    }

    #[test]
    fn a_platform_command_keeps_its_path_and_wraps_its_reply_in_an_answer() {
        assert_eq!(<ToPlatform<Ping> as Command>::PATH, "/ping");
        let answer: <ToPlatform<Ping> as Command>::Reply = Answer { preview: true, result: Ok(7) };
        let json = serde_json::to_string(&answer).expect("json");
        let back: Answer<u32> = serde_json::from_str(&json).expect("back");
        assert_eq!(back, answer);
    }

    #[test]
    fn a_refusal_travels_with_its_code_and_extra_fields() {
        let refused: Answer<u32> = Answer {
            preview: false,
            result: Err(Refusal::new(ErrorCode::Forbidden, "No.")
                .with_extra(serde_json::json!({"usage": 1}))),
        };
        let json = serde_json::to_value(&refused).expect("json");
        assert_eq!(json["result"]["Err"]["code"], "forbidden");
        assert_eq!(serde_json::from_value::<Answer<u32>>(json).expect("back"), refused);
    }
}
