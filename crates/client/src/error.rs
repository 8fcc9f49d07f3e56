//! The one error every method returns.

use serde::Deserialize;
use std::fmt;

/// A failed call: the API's answer (`status`, its `error.code` and `message`, and the
/// `X-Request-Id` to quote to support), or, with `status: 0`, no answer at all
/// (`network_error`, `timeout`) or a call the client refused to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The HTTP status; `0` when nothing came back.
    pub status: u16,
    /// The contract's snake_case code (`invalid_api_key`, `not_found`, …), or
    /// `network_error` / `timeout` / `invalid_response` from the client itself.
    pub code: String,
    /// One sentence for a person.
    pub message: String,
    /// The answer's `X-Request-Id`, when there was an answer.
    pub request_id: Option<String>,
}

/// The contract's error body: `{"error": {"code", "message"}}`.
#[derive(Deserialize)]
struct Body {
    error: Detail,
}

#[derive(Deserialize)]
struct Detail {
    code: String,
    message: String,
}

impl Error {
    pub const NETWORK_ERROR: &'static str = "network_error";
    pub const TIMEOUT: &'static str = "timeout";
    /// An answer that is not what the contract says it would be (not JSON, or a
    /// success without the documented fields).
    pub const INVALID_RESPONSE: &'static str = "invalid_response";

    /// A failure with no answer behind it.
    pub(crate) fn local(code: &str, message: impl Into<String>) -> Self {
        Self { status: 0, code: code.to_string(), message: message.into(), request_id: None }
    }

    /// The error an answer carries; an answer without the contract's shape (a proxy's
    /// HTML page, say) is `invalid_response` with its status.
    pub(crate) fn from_answer(status: u16, body: &[u8], request_id: Option<String>) -> Self {
        match serde_json::from_slice::<Body>(body) {
            Ok(Body { error }) => {
                Self { status, code: error.code, message: error.message, request_id }
            }
            Err(_) => Self {
                status,
                code: Self::INVALID_RESPONSE.to_string(),
                message: format!("The API answered {status} without an error body."),
                request_id,
            },
        }
    }

    /// Whether the service, not the request, is at fault: no answer, a `5xx`, or a `429`.
    /// Only these make a fail-open `track` degrade.
    pub fn is_service_failure(&self) -> bool {
        self.status == 0 && (self.code == Self::NETWORK_ERROR || self.code == Self::TIMEOUT)
            || self.status >= 500
            || self.status == 429
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)?;
        match &self.request_id {
            Some(id) => write!(f, " [request {id}]"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_in_the_contracts_shape_gives_its_code_message_and_request_id() {
        let body =
            br#"{"error": {"code": "not_found", "message": "No such user."}, "preview": true}"#;
        let error = Error::from_answer(404, body, Some("req_1".into()));
        assert_eq!(error.code, "not_found");
        assert_eq!(error.message, "No such user.");
        assert_eq!(error.request_id.as_deref(), Some("req_1"));
        assert!(!error.is_service_failure());
    }

    #[test]
    fn an_answer_without_the_shape_is_an_invalid_response_with_its_status() {
        let error = Error::from_answer(502, b"<html>Bad gateway</html>", None);
        assert_eq!((error.status, error.code.as_str()), (502, "invalid_response"));
        assert!(error.is_service_failure());
    }

    #[test]
    fn a_client_side_refusal_is_not_a_service_failure_but_no_answer_is() {
        assert!(!Error::local("invalid_api_key", "typo").is_service_failure());
        assert!(Error::local(Error::TIMEOUT, "slow").is_service_failure());
        assert!(Error::local(Error::NETWORK_ERROR, "down").is_service_failure());
    }
}
