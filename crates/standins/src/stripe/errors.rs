//! Stripe's error shapes: the API's `{"error": {"type", "code", "param", "message"}}`,
//! and Connect OAuth's `{"error", "error_description"}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Stripe's error shape: `{"error": {"type", "code", "param", "message"}}`.
#[derive(Debug)]
pub struct StripeError {
    pub(super) status: StatusCode,
    pub(super) kind: &'static str,
    pub(super) code: Option<&'static str>,
    pub(super) param: Option<String>,
    pub(super) message: String,
}

impl StripeError {
    pub(super) fn invalid(param: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: Some("parameter_invalid"),
            param: Some(param.into()),
            message: message.into(),
        }
    }

    pub(super) fn required(param: &str) -> Self {
        Self {
            code: Some("parameter_missing"),
            ..Self::invalid(param, format!("Missing required param: {param}."))
        }
    }

    /// A parameter the endpoint does not take (Stripe names it, nested as sent:
    /// `line_items[0][prise]`).
    pub(super) fn unknown(param: &str) -> Self {
        Self { code: None, ..Self::invalid(param, format!("Received unknown parameter: {param}")) }
    }

    pub(super) fn missing(id: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            code: Some("resource_missing"),
            param: Some("id".into()),
            message: format!("No such object: '{id}'"),
        }
    }

    pub(super) fn unrecognized(method: &str, path: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            code: None,
            param: None,
            message: format!("Unrecognized request URL ({method}: {path})."),
        }
    }

    pub(super) fn unauthenticated() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: "invalid_request_error",
            code: None,
            param: None,
            message: "Invalid API Key provided.".into(),
        }
    }

    pub(super) fn revoked(key: &str) -> Self {
        Self {
            message: format!(
                "Expired API Key provided: {}. Application access may have been revoked.",
                masked(key)
            ),
            ..Self::unauthenticated()
        }
    }

    /// `Stripe-Account` names an account that is not connected to the platform.
    pub(super) fn no_access(account: &str) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            kind: "invalid_request_error",
            code: Some("account_invalid"),
            param: None,
            message: format!(
                "The provided key does not have access to account '{account}' (or that account does not exist). Application access may have been revoked."
            ),
        }
    }

    /// A request only the platform itself may make.
    pub(super) fn platform_only() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: None,
            param: None,
            message:
                "This request can only be made by the platform, without a Stripe-Account header."
                    .into(),
        }
    }

    /// A failure on Stripe's side (`api_error`), as an injected fault answers.
    pub fn api_error(status: StatusCode) -> Self {
        Self {
            status,
            kind: "api_error",
            code: None,
            param: None,
            message: format!(
                "Sorry, something went wrong on Stripe's end ({}). Please retry.",
                status.as_u16()
            ),
        }
    }

    /// The error's `param`, if it names one.
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for StripeError {
    fn into_response(self) -> Response {
        let mut error = json!({"type": self.kind, "message": self.message});
        if let Some(code) = self.code {
            error["code"] = json!(code);
        }
        if let Some(param) = self.param {
            error["param"] = json!(param);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

/// The answer of an injected fault: Stripe's error shape with `api_error`.
pub(super) fn fault_answer(status: StatusCode) -> Response {
    StripeError::api_error(status).into_response()
}

/// OAuth's error shape, used by `connect.stripe.com`: `{"error", "error_description"}`.
#[derive(Debug)]
pub struct OAuthError {
    pub(super) status: StatusCode,
    pub(super) error: &'static str,
    pub(super) description: String,
}

impl OAuthError {
    pub(super) fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self { status, error, description: description.into() }
    }

    pub(super) fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// `invalid_client` for a `client_id` that is not the platform's application.
    pub(super) fn no_such_application(client_id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            format!("No such application: '{client_id}'"),
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        (self.status, Json(body)).into_response()
    }
}

/// A key as Stripe echoes it in errors: its start and end only.
pub(super) fn masked(key: &str) -> String {
    let start: String = key.chars().take(8).collect();
    let end: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{start}****{end}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_errors_are_masked() {
        assert_eq!(masked("sk_test_abcdefghijklmnop"), "sk_test_****mnop");
    }

    #[test]
    fn an_unknown_parameter_is_an_invalid_request_naming_it() {
        let error = StripeError::unknown("line_items[0][prise]");
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.kind, "invalid_request_error");
        assert_eq!(error.param(), Some("line_items[0][prise]"));
        assert_eq!(error.message(), "Received unknown parameter: line_items[0][prise]");
    }
}
