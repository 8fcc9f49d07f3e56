//! The workers' one error type. Every failure becomes the contract's JSON error;
//! internal details go to the log, never into a response.

use dream_core::error::{error_body, ErrorCode, Invalid, Refusal};
use serde_json::Value;

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Fields beside `error`, such as `usage`.
    pub extra: Option<Value>,
    pub headers: Vec<(&'static str, String)>,
    /// The platform the answer is about is in preview (the api worker says so in every
    /// answer; `crate::objects::platform` sets it).
    pub preview: bool,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), extra: None, headers: vec![], preview: false }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} was not found."))
    }

    /// Logs the cause and answers a bare `500 internal`.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        worker::console_error!("internal error: {cause}");
        Self::new(ErrorCode::Internal, "Something went wrong on our side; please retry.")
    }

    pub fn with_extra(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl ToString) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    pub fn previewing(mut self, preview: bool) -> Self {
        self.preview = preview;
        self
    }

    /// The error as the api worker sends it: `"preview": true` beside `error` when it is
    /// about a platform in preview.
    pub fn marked(mut self) -> Self {
        if self.preview {
            let mut extra = self.extra.take().unwrap_or_else(|| serde_json::json!({}));
            if let Value::Object(map) = &mut extra {
                map.insert("preview".into(), Value::Bool(true));
            }
            self.extra = Some(extra);
        }
        self
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    pub fn body(&self) -> Value {
        error_body(self.code, &self.message, self.extra.clone())
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        Self::invalid(e.0)
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        Self { code: r.code, message: r.message, extra: r.extra, headers: vec![], preview: false }
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        Self::internal(e)
    }
}

impl From<worker::kv::KvError> for ApiError {
    fn from(e: worker::kv::KvError) -> Self {
        Self::internal(format!("KV: {e}"))
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        Self::internal(format!("JSON: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_error_answers_with_its_codes_status_and_the_contracts_shape() {
        let e = ApiError::new(ErrorCode::Forbidden, "Not yours.");
        assert_eq!(e.status(), 403);
        assert_eq!(e.body(), json!({"error": {"code": "forbidden", "message": "Not yours."}}));
        assert_eq!(ApiError::invalid("bad").status(), 400);
        assert_eq!(ApiError::not_found("The platform").message, "The platform was not found.");
    }

    #[test]
    fn a_refusal_keeps_its_code_message_and_extra_fields() {
        let refusal = Refusal::new(ErrorCode::TierLimitReached, "Limit reached.")
            .with_extra(json!({"usage": {"used": 5}}));
        let e = ApiError::from(refusal);
        assert_eq!(e.status(), 403);
        assert_eq!(e.body()["usage"], json!({"used": 5}));
        assert_eq!(e.body()["error"]["code"], "tier_limit_reached");
    }

    #[test]
    fn an_error_about_a_platform_in_preview_says_so_beside_its_other_fields() {
        let e = ApiError::new(ErrorCode::RateLimited, "Slow down.")
            .with_extra(json!({"retryAfterSeconds": 3}))
            .previewing(true)
            .marked();
        assert_eq!(e.body()["preview"], true);
        assert_eq!(e.body()["retryAfterSeconds"], 3);
        let bare = ApiError::new(ErrorCode::NotFound, "No.").previewing(true).marked();
        assert_eq!(bare.body()["preview"], true);
        let production = ApiError::new(ErrorCode::NotFound, "No.").marked();
        assert!(production.body().get("preview").is_none());
    }
}
