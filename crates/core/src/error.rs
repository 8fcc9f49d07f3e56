//! The error codes of the HTTP contract (API.md "Conventions") and the JSON error body.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Every error code the workers answer with, and its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    Unauthenticated,
    InvalidApiKey,
    Forbidden,
    TierLimitReached,
    PlatformQuotaReached,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    UpstreamError,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Unauthenticated | Self::InvalidApiKey => 401,
            Self::Forbidden | Self::TierLimitReached | Self::PlatformQuotaReached => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::UpstreamError => 502,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidApiKey => "invalid_api_key",
            Self::Forbidden => "forbidden",
            Self::TierLimitReached => "tier_limit_reached",
            Self::PlatformQuotaReached => "platform_quota_reached",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited => "rate_limited",
            Self::UpstreamError => "upstream_error",
            Self::Internal => "internal",
        }
    }
}

/// `{"error": {"code", "message"}}`, with any extra top-level fields (such as `usage`).
pub fn error_body(code: ErrorCode, message: &str, extra: Option<Value>) -> Value {
    let mut body = json!({ "error": { "code": code.as_str(), "message": message } });
    if let (Some(Value::Object(extra)), Value::Object(map)) = (extra, &mut body) {
        for (key, value) in extra {
            if key != "error" {
                map.insert(key, value);
            }
        }
    }
    body
}

/// A decision's refusal, in the contract's terms: its code, a sentence for a person, and
/// the fields that go beside `error` (such as `usage`). Durable Objects answer with it
/// and each worker's error type turns it into the JSON error shape unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), extra: None }
    }

    pub fn with_extra(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }
}

impl From<Invalid> for Refusal {
    fn from(e: Invalid) -> Self {
        Self::new(ErrorCode::InvalidRequest, e.0)
    }
}

/// Input that breaks a rule; the message names the field and says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_keeps_extra_fields_beside_error_but_never_replaces_it() {
        let body = error_body(
            ErrorCode::TierLimitReached,
            "Limit reached.",
            Some(json!({"usage": {"count": 5}, "error": "ignored"})),
        );
        assert_eq!(body["error"]["code"], "tier_limit_reached");
        assert_eq!(body["error"]["message"], "Limit reached.");
        assert_eq!(body["usage"]["count"], 5);
    }

    #[test]
    fn a_code_travels_as_the_name_the_contract_shows() {
        for code in [ErrorCode::InvalidApiKey, ErrorCode::PlatformQuotaReached, ErrorCode::Conflict]
        {
            let json = serde_json::to_value(code).expect("json");
            assert_eq!(json, code.as_str());
            assert_eq!(serde_json::from_value::<ErrorCode>(json).expect("back"), code);
        }
    }

    #[test]
    fn every_code_maps_to_the_status_the_contract_gives() {
        assert_eq!(ErrorCode::InvalidApiKey.status(), 401);
        assert_eq!(ErrorCode::PlatformQuotaReached.status(), 403);
        assert_eq!(ErrorCode::RateLimited.status(), 429);
        assert_eq!(ErrorCode::UpstreamError.status(), 502);
    }
}
