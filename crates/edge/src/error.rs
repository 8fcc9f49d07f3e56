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
