//! What every handler of the api worker gets ([`Call`]: the request, the environment,
//! the path's parameters) and who is calling: a developer's server with its API key, or
//! an end-user with their session token ([`Caller`], from `auth`).

use crate::auth::{authenticate, Caller};
use dream_core::command::Auth;
use dream_core::error::ErrorCode;
use dream_core::ids::{PlatformId, UserId};
use dream_core::routing::percent_decode;
use dream_edge::error::{ApiError, ApiResult};
use dream_edge::http::Incoming;
use dream_edge::Received;
use std::rc::Rc;
use worker::{Context, Env};

/// What every handler gets.
pub struct Call<'a> {
    pub req: Incoming,
    pub env: &'a Env,
    pub ctx: &'a Context,
    pub params: Vec<(&'static str, String)>,
    /// The request's id and arrival, for the platform's request log.
    pub received: Rc<Received>,
}

impl Call<'_> {
    pub fn param(&self, name: &str) -> ApiResult<&str> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| ApiError::internal(format!("route has no {name} parameter")))
    }

    pub fn user_param(&self) -> ApiResult<UserId> {
        let raw = self.param("userId")?;
        let decoded = percent_decode(raw)
            .ok_or_else(|| ApiError::invalid("userId is not valid percent-encoding"))?;
        Ok(UserId::parse(&decoded)?)
    }

    pub async fn caller(&self) -> ApiResult<Caller> {
        let caller = authenticate(&self.req, self.env, self.ctx).await?;
        self.received.note_platform(caller.platform().as_str());
        Ok(caller)
    }

    /// The platform of a developer's API key, and how its object checks the key;
    /// end-user tokens are refused here.
    pub async fn developer(&self) -> ApiResult<(PlatformId, Auth)> {
        match self.caller().await? {
            Caller::Developer { platform, auth } => Ok((platform, auth)),
            Caller::EndUser { .. } => Err(api_key_required()),
        }
    }
}

fn api_key_required() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        "An end-user session token may only meter and read its own usage; this route needs the API key.",
    )
}

pub fn not_own_user() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        "An end-user session token may only meter and read its own usage.",
    )
}

/// The end-user a metering or billing call is for: the `userId` given with an API key,
/// or the session token's own (a `userId` given must match).
pub fn end_user_of(caller: &Caller, given: Option<&str>) -> ApiResult<UserId> {
    match caller {
        Caller::Developer { .. } => {
            let user = given.ok_or_else(|| ApiError::invalid("userId is required"))?;
            Ok(UserId::parse(user)?)
        }
        Caller::EndUser { user, .. } => {
            if given.is_some_and(|given| given != user.as_str()) {
                return Err(not_own_user());
            }
            Ok(user.clone())
        }
    }
}
