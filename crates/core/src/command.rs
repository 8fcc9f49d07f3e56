//! One typed way to call a Durable Object. A command is a type: its path and its reply
//! type travel with it, so a call site cannot pair a path with the wrong reply, and a
//! new command is one type (plus its handler), not four places that nothing ties
//! together. `dream_edge::objects` is the one client (`send`, and `platform` for a
//! platform's object); each object's dispatcher matches on `C::PATH` and answers
//! `C::Reply`.

use crate::api_key::ApiKeyHash;
use crate::error::Refusal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

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

/// Declares a command's path and reply: `command!(PlatformCommand for Track = "/track"
/// -> TrackAnswer);` (or `Command for …` for the other objects).
#[macro_export]
macro_rules! command {
    ($kind:ident for $name:ty = $path:literal -> $reply:ty) => {
        impl $crate::command::$kind for $name {
            const PATH: &'static str = $path;
            type Reply = $reply;
        }
    };
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

/// A command to a platform's object, with who asks. On the wire:
/// `{"auth": …, "command": …}`, read in two steps (the envelope once, then only the
/// command as its own type), so each command adds just its own parsing to the wasm.
#[derive(Debug, Clone)]
pub struct ToPlatform<C> {
    pub auth: Auth,
    pub command: C,
}

impl<C: PlatformCommand> ToPlatform<C> {
    pub fn to_wire(&self) -> Result<String, serde_json::Error> {
        let auth = serde_json::to_string(&self.auth)?;
        let command = serde_json::to_string(&self.command)?;
        Ok(format!("{{\"auth\":{auth},\"command\":{command}}}"))
    }
}

/// The envelope of a command to a platform's object, its command still unread.
#[derive(Debug, Deserialize)]
pub struct Request<'a> {
    pub auth: Auth,
    #[serde(borrow)]
    pub command: &'a RawValue,
}

impl<'a> Request<'a> {
    pub fn from_wire(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The command, read as the type its path says.
    pub fn command<C: PlatformCommand>(&self) -> Result<C, serde_json::Error> {
        serde_json::from_str(self.command.get())
    }
}

/// A platform object's answer: the reply or a refusal in the contract's terms, and
/// whether the platform is in preview (every api-worker answer for such a platform
/// says so). `preview` is `false` when the platform does not exist. On the wire:
/// `{"preview": bool, "ok": …}` or `{"preview": bool, "refused": …}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<R> {
    pub preview: bool,
    pub result: Result<R, Refusal>,
}

impl<R: Serialize> Answer<R> {
    pub fn to_wire(&self) -> Result<String, serde_json::Error> {
        match &self.result {
            Ok(reply) => answer_wire(self.preview, Ok(&serde_json::to_string(reply)?)),
            Err(refusal) => answer_wire(self.preview, Err(refusal)),
        }
    }
}

/// [`Answer::to_wire`] with the reply already JSON text: the part that is the same for
/// every reply type, so an object's code holds it once, not once per command.
pub fn answer_wire(
    preview: bool,
    result: Result<&str, &Refusal>,
) -> Result<String, serde_json::Error> {
    Ok(match result {
        Ok(reply) => format!("{{\"preview\":{preview},\"ok\":{reply}}}"),
        Err(refusal) => {
            format!("{{\"preview\":{preview},\"refused\":{}}}", serde_json::to_string(refusal)?)
        }
    })
}

/// An answer's envelope, its reply still unread.
#[derive(Debug, Deserialize)]
pub struct AnswerHead<'a> {
    pub preview: bool,
    #[serde(borrow, default)]
    pub ok: Option<&'a RawValue>,
    #[serde(default)]
    pub refused: Option<Refusal>,
}

impl<'a> AnswerHead<'a> {
    pub fn from_wire(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The reply as `R`, or the refusal.
    pub fn result<R: DeserializeOwned>(&self) -> Result<Result<R, Refusal>, serde_json::Error> {
        match (&self.refused, self.ok) {
            (Some(refusal), _) => Ok(Err(refusal.clone())),
            (None, Some(ok)) => serde_json::from_str(ok.get()).map(Ok),
            (None, None) => serde_json::from_str("null").map(Ok),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ping {
        n: u32,
    }

    impl PlatformCommand for Ping {
        const PATH: &'static str = "/ping";
        type Reply = Vec<u32>;
    }

    #[test]
    fn a_command_travels_with_who_asks_and_is_read_as_its_own_type() {
        let wire =
            ToPlatform { auth: Auth::Verified, command: Ping { n: 7 } }.to_wire().expect("json");
        let request = Request::from_wire(&wire).expect("an envelope");
        assert_eq!(request.auth, Auth::Verified);
        assert_eq!(request.command::<Ping>().expect("a ping"), Ping { n: 7 });
    }

    #[test]
    fn an_answer_carries_the_reply_or_the_refusal_and_whether_the_platform_previews() {
        let ok = Answer { preview: true, result: Ok::<_, Refusal>(vec![1u32, 2]) }
            .to_wire()
            .expect("json");
        let head = AnswerHead::from_wire(&ok).expect("an envelope");
        assert!(head.preview);
        assert_eq!(head.result::<Vec<u32>>().expect("read"), Ok(vec![1, 2]));

        let refusal =
            Refusal::new(ErrorCode::Forbidden, "No.").with_extra(serde_json::json!({"usage": 1}));
        let refused = Answer::<Vec<u32>> { preview: false, result: Err(refusal.clone()) }
            .to_wire()
            .expect("json");
        let head = AnswerHead::from_wire(&refused).expect("an envelope");
        assert_eq!(head.result::<Vec<u32>>().expect("read"), Err(refusal));
        let value: serde_json::Value = serde_json::from_str(&refused).expect("json");
        assert_eq!(value["refused"]["code"], "forbidden");
    }

    #[test]
    fn a_reply_of_nothing_reads_back_as_nothing() {
        let wire =
            Answer { preview: false, result: Ok::<(), Refusal>(()) }.to_wire().expect("json");
        assert_eq!(
            AnswerHead::from_wire(&wire).expect("head").result::<()>().expect("read"),
            Ok(())
        );
    }
}
