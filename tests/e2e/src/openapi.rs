//! A worker's OpenAPI document as the judge of its answers: an answer's status must be
//! listed for its operation, and its JSON body must match the schema the document gives
//! for that status (JSON Schema 2020-12, as OpenAPI 3.1 says, `$ref`s resolved within
//! the document, formats such as `date-time` and `uri` checked).

use crate::Answer;
use serde_json::{json, Value};
use std::fmt;

/// One worker's OpenAPI document.
pub struct Document {
    doc: Value,
}

/// An answer that does not match what its document says.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// `METHOD /path/{template}`.
    pub operation: String,
    pub status: u16,
    pub body: Value,
    /// The document's schema for that status (its `$ref` as written), or `null`.
    pub schema: Value,
    pub problems: Vec<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} answered {} with {}\n  schema: {}\n  problems: {}",
            self.operation,
            self.status,
            self.body,
            self.schema,
            self.problems.join("; ")
        )
    }
}

/// `~` and `/` escaped, as a JSON pointer's reference token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer written as a URI fragment: characters a fragment may not hold (the
/// `{}` of path templates) percent-encoded.
fn fragment(pointer: &str) -> String {
    pointer
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Document {
    pub fn new(doc: Value) -> Self {
        assert!(
            doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")),
            "an OpenAPI 3.1 document: {}",
            doc["openapi"]
        );
        Self { doc }
    }

    /// The document a worker serves at `GET /openapi.json` (`base` is its address).
    pub async fn served_by(base: &str) -> Self {
        let answer = crate::Call::to(base, reqwest::Method::GET, "/openapi.json").send().await;
        assert_eq!(answer.status, 200, "{base}/openapi.json: {}", answer.body);
        Self::new(answer.body)
    }

    /// Every operation: `(method in upper case, path template)`.
    pub fn operations(&self) -> Vec<(String, String)> {
        let paths = self.doc["paths"].as_object().expect("paths");
        let mut operations = vec![];
        for (path, item) in paths {
            for method in ["get", "put", "post", "delete", "patch"] {
                if item.get(method).is_some() {
                    operations.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        operations
    }

    /// Checks `answer` to `method path` (`path` as the document writes it, with its
    /// `{parameters}`) against the document.
    pub fn check(&self, method: &str, path: &str, answer: &Answer) -> Result<(), Mismatch> {
        let status = answer.status.as_u16();
        let mismatch = |schema: Value, problems: Vec<String>| Mismatch {
            operation: format!("{method} {path}"),
            status,
            body: answer.body.clone(),
            schema,
            problems,
        };
        let operation = format!("/paths/{}/{}", escape(path), method.to_lowercase());
        let Some(responses) = self.doc.pointer(&format!("{operation}/responses")) else {
            return Err(mismatch(Value::Null, vec!["the document has no such operation".into()]));
        };
        let status_key = status.to_string();
        let range_key = format!("{}XX", status / 100);
        let Some(key) = [status_key.as_str(), range_key.as_str(), "default"]
            .into_iter()
            .find(|k| responses.get(*k).is_some())
        else {
            return Err(mismatch(Value::Null, vec![format!("status {status} is not documented")]));
        };
        let mut response = format!("{operation}/responses/{}", escape(key));
        if let Some(target) = self.doc.pointer(&format!("{response}/$ref")) {
            let target = target.as_str().expect("a $ref is a string");
            response = target.strip_prefix('#').expect("a $ref within the document").to_string();
        }
        let Some(content) = self.doc.pointer(&format!("{response}/content")) else {
            return if answer.body.is_null() {
                Ok(())
            } else {
                Err(mismatch(Value::Null, vec!["a body where the document lists none".into()]))
            };
        };
        let Some(schema) = content.get("application/json").and_then(|c| c.get("schema")) else {
            return Err(mismatch(content.clone(), vec!["no application/json schema".into()]));
        };
        let pointer = format!("{response}/content/application~1json/schema");
        let mut root = self.doc.clone();
        root["$ref"] = json!(format!("#{}", fragment(&pointer)));
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("the schema at {pointer} does not compile: {e}"));
        let problems: Vec<String> = validator
            .iter_errors(&answer.body)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(mismatch(schema.clone(), problems))
        }
    }
}

/// The answers that did not match, each once per operation, status and error code.
#[derive(Default)]
pub struct Findings {
    checked: usize,
    mismatches: Vec<Mismatch>,
}

impl Findings {
    pub fn check(&mut self, doc: &Document, method: &str, path: &str, answer: &Answer) {
        self.checked += 1;
        if let Err(m) = doc.check(method, path, answer) {
            self.mismatches.push(m);
        }
    }

    /// Asserts that at least `min_checked` answers were checked and that exactly the
    /// `known` mismatches (`(operation, status, error code)`) were found: one fixed in
    /// the worker or the document must leave this list too.
    #[track_caller]
    pub fn assert_only(&self, min_checked: usize, known: &[(&str, u16, &str)]) {
        assert!(
            self.checked >= min_checked,
            "only {} answers were checked, fewer than {min_checked}",
            self.checked
        );
        let key = |m: &Mismatch| {
            (
                m.operation.clone(),
                m.status,
                m.body["error"]["code"].as_str().unwrap_or("").to_string(),
            )
        };
        let mut found: Vec<_> = self.mismatches.iter().map(key).collect();
        found.sort();
        found.dedup();
        let mut expected: Vec<_> =
            known.iter().map(|(o, s, c)| (o.to_string(), *s, c.to_string())).collect();
        expected.sort();
        let report: Vec<String> = self.mismatches.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            found,
            expected,
            "answers that do not match the document:\n{}",
            report.join("\n")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn api() -> Document {
        let text = include_str!("../../../workers/api/src/openapi.json");
        Document::new(serde_json::from_str(text).expect("JSON"))
    }

    fn answer(status: u16, body: Value) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).expect("a status"),
            headers: Default::default(),
            body,
        }
    }

    fn usage() -> Value {
        json!({"count": 1, "limit": 5, "remaining": 4, "periodStart": "2026-11-01T00:00:00Z",
               "periodEnd": "2026-12-01T00:00:00Z", "resetsAt": "2026-12-01T00:00:00Z"})
    }

    #[test]
    fn an_answer_as_documented_passes_through_refs_and_templated_paths() {
        let doc = api();
        let tracked = json!({"allowed": true, "userId": "u1", "plan": "free", "usage": usage()});
        assert!(doc.check("POST", "/v1/usage/track", &answer(200, tracked)).is_ok());
        let read = json!({"userId": "u1", "plan": "free", "usage": usage()});
        assert!(doc.check("GET", "/v1/usage/{userId}", &answer(200, read)).is_ok());
        let bad = json!({"error": {"code": "invalid_request", "message": "userId is required"}});
        assert!(doc.check("POST", "/v1/usage/track", &answer(400, bad)).is_ok());
    }

    #[test]
    fn a_missing_field_a_wrong_format_a_wrong_code_or_an_unlisted_status_is_a_mismatch() {
        let doc = api();
        let no_usage = json!({"allowed": true, "userId": "u1", "plan": "free"});
        let m = doc.check("POST", "/v1/usage/track", &answer(200, no_usage)).expect_err("usage");
        assert_eq!((m.operation.as_str(), m.status), ("POST /v1/usage/track", 200));
        let mut late = usage();
        late["resetsAt"] = json!("next month");
        let read = json!({"userId": "u1", "plan": "free", "usage": late});
        assert!(doc.check("GET", "/v1/usage/{userId}", &answer(200, read)).is_err(), "date-time");
        let wrong = json!({"error": {"code": "conflict", "message": "no"}});
        assert!(doc.check("POST", "/v1/usage/track", &answer(400, wrong)).is_err(), "the code");
        let teapot = json!({"error": {"code": "internal", "message": "no"}});
        let m = doc.check("GET", "/v1/tiers", &answer(418, teapot)).expect_err("unlisted");
        assert!(m.problems[0].contains("not documented"), "{m}");
        assert!(doc.check("GET", "/v1/nowhere", &answer(200, json!({}))).is_err());
    }
}
